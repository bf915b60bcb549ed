"""What one run did, read from its own files: the fillers of the reporting checklists.

A checklist item (``tripod_ai.yaml``, ``clear.yaml``) may name a **filler**: a function of
:data:`FILLERS` that takes the run (:class:`RunRecord`) and returns a :class:`Filled`: the
text of what this run did, the files that show it (``evidence``) and the numbers the text
states (``facts``, which the tests check against the run's files). A filler reads only the
files the ``checklists`` rule hands it (:attr:`RunRecord.files`, by role) and the run's
config; files that only some designs or some workflow versions write (nested
cross-validation, sample size, SHAP, the model bundle, external validation) are read when
they are there and named as absent otherwise, so those items fill themselves in when the
parts that write them are present.

Roles (the keys of the rule's inputs): ``cohort``, ``split``, ``table1``, ``predictions``,
``performance``, ``calibration``, ``dca`` and, when the design has them, ``auc_delong``,
``subgroups``, ``reclassification``, ``cascade_metrics``, ``features``, ``icc``,
``params``; per level ``card_<level>``, ``selected_<level>``, ``learners_<level>``,
``clinical_<level>``, ``nomogram_<level>``, ``calculator_<level>``, ``shap_<level>``; and
``internal_validation``, ``sample_size``, ``bundle``, ``repeated_splits``.

The fillers are grouped by the kind of fact they state, one module each: :mod:`.study`
(outline, objectives, limitations), :mod:`.cohort` (source, eligibility, size, missing data,
flow), :mod:`.predictors`, :mod:`.radiomics`, :mod:`.models`, :mod:`.validation` (the split and
the test set, worded by :mod:`.split` from the split the run used), :mod:`.results` and
:mod:`.software` (versions). Below them sit the run
(:mod:`.record`: :class:`RunRecord`, :class:`Filled`, the registry), the counts of its tables
(:mod:`.counts`), facts several fillers share (:mod:`.run_facts`) and the wording of numbers
and lists (:mod:`.phrases`). Importing this package registers every filler.
"""

from alnburden.reporting.fillers import (cohort, models, predictors, radiomics,  # noqa: F401
                                         results, software, study, validation)
from alnburden.reporting.fillers.counts import level_counts, missing_counts, set_counts
from alnburden.reporting.fillers.radiomics import (discretisation_settings, feature_class_counts,
                                                   region_counts)
from alnburden.reporting.fillers.record import FILLERS, Filled, RunRecord, filler

__all__ = ["Filled", "RunRecord", "FILLERS", "filler", "level_counts", "set_counts",
           "missing_counts", "discretisation_settings", "feature_class_counts", "region_counts"]
