"""Does a model's discrimination or calibration differ between subgroups? An interaction test.

Comparing two subgroup AUCs with an unpaired z test says whether the AUCs differ, which also
happens when the subgroups differ only in their case mix. The question a subgroup analysis
asks of a fixed model is whether the relation between its prediction and the outcome
differs between subgroups: a likelihood-ratio test of the interaction between the model's
linear predictor and the subgroup in a logistic model on data the model was not fitted on
(e.g. Steyerberg, Clinical Prediction Models, 2nd ed., section 17.4; the subgroup test of
Riley et al., BMJ 2023, "Evaluation of clinical prediction models (part 2)").
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from ._validate import check_p, check_y

__all__ = ["interaction_lrt"]

_EPS = 1e-6


def _fit(y: np.ndarray, X: np.ndarray):
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.Logit(y, X).fit(disp=0, method="newton", maxiter=100)


def interaction_lrt(y, p, group) -> dict[str, float]:
    """Likelihood-ratio test of linear predictor x subgroup, for a binary subgroup.

    Two logistic models of the outcome are fitted on the given patients:
    ``y ~ lp + g`` and ``y ~ lp + g + lp:g``, with ``lp = logit(p)`` (``p`` clipped to
    [1e-6, 1 - 1e-6]) and ``g`` the 0/1 subgroup indicator. The statistic is twice the
    difference of their log-likelihoods, referred to chi-square with 1 degree of freedom.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        The model's predicted probabilities.
    group : array-like of shape (n_patients,)
        Subgroup indicator, 0/1 (or bool).

    Returns
    -------
    dict
        ``lr`` (statistic), ``df`` (1), ``p`` (upper tail), ``slope_0`` and ``slope_1``
        (the calibration slope of ``lp`` in each subgroup, from the interaction model).
        NaN throughout when a subgroup lacks a class or the models cannot be fitted
        (perfect separation).
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    g = np.asarray(group).astype(float)
    nan = {"lr": np.nan, "df": 1, "p": np.nan, "slope_0": np.nan, "slope_1": np.nan}
    if g.shape != y.shape or not np.isin(g, (0.0, 1.0)).all():
        raise ValueError("group must be a 0/1 indicator of the same length as y")
    for k in (0.0, 1.0):
        if len(np.unique(y[g == k])) < 2:
            return nan
    pc = np.clip(p, _EPS, 1 - _EPS)
    lp = np.log(pc / (1 - pc))
    one = np.ones_like(lp)
    try:
        main = _fit(y, np.column_stack([one, lp, g]))
        full = _fit(y, np.column_stack([one, lp, g, lp * g]))
    except (np.linalg.LinAlgError, ValueError):
        return nan
    b = full.params
    if not np.all(np.isfinite(b)):
        return nan
    lr = max(0.0, 2.0 * (float(full.llf) - float(main.llf)))
    return {"lr": float(lr), "df": 1, "p": float(stats.chi2.sf(lr, 1)),
            "slope_0": float(b[1]), "slope_1": float(b[1] + b[3])}
