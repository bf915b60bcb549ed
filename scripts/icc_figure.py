"""Rule icc_figure: ICC distribution per image type and feature class, with the threshold."""

from typing import TYPE_CHECKING

from alnburden.figures.robustness import plot_icc_distribution
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_icc_distribution(read_table(snakemake.input.icc), snakemake.output.png,
                      threshold=snakemake.params.threshold, keep_on=snakemake.params.keep_on,
                      icc_form=snakemake.params.icc)
