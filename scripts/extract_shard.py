"""Rule extract_shard: pyradiomics features (intratumoral + peritumoral rings) of one shard, and their grey levels."""

from typing import TYPE_CHECKING

from alnburden.extraction.shards import extract_shard
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
extract_shard(
    read_table(snakemake.input.cohort),
    shard=int(snakemake.wildcards.shard),
    n_shards=snakemake.params.n_shards,
    params_path=snakemake.input.params,
    out_path=snakemake.output.features,
    peritumoral_mm=snakemake.params.peritumoral_mm,
    components=snakemake.params.components,
    fast_glcm=snakemake.params.fast_glcm,
    progress_logger=log,
    grey_levels_path=snakemake.output.grey_levels,
)
