"""Rule sample_size: Riley et al. minimum sample size of each level's combined model."""

from typing import TYPE_CHECKING

from alnburden.evaluation.sample_size import sample_size_table
from alnburden.io import read_table, setup_logging, write_table

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
write_table(
    sample_size_table(read_table(snakemake.input.predictions), snakemake.params.variables,
                      snakemake.params.levels),
    snakemake.output.csv,
    title="Minimum sample size (Riley et al. 2020) of each level's combined model",
)
