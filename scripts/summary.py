"""Rule summary: our numbers beside the published ones (results/summary.md).

The summary is the list of its sections, in order; each stage's module writes its own.
"""

from typing import TYPE_CHECKING

from alnburden.evaluation import summary as sm
from alnburden.evaluation.internal_validation import internal_validation_summary
from alnburden.evaluation.repeats import repeated_splits_lines
from alnburden.evaluation.sample_size import sample_size_lines
from alnburden.extraction.robustness import features_summary_lines
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params


def optional(role: str):
    """The input table of ``role``, or None when the design does not have it."""
    return read_table(inputs[role]) if role in inputs.keys() else None


perf, subgroups = read_table(inputs.performance), optional("subgroups")
labels = params.level_labels
sm.write_summary([
    sm.header_section(params.study, params.simulated, params.manifest,
                      compared=bool(params.published)),
    sm.comparison_section(perf, subgroups, params.published, labels),
    sm.performance_section(perf, labels),
    sm.internal_validation_section(perf, labels, params.nested),
    sm.delong_section(optional("delong"), labels),
    sm.subgroup_section(subgroups, labels),
    sm.cascade_section(optional("cascade"), params.cascade_model),
    features_summary_lines(optional("icc"), optional("discretisation"),
                           optional("perturbations")) if "icc" in inputs.keys() else [],
    internal_validation_summary(optional("internal_validation")),
    sample_size_lines(optional("sample_size"), labels),
    repeated_splits_lines(optional("repeated_splits"), labels),
    sm.skipped_section(params.skipped),
], snakemake.output[0])
