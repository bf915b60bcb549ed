"""The empirical ROC curve on a fixed false-positive-rate grid, and its confidence band.

The band is pointwise and vertical (Macskassy & Provost 2004, "vertical averaging"): at
each false-positive rate of the grid, the percentile interval of the true-positive rate over
bootstrap resamples. Resampling is stratified by the outcome (events and non-events are
resampled separately, keeping their counts), as in :func:`~.reclassification.bootstrap_ci`,
so every resample has a curve.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_alpha, check_n_boot, check_p, check_y, stratified_bootstrap

__all__ = ["roc_band", "tpr_at"]


def tpr_at(y, p, fpr_grid) -> np.ndarray:
    """True-positive rate of the empirical ROC step curve at each false-positive rate.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    p : array-like of shape (n_patients,)
        Scores (higher = more likely an event).
    fpr_grid : array-like
        False-positive rates in [0, 1].

    Returns
    -------
    numpy.ndarray
        The highest true-positive rate reached at a false-positive rate not above each grid
        value: the curve as drawn with ``step(..., where="post")``.
    """
    y = check_y(y)
    return _tpr_on_grid(y, check_p(p, n=y.size), np.asarray(fpr_grid, dtype=float))


def _tpr_on_grid(y: np.ndarray, p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    # At a false-positive rate f at most k = floor(f * n0) non-events may score at or above
    # the threshold, so the threshold must exceed the (k+1)-th highest non-event score s:
    # the best true-positive rate is then the share of events scoring above s (1 if k >= n0).
    neg = np.sort(p[y == 0])[::-1]
    pos = np.sort(p[y == 1])
    k = np.floor(grid * neg.size + 1e-9).astype(int)
    out = np.ones(grid.size)
    inner = k < neg.size
    out[inner] = 1.0 - np.searchsorted(pos, neg[k[inner]], side="right") / pos.size
    return out


def roc_band(y, p, fpr_grid=None, n_boot: int = 1000, alpha: float = 0.05,
             random_state: int = 0) -> dict[str, np.ndarray]:
    """Pointwise percentile-bootstrap confidence band of the ROC curve.

    Parameters
    ----------
    y, p : array-like of shape (n_patients,)
        Outcome (0/1, both classes present) and scores, as in :func:`tpr_at`.
    fpr_grid : array-like, optional
        False-positive rates where the band is computed; default 201 points from 0 to 1.
    n_boot : int, default 1000
        Number of stratified bootstrap resamples.
    alpha : float, default 0.05
        Two-sided level (0.05 gives the 2.5th and 97.5th percentiles: a 95 % band).
    random_state : int, default 0
        Seed (``numpy.random.default_rng``); the same seed gives the same band.

    Returns
    -------
    dict
        ``fpr`` (the grid), ``tpr`` (the observed curve on it), ``lo`` and ``hi`` (the
        band), arrays of the grid's length.
    """
    alpha = check_alpha(alpha)
    y = check_y(y)
    p = check_p(p, n=y.size)
    n_boot = check_n_boot(n_boot)
    grid = np.linspace(0.0, 1.0, 201) if fpr_grid is None else np.asarray(fpr_grid, float)
    if grid.ndim != 1 or grid.size == 0 or (grid < 0).any() or (grid > 1).any():
        raise ValueError("fpr_grid must be a 1-D array of false-positive rates in [0, 1]")
    curves = np.empty((n_boot, grid.size))
    for b, idx in enumerate(stratified_bootstrap(y, n_boot, random_state)):
        curves[b] = _tpr_on_grid(y[idx], p[idx], grid)
    lo, hi = np.quantile(curves, [alpha / 2, 1 - alpha / 2], axis=0)
    return {"fpr": grid, "tpr": _tpr_on_grid(y, p, grid), "lo": lo, "hi": hi}
