"""Rule robustness_shard: features on perturbed images of this shard's ICC (training) patients."""

from typing import TYPE_CHECKING

from alnburden.extraction.robustness import extract_robustness_shard
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
extract_robustness_shard(
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    shard=int(snakemake.wildcards.shard),
    n_shards=snakemake.params.n_shards,
    params_path=snakemake.input.params,
    out_path=snakemake.output.features,
    perturbations_path=snakemake.output.perturbations,
    peritumoral_mm=snakemake.params.peritumoral_mm,
    components=snakemake.params.components,
    fast_glcm=snakemake.params.fast_glcm,
    progress_logger=log,
    **snakemake.params.robustness,
)
