"""Evaluation stage (``workflow/rules/evaluation.smk``): numbers computed from
``results/predictions.csv`` only.

Modules: :mod:`~alnburden.evaluation.tables` (performance, DeLong, calibration, DCA,
reclassification, Ki-67 subgroups), :mod:`~alnburden.evaluation.registry` (one entry per
table, read by the rules and the report), :mod:`~alnburden.evaluation.curves` (the curves the
figures draw: ROC with bands, calibration), :mod:`~alnburden.evaluation.cascade` (the
hierarchical cascade), :mod:`~alnburden.evaluation.summary` (``results/summary.md``). The
statistics themselves are in :mod:`alnburden.stats`.
"""
