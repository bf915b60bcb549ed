"""Rule summary: our numbers beside the published ones (results/summary.md)."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging
from alnburden.evaluation.summary import write_summary
from alnburden.extraction.robustness import features_summary_lines

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
inputs = snakemake.input
write_summary(
    read_table(inputs.performance),
    read_table(inputs.subgroups) if "subgroups" in inputs.keys() else None,
    snakemake.params.published,
    snakemake.output[0],
    simulated=snakemake.params.simulated,
    manifest=snakemake.params.manifest,
    title=snakemake.params.study,
    level_labels=snakemake.params.level_labels,
    cascade_metrics=read_table(inputs.cascade) if "cascade" in inputs.keys() else None,
    delong=read_table(inputs.delong) if "delong" in inputs.keys() else None,
    cascade_model=snakemake.params.cascade_model,
    skipped=snakemake.params.skipped,
    features=features_summary_lines(
        read_table(inputs.icc), read_table(inputs.discretisation),
        read_table(inputs.perturbations) if "perturbations" in inputs.keys() else None,
    ) if "icc" in inputs.keys() else (),
)
