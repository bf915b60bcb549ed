"""Rule external_tables: the evaluation tables of the external cohort (bundle's cutoffs)."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.external.apply import write_external_tables
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
write_external_tables(read_table(snakemake.input.predictions), snakemake.input.bundle,
                      Path(snakemake.output[0]).parent, list(snakemake.output.keys()))
