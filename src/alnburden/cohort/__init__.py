"""Cohort stage (``workflow/rules/cohort.smk``): the user's manifest checked and typed, the
train/test split, Table 1.

Modules: :mod:`~alnburden.cohort.manifest` (row schema, clinical values, labels, the one
validation report), :mod:`~alnburden.cohort.files` (each image/mask pair on disk),
:mod:`~alnburden.cohort.split` (stratified or user-given split), :mod:`~alnburden.cohort.table1`
(baseline characteristics).
"""
