"""External validation: a frozen, portable model bundle applied to a new centre's cohort.

* :mod:`~alnburden.external.bundle` writes, reads and verifies the bundle a study leaves
  (``results/bundle/`` and ``results/bundle.zip``);
* :mod:`~alnburden.external.contract` checks an external manifest and its features against
  the bundle's contract before anything is predicted;
* :mod:`~alnburden.external.apply` applies the frozen models (nothing is refitted) and
  evaluates the ``external`` set;
* :mod:`~alnburden.external.drift` compares the external cohort with the training summaries;
* :mod:`~alnburden.external.recalibration` fits, on the external labels, the updates reported
  beside (never instead of) the frozen model;
* :mod:`~alnburden.external.summary` writes ``results/external/<name>/summary.md``.
"""
