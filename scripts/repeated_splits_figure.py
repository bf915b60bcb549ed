"""Rule repeated_splits_figure: a level's test AUCs over the repeated random splits."""

from typing import TYPE_CHECKING

from alnburden.figures.repeats import plot_repeated_splits
from alnburden.figures.style import level_title
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_repeated_splits(
    read_table(snakemake.input.aucs),
    read_table(snakemake.input.table),
    snakemake.wildcards.level,
    snakemake.output.png,
    level_title(snakemake.wildcards.level, snakemake.params.level_label),
)
