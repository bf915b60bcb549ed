"""Rule subgroups_forest: forest plot of AUC by Ki-67 subgroup."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging
from alnburden.figures.plots import plot_subgroups_forest

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_subgroups_forest(read_table(snakemake.input.subgroups), snakemake.output.png)
