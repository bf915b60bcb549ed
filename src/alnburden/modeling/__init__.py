"""Modelling stage (``workflow/rules/models.smk``): one job per level, everything fitted on the
level's training rows only.

Modules: :mod:`~alnburden.modeling.selection` (train-only feature selection steps),
:mod:`~alnburden.modeling.learners` (the learner registry), :mod:`~alnburden.modeling.clinical`
(clinical predictors, logistic models), :mod:`~alnburden.modeling.level_fit` (the whole fit of
one level), :mod:`~alnburden.modeling.persistence` (saving, loading, applying models),
:mod:`~alnburden.modeling.nomogram` (points of a fitted logistic model).
"""
