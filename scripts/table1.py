"""Rule table1: baseline characteristics, train vs test and by each level's label."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging, write_table
from alnburden.levels import levels_from_config
from alnburden.cohort.table1 import baseline_table

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
table = baseline_table(
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    variables=snakemake.params.variables,
    levels=levels_from_config({"levels": snakemake.params.levels}),
)
write_table(table, snakemake.output.csv, snakemake.output.md, title="Table 1. Baseline characteristics")
