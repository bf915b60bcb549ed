"""Rule cascade_figure: heatmap of the hierarchical cascade's confusion matrix."""

from typing import TYPE_CHECKING

from alnburden.figures.cascade import plot_cascade
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_cascade(read_table(snakemake.input.confusion), snakemake.output.png,
             metrics=read_table(snakemake.input.metrics))
