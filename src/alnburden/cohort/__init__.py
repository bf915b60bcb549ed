"""Cohort stage (``workflow/rules/cohort.smk``): the user's manifest checked and typed, the
train/test split, Table 1.

Modules: :mod:`~alnburden.cohort.manifest` (:func:`validate_manifest`, the top level of the
validation) and its steps: :mod:`~alnburden.cohort.config` (the config's clinical variables
and levels), :mod:`~alnburden.cohort.manifest_file` (reading the CSV or .xlsx, its dialect),
:mod:`~alnburden.cohort.row_schema` (the JSON schema of a row), :mod:`~alnburden.cohort.values`
(cell values and the typed cohort), :mod:`~alnburden.cohort.checks` (columns, rows, ids,
labels, files), :mod:`~alnburden.cohort.files` (each image/mask pair on disk, read through
:mod:`alnburden.io.images`) and :mod:`~alnburden.cohort.report` (the one validation report);
then :mod:`~alnburden.cohort.split` (stratified split) and :mod:`~alnburden.cohort.table1`
(baseline characteristics).
"""
