"""Rule merge_predictions: the levels' predictions in one long table, the evaluation's only input."""

from typing import TYPE_CHECKING

import pandas as pd

from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
pred = pd.concat([read_table(p) for p in snakemake.input], ignore_index=True)
pred.to_csv(snakemake.output[0], index=False, lineterminator="\n", float_format="%.10g")
log.info("%d prediction rows: %s", len(pred), pred.groupby(["level", "set"]).size().to_dict())
