"""Clinical predictors: univariable and multivariable logistic regression, three strategies.

Coding of the clinical variables (the config's ``clinical.variables``)
-------------------------------------------------------------------------
* ``continuous``: as is (odds ratio per unit, e.g. per year, per mm, per % Ki-67);
* ``binary``: 0/1 as is;
* ``ordinal``: chosen per variable by its ``coding`` (default ``linear``):

  - ``linear``: as a number (one odds ratio per step), e.g. ``grade`` (1-3) and
    ``aln_us_class`` (ALN ultrasound morphologic class 1-6): a linear trend on the logit;
  - ``categorical``: one dummy per level after the first of its ``levels`` (the first is
    the reference), term ``<name>[<level>]``: no trend assumed, one odds ratio per level;
  - ``{threshold: k}``: one 0/1 term ``<name>>=k`` (value >= k vs < k), e.g. ALN class
    5-6 (suspicious) vs 1-4 with ``{threshold: 5}``;
* ``categorical``: one-hot dummies, the FIRST level of the config's ``levels`` is the
  reference (e.g. ``subtype``: luminal_a).

Predictor strategies (config ``models.clinical_strategy``, :class:`ClinicalSettings`)
--------------------------------------------------------------------------------------
``p_value`` (the default, as the published studies did)
    1. univariable logistic regression of each variable (complete cases of that variable);
       a variable enters when its p-value < ``entry_p`` (Wald test; joint Wald chi-square
       over its terms for a variable with several terms);
    2. ONE multivariable logistic regression of all entered variables; the independent
       predictors are those with multivariable p < ``retention_p``.
    Nothing is forced in: when no variable enters (or none is retained) the strategy
    selects NO predictor, the table's ``note`` says "no predictor passed ..." and the
    clinical model is **intercept-only** (every patient gets the training prevalence:
    AUC 0.5), which the model card and the level's log say; the combined model is then
    the Rad-score alone.
``prespecified``
    Every declared variable, no selection: one multivariable logistic regression.
``penalized``
    One logistic regression of every declared variable with an L1 (``l1_ratio`` 1, the
    LASSO) or elastic-net penalty on the z-scored terms, its strength chosen by stratified
    ``cv_folds``-fold CV of the log-loss on the training rows
    (:class:`~sklearn.linear_model.LogisticRegressionCV`, saga); the predictors are the
    variables with a non-zero coefficient and the clinical model is that penalized fit
    (coefficients back on the variables' own scale, no Wald SE). The combined model is the
    unpenalized logistic regression of the Rad-score and those predictors.

Every strategy runs on numeric arrays (:class:`CodedData`, :func:`select_predictors`), so
the bootstrap of :mod:`alnburden.modeling.optimism` repeats the very same selection inside
each resample.

Warnings of the clinical table
------------------------------
* **EPV**, events per candidate parameter: ``min(events, non-events) / p`` with ``p`` the
  number of design terms of every declared variable (a categorical variable with 4 levels
  counts 3). Below 10 a warning is logged and the ``note`` column says so (Riley et al.,
  BMJ 2020;368:m441, for why 10 is a floor, not a target).
* **VIF** of each term among all candidate terms (complete cases): ``1 / (1 - R^2)`` of the
  term regressed on the others, i.e. the diagonal of the inverse correlation matrix; above 5
  a warning and a note.

Separation
----------
Logistic fits are Newton-Raphson with step halving (the same estimates as statsmodels'
``Logit``, tested). When maximum likelihood fails (perfect or quasi-complete separation,
non-convergence, a singular information matrix or a coefficient with |b| > 15), the model is
refitted by Firth's bias-reduced penalised likelihood (Firth 1993, Biometrika 80:27; Heinze
& Schemper 2002), which gives finite estimates; Wald SEs come from the penalised information
matrix. The table's ``method`` column says ``firth`` for such fits and a warning names the
variable(s).

Missing values
--------------
Univariable fits use the complete cases of each variable; multivariable fits the complete
cases of the entered variables. :class:`LogisticModel` (the persisted clinical and
combined models) fills a missing value at prediction time with the training median
(continuous, linear or threshold ordinal) or the training mode (binary, categorical,
categorical ordinal), fitted on train.

Modules
-------
One job each, in import order: :mod:`.settings` (the strategies and their parameters),
:mod:`.coding` (variables as numbers, :class:`CodedData`), :mod:`.logit` (maximum-likelihood
and Firth fits, Wald tests), :mod:`.model` (:class:`LogisticModel`), :mod:`.strategies`
(:func:`select_predictors`), :mod:`.diagnostics` (EPV, VIF), :mod:`.tables` (univariable,
multivariable and publication tables) and :mod:`.arm` (:func:`select_clinical_predictors`, the
clinical arm of one level). The names below are the package's public API.
"""

from alnburden.modeling.clinical.arm import ClinicalFit, select_clinical_predictors
from alnburden.modeling.clinical.coding import (CodedData, coding_of, design_matrix,
                                                variable_terms)
from alnburden.modeling.clinical.diagnostics import EPV_MIN, VIF_MAX, epv, vif
from alnburden.modeling.clinical.logit import fit_logit
from alnburden.modeling.clinical.model import LogisticModel
from alnburden.modeling.clinical.settings import STRATEGIES, ClinicalSettings
from alnburden.modeling.clinical.strategies import Selection, select_predictors
from alnburden.modeling.clinical.tables import (clinical_table, multivariable_logistic,
                                                univariable_logistic, write_clinical_table)

__all__ = ["STRATEGIES", "ClinicalSettings", "CodedData", "Selection", "coding_of",
           "variable_terms", "design_matrix", "fit_logit", "univariable_logistic",
           "multivariable_logistic", "select_predictors", "select_clinical_predictors",
           "clinical_table", "epv", "vif", "write_clinical_table", "LogisticModel",
           "ClinicalFit", "EPV_MIN", "VIF_MAX"]
