"""Proportions with Wilson intervals, the Youden cutoff and operating-point tables.

Convention used throughout the package: a patient is called *positive* when its predicted
probability (or score) is ``>= cutoff``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._validate import check_alpha, check_p, check_y

__all__ = ["wilson_ci", "youden_cutoff", "operating_point"]


def wilson_ci(k, n, alpha: float = 0.05):
    """Wilson score interval of a binomial proportion ``k / n``.

    Parameters
    ----------
    k : int or array-like of int
        Number of successes (0 <= k <= n).
    n : int or array-like of int
        Number of trials. ``n = 0`` gives ``(nan, nan)``.
    alpha : float, default 0.05
        Two-sided level (0.05 -> 95 % interval).

    Returns
    -------
    lo, hi : float or ndarray
        Interval bounds (scalars for scalar input), identical to
        ``statsmodels.stats.proportion.proportion_confint(k, n, alpha, method="wilson")``:
        centre (k + z^2/2) / (n + z^2), half-width
        z / (n + z^2) * sqrt(k (n - k) / n + z^2 / 4).
    """
    alpha = check_alpha(alpha)
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    if np.isnan(k_arr).any() or np.isnan(n_arr).any():
        raise ValueError("k and n must not be NaN")
    if (n_arr < 0).any() or (k_arr < 0).any() or (k_arr > n_arr).any():
        raise ValueError(f"need 0 <= k <= n, got k={k!r}, n={n!r}")
    z = stats.norm.ppf(1 - alpha / 2)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (k_arr + z2 / 2) / (n_arr + z2)
        half = z / (n_arr + z2) * np.sqrt(k_arr * (n_arr - k_arr) / n_arr + z2 / 4)
        lo = np.where(n_arr > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(n_arr > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def _confusion(y: np.ndarray, p: np.ndarray, cutoff: float) -> tuple[int, int, int, int]:
    pred = p >= cutoff
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    tn = int(np.sum(~pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    return tp, fp, tn, fn


def youden_cutoff(y, p) -> float:
    """Cutoff maximising Youden's J = sensitivity + specificity - 1 (fit it on training data).

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    p : array-like of shape (n_patients,)
        Predicted probability or score (positive if ``p >= cutoff``).

    Returns
    -------
    float
        The cutoff. Candidates are the distinct observed scores ``s`` (rule ``p >= s``). The
        returned value is the midpoint between the best ``s`` and the next lower distinct
        score (as pROC does), so the training classification is exactly the optimal one
        while the cutoff does not sit on a training patient's score; when the best ``s`` is
        the lowest score, ``s`` itself is returned. Ties in J are broken towards the
        highest cutoff (the most specific rule).
    """
    y = check_y(y)
    p = check_p(p, n=y.size)
    u = np.unique(p)                          # ascending distinct scores
    m, n = int(y.sum()), int((1 - y).sum())
    # number of events / non-events with score >= u[i]
    pos_sorted, neg_sorted = np.sort(p[y == 1]), np.sort(p[y == 0])
    tp = m - np.searchsorted(pos_sorted, u, side="left")
    fp = n - np.searchsorted(neg_sorted, u, side="left")
    j = tp / m + (n - fp) / n - 1.0
    jmax = j.max()
    best = np.flatnonzero(np.isclose(j, jmax, rtol=0, atol=1e-12)).max()   # highest cutoff
    if best == 0:
        return float(u[0])
    return float((u[best] + u[best - 1]) / 2.0)


def operating_point(y, p, cutoff: float, alpha: float = 0.05) -> dict[str, float]:
    """Sensitivity, specificity, accuracy, PPV and NPV at a fixed cutoff, with Wilson CIs.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1 (a single class is allowed; undefined rates are NaN).
    p : array-like of shape (n_patients,)
        Predicted probability or score.
    cutoff : float
        Positive if ``p >= cutoff`` (fix it on the training set, e.g. :func:`youden_cutoff`).
    alpha : float, default 0.05
        Two-sided level of the Wilson intervals.

    Returns
    -------
    dict
        ``cutoff, n, events, tp, fp, tn, fn`` and, for each of ``sensitivity``
        (tp / events), ``specificity`` (tn / non-events), ``accuracy`` ((tp + tn) / n),
        ``ppv`` (tp / (tp + fp)), ``npv`` (tn / (tn + fn)): the value and its
        ``_ci_low`` / ``_ci_high`` Wilson bounds. A rate with a zero denominator is NaN.
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size)
    if not np.isfinite(cutoff):
        raise ValueError(f"cutoff must be a finite number, got {cutoff}")
    tp, fp, tn, fn = _confusion(y, p, cutoff)
    out: dict[str, float] = {"cutoff": float(cutoff), "n": int(y.size), "events": int(y.sum()),
                             "tp": tp, "fp": fp, "tn": tn, "fn": fn}
    for name, k, d in (("sensitivity", tp, tp + fn), ("specificity", tn, tn + fp),
                       ("accuracy", tp + tn, y.size), ("ppv", tp, tp + fp),
                       ("npv", tn, tn + fn)):
        lo, hi = wilson_ci(k, d, alpha=alpha)
        out[name] = k / d if d > 0 else float("nan")
        out[f"{name}_ci_low"] = lo
        out[f"{name}_ci_high"] = hi
    return out
