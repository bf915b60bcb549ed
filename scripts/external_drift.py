"""Rule external_drift: drift of the external cohort from the bundle's training summaries."""

from typing import TYPE_CHECKING

from alnburden.external.drift import drift_report
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
drift_report(snakemake.input.bundle, read_table(snakemake.input.cohort),
             snakemake.input.get("features"), snakemake.params.drift,
             csv_path=snakemake.output.csv, figure_path=snakemake.output.figure)
