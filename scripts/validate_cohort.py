"""Rule validate_cohort: check the manifest and every file it names; write cohort.csv.

The validation report is written on success (empty) and on failure; on failure the rule
stops with the readable message naming every bad row.
"""

from typing import TYPE_CHECKING

from alnburden.cohort.manifest import CohortValidationError, validate_manifest
from alnburden.io import setup_logging
from alnburden.levels import levels_from_config

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
try:
    cohort = validate_manifest(
        snakemake.input.manifest,
        variables=snakemake.params.variables,
        levels=levels_from_config({"levels": snakemake.params.levels}),
        schema=snakemake.input.schema,
        report_path=snakemake.params.report,
        **snakemake.params.validation,
        **snakemake.params.split_columns,
    )
except CohortValidationError as err:
    log.error("%s", err)
    raise SystemExit(f"{err}\n(full report: {snakemake.params.report})") from None
cohort.to_csv(snakemake.output.cohort, index=False, lineterminator="\n")
log.info("validated %d patients", len(cohort))
