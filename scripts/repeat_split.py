"""Rule repeat_split: the random train/test split of one repeat of split.repeats."""

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
    levels=snakemake.params.levels,
    repeat=int(snakemake.wildcards.repeat),  # seed derived from split.seed and the repeat
)
split.to_csv(snakemake.output.split, index=False, lineterminator="\n")
log.info("repeat %s: %s", snakemake.wildcards.repeat, split["set"].value_counts().to_dict())
