"""Rule subgroups_forest: forest plot of AUC by Ki-67 subgroup."""

from typing import TYPE_CHECKING

from alnburden.figures.forest import plot_subgroups_forest
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_subgroups_forest(read_table(snakemake.input.subgroups), snakemake.output.png,
                      level_labels=snakemake.params.level_labels)
