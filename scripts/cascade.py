"""Rule cascade: level 1 then level 2 on the test set -> N0 / N1-2 / N>=3 confusion matrix."""

from typing import TYPE_CHECKING

from alnburden.evaluation.cascade import cascade_predictions, cascade_table
from alnburden.io import read_table, setup_logging, write_table

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
level1, level2 = snakemake.params.levels
cascade = cascade_predictions(
    read_table(snakemake.input.predictions),
    level1=level1, level2=level2, model=snakemake.params.model, cutoffs=snakemake.params.cutoff,
)
confusion, metrics = cascade_table(cascade)
write_table(confusion, snakemake.output.confusion, title="Hierarchical cascade (test set)")
write_table(metrics, snakemake.output.metrics, title="Hierarchical cascade: agreement")
