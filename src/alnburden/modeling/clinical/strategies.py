"""The predictor strategies (``p_value``, ``prespecified``, ``penalized``) on numeric data:
:func:`select_predictors`, the one implementation the level fit and the bootstrap share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from alnburden.modeling.clinical.coding import CodedData
from alnburden.modeling.clinical.logit import fit_arrays, wald_p
from alnburden.modeling.clinical.model import LogisticModel
from alnburden.modeling.clinical.settings import ClinicalSettings


def _varies(col: np.ndarray) -> bool:
    c = col[~np.isnan(col)]
    return c.size > 0 and float(c.max() - c.min()) > 0


def _complete_fit(data: CodedData, y: np.ndarray, names: Sequence[str], label: str):
    """Fit the variables ``names`` on their complete cases; constant columns dropped.

    Returns ``(params, cov, method, cols, n, events)`` with ``cols`` the design columns kept
    (intercept first in ``params``), or None when no column varies or one class is left.
    """
    cols = data.columns(names)
    D = data.design[:, cols]
    ok = ~np.isnan(D).any(axis=1) & ~np.isnan(y)
    D, yy = D[ok], y[ok]
    keep = np.array([np.ptp(D[:, j]) > 0 for j in range(D.shape[1])], dtype=bool)
    if keep.size == 0 or not keep.any() or len(np.unique(yy)) < 2:
        return None
    Xc = np.column_stack([np.ones(len(yy)), D[:, keep]])
    params, cov, method = fit_arrays(Xc, yy, label)
    return params, cov, method, cols[keep], int(len(yy)), int(yy.sum())


@dataclass
class Selection:
    """What a strategy chose on some patients.

    Attributes
    ----------
    strategy
        The strategy.
    entered
        Variables that entered the multivariable model (``p_value``), or every variable
        examined (``prespecified``, ``penalized``).
    predictors
        The chosen predictors, in config order; may be empty (then the model is
        intercept-only).
    univariable_p
        Variable -> univariable Wald p (``p_value`` only).
    multivariable_p
        Variable -> multivariable Wald p of the entered variables (``p_value`` only).
    note
        Why no predictor was chosen ("" when some were).
    penalized
        The fitted penalized model (``penalized`` only).
    """

    strategy: str
    entered: list[str]
    predictors: list[str]
    univariable_p: dict[str, float] = field(default_factory=dict)
    multivariable_p: dict[str, float] = field(default_factory=dict)
    note: str = ""
    penalized: LogisticModel | None = None


def select_predictors(data: CodedData, y, settings: ClinicalSettings) -> Selection:
    """The strategy of ``settings`` on numeric data: which variables are predictors.

    The single implementation every caller uses: :func:`select_clinical_predictors` (the
    level fit) and the bootstrap resamples of :mod:`alnburden.modeling.optimism`.

    Parameters
    ----------
    data
        Candidate variables of the patients fitted.
    y
        Their 0/1 labels.
    settings
        The strategy and its parameters.

    Returns
    -------
    Selection
    """
    y = np.asarray(y, dtype=float)
    names = data.names
    if settings.strategy == "prespecified":
        varying = [n for n in names
                   if any(_varies(col) for col in data.design[:, data.blocks[n]].T)]
        return Selection("prespecified", names, varying,
                         note="" if varying else "no declared variable varies")
    if settings.strategy == "penalized":
        model = LogisticModel(data.specs, penalty=settings.penalty)._fit_coded(data, y)
        chosen = [n for n in names if model.variable_selected(n)]
        note = "" if chosen else "the penalty set every coefficient to 0"
        return Selection("penalized", names, chosen, note=note, penalized=model)
    uni = {}
    for n in names:
        res = _complete_fit(data, y, [n], f"univariable {n}")
        if res is not None:
            uni[n] = wald_p(res[0], res[1], range(1, len(res[0])))
    entered = [n for n in names if uni.get(n, np.nan) < settings.entry_p]
    if not entered:
        return Selection("p_value", [], [], uni,
                         note=f"no predictor passed univariable p < {settings.entry_p:g}")
    res = _complete_fit(data, y, entered, "multivariable " + "+".join(entered))
    multi = {}
    if res is not None:
        params, cov, _, cols, _, _ = res
        for n in entered:
            idx = [1 + int(np.flatnonzero(cols == c)[0]) for c in data.blocks[n] if c in cols]
            multi[n] = wald_p(params, cov, idx)
    predictors = [n for n in entered if multi.get(n, np.nan) < settings.retention_p]
    note = "" if predictors else (f"no predictor passed multivariable p < "
                                  f"{settings.retention_p:g}")
    return Selection("p_value", entered, predictors, uni, multi, note)
