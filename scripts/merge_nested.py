"""Rule merge_nested: a level's outer folds as its `nested` predictions, and each repeat's AUC."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging, write_table
from alnburden.modeling.nested import merge_nested, nested_repeat_aucs
from alnburden.modeling.predictions import write_predictions

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
folds = [read_table(p) for p in snakemake.input]
merged = merge_nested(folds)
write_predictions(merged, snakemake.output.predictions)
repeats = nested_repeat_aucs(folds)
write_table(repeats, snakemake.output.repeats,
            title=f"{snakemake.wildcards.level}: nested cross-validation AUC of each repeat")
log.info("%d nested rows; AUC per repeat: %s", len(merged),
         repeats[["model", "repeat", "auc"]].to_dict(orient="records"))
