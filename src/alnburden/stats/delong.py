"""DeLong variance of the ROC AUC, confidence intervals and tests.

The variance is the nonparametric estimator of DeLong, DeLong & Clarke-Pearson (1988,
Biometrics 44:837), computed with the O(n log n) midrank algorithm of Sun & Xu (2014,
IEEE Signal Processing Letters 21:1389): for ``m`` events with scores ``X`` and ``n``
non-events with scores ``Y``,

* ``T_z`` = midranks of all ``m + n`` scores pooled, ``T_x`` = midranks of ``X`` among
  themselves, ``T_y`` = midranks of ``Y`` among themselves;
* AUC = (sum of ``T_z`` over events - m (m + 1) / 2) / (m n) (ties count 1/2, so the AUC
  equals the Mann-Whitney statistic and :func:`sklearn.metrics.roc_auc_score`);
* structural components ``V10_i = (T_z,i - T_x,i) / n`` (events) and
  ``V01_j = 1 - (T_z,j - T_y,j) / m`` (non-events);
* Var(AUC) = S10 / m + S01 / n, with S10, S01 the sample (co)variances (denominator
  ``m - 1`` and ``n - 1``) of the structural components; for several models scored on the
  same patients the same formula gives the full covariance matrix.

Scores may be probabilities or any real-valued score (only their order matters); higher
scores must mean "more likely an event".
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import stats

from ._validate import check_alpha, check_p, check_y

logger = logging.getLogger(__name__)

__all__ = ["delong_roc_variance", "delong_roc_covariance", "auc_ci", "delong_paired_test",
           "auc_difference_test"]


def _midranks(x: np.ndarray) -> np.ndarray:
    """Midranks (1-based, ties get the mean of their ranks) along the last axis."""
    return stats.rankdata(x, method="average", axis=-1)


def delong_roc_covariance(y, *scores) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of several scores on the same patients and their DeLong covariance matrix.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    *scores : array-like of shape (n_patients,)
        One or more scores (probabilities or any real score; higher = more likely event).

    Returns
    -------
    aucs : ndarray of shape (k,)
        AUC of each score.
    cov : ndarray of shape (k, k)
        DeLong covariance matrix of the AUCs. Filled with NaN when a class has fewer than
        two patients (the sample variance of the structural components is undefined).

    Raises
    ------
    ValueError
        If ``y`` is not 0/1, has a single class, or a score has the wrong length / NaN.
    """
    if not scores:
        raise ValueError("pass at least one score array after y")
    y = check_y(y)
    s = np.vstack([check_p(p, n=y.size, name=f"score {i + 1}") for i, p in enumerate(scores)])
    pos, neg = s[:, y == 1], s[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    tx = _midranks(pos)
    ty = _midranks(neg)
    tz = _midranks(np.hstack([pos, neg]))
    aucs = (tz[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    k = s.shape[0]
    if m < 2 or n < 2:
        logger.warning("DeLong variance undefined with %d event(s) and %d non-event(s); "
                       "returning NaN", m, n)
        return aucs, np.full((k, k), np.nan)
    v10 = (tz[:, :m] - tx) / n          # (k, m): per-event structural components
    v01 = 1.0 - (tz[:, m:] - ty) / m    # (k, n): per-non-event structural components
    s10 = np.atleast_2d(np.cov(v10, ddof=1))
    s01 = np.atleast_2d(np.cov(v01, ddof=1))
    return aucs, s10 / m + s01 / n


def delong_roc_variance(y, p) -> tuple[float, float]:
    """AUC and its DeLong variance.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    p : array-like of shape (n_patients,)
        Predicted probability or any score (higher = more likely event); ties allowed.

    Returns
    -------
    auc : float
        Area under the ROC curve (ties count 1/2; equals ``sklearn.metrics.roc_auc_score``).
    var : float
        DeLong variance of the AUC (NaN if a class has fewer than two patients).

    Examples
    --------
    >>> auc, var = delong_roc_variance([1, 1, 1, 0, 0], [0.8, 0.5, 0.4, 0.5, 0.3])
    >>> round(auc, 4), round(var, 6)
    (0.75, 0.083333)
    """
    aucs, cov = delong_roc_covariance(y, p)
    return float(aucs[0]), float(cov[0, 0])


def auc_ci(y, p, alpha: float = 0.05, method: str = "normal") -> tuple[float, float, float]:
    """AUC with a DeLong confidence interval.

    Parameters
    ----------
    y, p
        Outcome (0/1) and score, as in :func:`delong_roc_variance`.
    alpha : float, default 0.05
        Two-sided level: 0.05 gives a 95 % interval.
    method : {"normal", "logit"}, default "normal"
        ``"normal"`` (default): AUC +/- z * SE on the AUC scale, clipped to [0, 1]; this is
        the interval of pROC's ``ci.auc(method = "delong")``, the one clinical papers report.
        ``"logit"``: the interval is built on logit(AUC) with SE / (AUC (1 - AUC)) (delta
        method) and back-transformed, so it stays inside (0, 1) and is asymmetric near 1;
        it falls back to ``"normal"`` when the AUC is 0 or 1.

    Returns
    -------
    auc, lo, hi : float
        The AUC and the interval bounds (NaN bounds if the variance is undefined).
    """
    alpha = check_alpha(alpha)
    if method not in ("normal", "logit"):
        raise ValueError(f"method must be 'normal' or 'logit', got {method!r}")
    auc, var = delong_roc_variance(y, p)
    if not np.isfinite(var):
        return auc, float("nan"), float("nan")
    z = stats.norm.ppf(1 - alpha / 2)
    se = np.sqrt(max(var, 0.0))
    if method == "logit" and 0 < auc < 1:
        lg = np.log(auc / (1 - auc))
        half = z * se / (auc * (1 - auc))
        lo, hi = 1 / (1 + np.exp(-(lg - half))), 1 / (1 + np.exp(-(lg + half)))
    else:
        lo, hi = auc - z * se, auc + z * se
    return auc, float(np.clip(lo, 0.0, 1.0)), float(np.clip(hi, 0.0, 1.0))


def delong_paired_test(y, p_a, p_b) -> dict[str, float]:
    """DeLong test of two correlated AUCs (two models scored on the same patients).

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p_a, p_b : array-like of shape (n_patients,)
        Scores of model A and model B for the same patients, in the same order.

    Returns
    -------
    dict
        ``auc_a``, ``auc_b``; ``z`` = (AUC_a - AUC_b) / SE(difference) where
        Var(diff) = Var_a + Var_b - 2 Cov_ab (positive z: A is better); ``p``, the two-sided
        p-value from the standard normal; also ``var_a``, ``var_b``, ``cov``.
        When the two scores rank every pair identically (Var(diff) = 0 and equal AUCs)
        ``z = 0`` and ``p = 1``; when Var(diff) is undefined or 0 with different AUCs,
        ``z`` and ``p`` are NaN.
    """
    aucs, cov = delong_roc_covariance(y, p_a, p_b)
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    out = {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "var_a": float(cov[0, 0]),
           "var_b": float(cov[1, 1]), "cov": float(cov[0, 1])}
    tol = 1e-15
    if np.isfinite(var) and var > tol:
        z = diff / np.sqrt(var)
        out.update(z=float(z), p=float(2 * stats.norm.sf(abs(z))))
    elif np.isfinite(var) and abs(diff) <= 1e-12:
        out.update(z=0.0, p=1.0)
    else:
        out.update(z=float("nan"), p=float("nan"))
    return out


def auc_difference_test(auc1: float, var1: float, auc2: float, var2: float) -> tuple[float, float]:
    """z-test of two AUCs from independent groups (e.g. Ki-67 low vs high subgroup).

    Parameters
    ----------
    auc1, var1 : float
        AUC and DeLong variance in group 1.
    auc2, var2 : float
        AUC and DeLong variance in group 2 (different patients).

    Returns
    -------
    z : float
        (auc1 - auc2) / sqrt(var1 + var2).
    p : float
        Two-sided p-value (standard normal). Both NaN if the pooled variance is not positive
        or not finite.
    """
    for name, v in (("auc1", auc1), ("auc2", auc2)):
        if np.isfinite(v) and not 0 <= v <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {v}")
    for name, v in (("var1", var1), ("var2", var2)):
        if np.isfinite(v) and v < 0:
            raise ValueError(f"{name} must be a variance (>= 0), got {v}")
    var = var1 + var2
    if not np.isfinite(var) or var <= 0 or not np.isfinite(auc1 - auc2):
        return float("nan"), float("nan")
    z = (auc1 - auc2) / np.sqrt(var)
    return float(z), float(2 * stats.norm.sf(abs(z)))
