"""Rule external_summary: results/external/<name>/summary.md."""

from typing import TYPE_CHECKING

from alnburden.external.summary import write_external_summary
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
inp = snakemake.input
write_external_summary(
    snakemake.output[0], snakemake.wildcards.cohort, inp.bundle, inp.contract,
    read_table(inp.predictions), read_table(inp.drift),
    performance=read_table(inp.performance) if "performance" in inp.keys() else None,
    recalibration=read_table(inp.recalibration) if "recalibration" in inp.keys() else None,
    drift_cfg=snakemake.params.drift, manifest=snakemake.params.manifest,
    features_check_path=inp.check)
