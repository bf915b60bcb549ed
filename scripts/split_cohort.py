"""Rule split_cohort: the study's train/test split (stratified random, user-given or grouped)."""

from typing import TYPE_CHECKING

from alnburden.cohort.split import make_split
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
split = make_split(
    read_table(snakemake.input.cohort),
    snakemake.params.split,
    levels=snakemake.params.levels,  # stratify by their labels when there are no node counts
)
split.to_csv(snakemake.output.split, index=False, lineterminator="\n")
log.info("split: %s", split["set"].value_counts().to_dict())
