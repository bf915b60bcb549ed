"""Rules robustness_shard and readers_shard: the features of this shard's training patients
measured a second time, on perturbed masks (robustness_shard: the ICC patients) or on the
second reader's masks (readers_shard: the patients with a mask_reader2)."""

from typing import TYPE_CHECKING

from alnburden.extraction.robustness import extract_readers_shard, extract_robustness_shard
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
output, params = snakemake.output, snakemake.params
shard = dict(
    cohort=read_table(snakemake.input.cohort),
    split=read_table(snakemake.input.split),
    shard=int(snakemake.wildcards.shard),
    n_shards=params.n_shards,
    params_path=snakemake.input.params,
    out_path=output.features,
    peritumoral_mm=params.peritumoral_mm,
    components=params.components,
    fast_glcm=params.fast_glcm,
    progress_logger=log,
)
if "dice" in output.keys():  # readers_shard
    extract_readers_shard(**shard, dice_path=output.dice)
else:
    extract_robustness_shard(**shard, perturbations_path=output.perturbations,
                             **params.robustness)
