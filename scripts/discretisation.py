"""Rule discretisation: grey levels per image type and region over the training patients."""

from typing import TYPE_CHECKING

from alnburden.extraction.discretisation import write_discretisation
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
write_discretisation(
    snakemake.input.grey_levels,
    read_table(snakemake.input.split),
    snakemake.output.table,
    progress_logger=log,
)
