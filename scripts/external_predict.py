"""Rule external_predict: the frozen models applied to the external cohort (set = external),
after its features are checked against the bundle."""

import json
from typing import TYPE_CHECKING

from alnburden.external.apply import predict_external
from alnburden.external.contract import ContractError
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
with open(snakemake.input.contract) as fh:
    contract = json.load(fh)
try:
    pred, accepted = predict_external(
        snakemake.input.bundle, read_table(snakemake.input.cohort),
        snakemake.input.get("features"), contract, snakemake.params.allow_mismatch)
except ContractError as err:
    log.error("%s", err)
    raise SystemExit(str(err)) from None
pred.to_csv(snakemake.output.predictions, index=False, lineterminator="\n", float_format="%.17g")
with open(snakemake.output.check, "w") as fh:
    json.dump({"accepted": accepted}, fh, indent=2)
log.info("%d external prediction rows", len(pred))
