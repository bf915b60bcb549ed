"""Rule validate_cohort: check the manifest and every file it names; write cohort.csv."""

from typing import TYPE_CHECKING

from alnburden.cohort import CohortValidationError, validate_manifest, write_validation_report
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
        **snakemake.params.validation,
    )
except CohortValidationError as err:
    write_validation_report(err.report, snakemake.params.report)
    log.error("%s", err)
    raise SystemExit(f"{err}\n(full report: {snakemake.params.report})") from None
write_validation_report(None, snakemake.params.report)
cohort.to_csv(snakemake.output.cohort, index=False, lineterminator="\n")
log.info("validated %d patients", len(cohort))
