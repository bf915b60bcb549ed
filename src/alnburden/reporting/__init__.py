"""Reporting: what a run hands to authors and clinicians, built from the run's own files.

The top stage of the package (it may import every stage below it):

* :mod:`alnburden.reporting.checklists`: the TRIPOD+AI and CLEAR checklists (item lists as
  package data, ``tripod_ai.yaml`` and ``clear.yaml``) filled from the run's files by the
  fillers of :mod:`alnburden.reporting.fillers`;
* :mod:`alnburden.reporting.calculator`: one self-contained HTML risk calculator per level,
  from the level's logistic model and the nomogram's points arithmetic.
"""
