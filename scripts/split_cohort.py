"""Rules split_cohort and repeat_split: the study's train/test split (stratified random,
user-given or grouped), or the random split of one repeat of split.repeats (the rule's
``repeat`` wildcard)."""

from typing import TYPE_CHECKING

from alnburden.cohort.split import make_split
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
repeat = snakemake.wildcards.get("repeat")
split = make_split(
    read_table(snakemake.input.cohort),
    snakemake.params.split,
    levels=snakemake.params.levels,  # stratify by their labels when there are no node counts
    repeat=None if repeat is None else int(repeat),  # seed derived from split.seed and repeat
)
split.to_csv(snakemake.output.split, index=False, lineterminator="\n")
if repeat is None:
    log.info("split: %s", split["set"].value_counts().to_dict())
else:
    log.info("repeat %s: %s", repeat, split["set"].value_counts().to_dict())
