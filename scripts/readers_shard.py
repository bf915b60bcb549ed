"""Rule readers_shard: features on both readers' masks of this shard's training patients with a mask_reader2."""

from typing import TYPE_CHECKING

from alnburden.extraction.robustness import extract_readers_shard
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
extract_readers_shard(
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    shard=int(snakemake.wildcards.shard),
    n_shards=snakemake.params.n_shards,
    params_path=snakemake.input.params,
    out_path=snakemake.output.features,
    dice_path=snakemake.output.dice,
    peritumoral_mm=snakemake.params.peritumoral_mm,
    components=snakemake.params.components,
    fast_glcm=snakemake.params.fast_glcm,
    progress_logger=log,
)
