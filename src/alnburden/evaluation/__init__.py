"""Evaluation stage (``workflow/rules/evaluation.smk``): tables computed from
``results/predictions.csv`` only.

Modules: :mod:`~alnburden.evaluation.tables` (performance, DeLong, calibration, DCA,
reclassification, Ki-67 subgroups), :mod:`~alnburden.evaluation.cascade` (the hierarchical
cascade), :mod:`~alnburden.evaluation.summary` (``results/summary.md``). The statistics
themselves are in :mod:`alnburden.stats`.
"""
