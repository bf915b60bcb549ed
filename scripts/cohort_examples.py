"""Rule cohort_examples: a grid of example images with mask outlines per nodal class."""

from typing import TYPE_CHECKING

from alnburden.figures.cohort_examples import plot_cohort_examples
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_cohort_examples(
    snakemake.input.cohort,
    snakemake.output.png,
    levels=snakemake.params.levels,  # rows by the first level's label without node counts
    level_label=snakemake.params.level_label,
    simulated=snakemake.params.simulated,
)
