"""Rule external_cohort: the external manifest and extraction settings checked against the
bundle's contract (every bad row named) before anything is extracted or predicted."""

import json
from typing import TYPE_CHECKING

from alnburden.cohort.manifest import CohortValidationError
from alnburden.external.contract import ContractError, prepare_external_cohort
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
try:
    cohort, contract = prepare_external_cohort(
        snakemake.input.manifest, snakemake.input.bundle, snakemake.input.get("params"),
        allow_mismatch=snakemake.params.allow_mismatch, report_path=snakemake.params.report,
        validation=snakemake.params.validation)
except (CohortValidationError, ContractError) as err:
    log.error("%s", err)
    raise SystemExit(str(err)) from None
cohort.to_csv(snakemake.output.cohort, index=False, lineterminator="\n")
with open(snakemake.output.contract, "w") as fh:
    json.dump(contract, fh, indent=2, sort_keys=True)
log.info("external cohort: %d patients, labelled=%s", len(cohort), contract["labelled"])
