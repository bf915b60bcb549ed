"""Rule summary: our numbers beside the published ones (results/summary.md)."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging
from alnburden.evaluation.internal_validation import internal_validation_summary
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
    nested_expected=snakemake.params.nested,
    extra=internal_validation_summary(read_table(inputs.internal_validation))
    if "internal_validation" in inputs.keys() else (),
    sample_size=read_table(inputs.sample_size) if "sample_size" in inputs.keys() else None,
    repeated_splits=(read_table(inputs.repeated_splits)
                     if "repeated_splits" in inputs.keys() else None),
    features=features_summary_lines(
        read_table(inputs.icc), read_table(inputs.discretisation),
        read_table(inputs.perturbations) if "perturbations" in inputs.keys() else None,
    ) if "icc" in inputs.keys() else (),
)
