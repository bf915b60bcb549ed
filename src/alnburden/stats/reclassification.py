"""Reclassification statistics of a new model against an old one: NRI, IDI, bootstrap CIs.

References: Pencina, D'Agostino & Steyerberg (2011, Stat Med 30:11) for the continuous
(category-free) NRI; Pencina et al. (2008, Stat Med 27:157) for the IDI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ._validate import check_alpha, check_n_boot, check_p, check_y, stratified_bootstrap

logger = logging.getLogger(__name__)

__all__ = ["nri_continuous", "idi", "bootstrap_ci"]


def _pair(y, p_new, p_old) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = check_y(y)
    return (y, check_p(p_new, n=y.size, name="p_new", probability=True),
            check_p(p_old, n=y.size, name="p_old", probability=True))


def nri_continuous(y, p_new, p_old) -> dict[str, float]:
    """Continuous (category-free) net reclassification improvement, NRI(>0).

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    p_new, p_old : array-like of shape (n_patients,)
        Predicted probabilities of the new and the old model for the same patients.

    Returns
    -------
    dict
        ``nri_events`` = P(up | event) - P(down | event);
        ``nri_nonevents`` = P(down | non-event) - P(up | non-event);
        ``nri`` = their sum (range -2 .. 2), where "up" means ``p_new > p_old`` and "down"
        ``p_new < p_old``; unchanged probabilities count as neither.
    """
    y, pn, po = _pair(y, p_new, p_old)
    up, down = pn > po, pn < po
    ev, ne = y == 1, y == 0
    nri_e = up[ev].mean() - down[ev].mean()
    nri_n = down[ne].mean() - up[ne].mean()
    return {"nri": float(nri_e + nri_n), "nri_events": float(nri_e),
            "nri_nonevents": float(nri_n)}


def idi(y, p_new, p_old) -> dict[str, float]:
    """Integrated discrimination improvement.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    p_new, p_old : array-like of shape (n_patients,)
        Predicted probabilities of the new and the old model for the same patients.

    Returns
    -------
    dict
        ``idi`` = (mean p_new - mean p_old among events) - (mean p_new - mean p_old among
        non-events) = ``slope_new - slope_old``;
        ``idi_events`` = mean change among events (gain in sensitivity-like terms);
        ``idi_nonevents`` = minus the mean change among non-events (gain in specificity);
        ``slope_new``, ``slope_old``: discrimination slopes (mean p among events - mean p
        among non-events); ``relative_idi`` = idi / slope_old (NaN if slope_old = 0).
    """
    y, pn, po = _pair(y, p_new, p_old)
    ev, ne = y == 1, y == 0
    slope_new = pn[ev].mean() - pn[ne].mean()
    slope_old = po[ev].mean() - po[ne].mean()
    d_ev = (pn[ev] - po[ev]).mean()
    d_ne = (pn[ne] - po[ne]).mean()
    value = d_ev - d_ne
    return {"idi": float(value), "idi_events": float(d_ev), "idi_nonevents": float(-d_ne),
            "slope_new": float(slope_new), "slope_old": float(slope_old),
            "relative_idi": float(value / slope_old) if slope_old != 0 else float("nan")}


def bootstrap_ci(stat_fn: Callable[..., float | dict], y, *ps, n_boot: int = 1000,
                 alpha: float = 0.05, random_state: int = 0,
                 key: str | None = None) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of any statistic of ``(y, *ps)``.

    Parameters
    ----------
    stat_fn : callable
        ``stat_fn(y, *ps)`` returning a float, or a dict from which ``key`` is taken
        (e.g. ``stat_fn=idi, key="idi"``).
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    *ps : array-like of shape (n_patients,)
        Prediction arrays passed on to ``stat_fn`` (resampled together with ``y``).
    n_boot : int, default 1000
        Number of resamples.
    alpha : float, default 0.05
        Two-sided level (0.05 -> 2.5th and 97.5th percentiles).
    random_state : int, default 0
        Seed (``numpy.random.default_rng``).
    key : str, optional
        Key to read when ``stat_fn`` returns a dict.

    Returns
    -------
    lo, hi : float
        Percentiles of the bootstrap distribution. Resampling is stratified by ``y``
        (events and non-events are resampled separately, keeping their counts), so every
        resample contains both classes. Resamples where the statistic is NaN are ignored;
        (nan, nan) if fewer than half are finite.
    """
    alpha = check_alpha(alpha)
    y = check_y(y)
    arrays = [check_p(p, n=y.size, name=f"prediction {i + 1}") for i, p in enumerate(ps)]
    n_boot = check_n_boot(n_boot)

    def value(*args) -> float:
        out = stat_fn(*args)
        if isinstance(out, dict):
            if key is None:
                raise ValueError(f"stat_fn returned a dict with keys {sorted(out)}; "
                                 "pass key= to choose one")
            out = out[key]
        return float(out)

    vals = np.empty(int(n_boot))
    for b, idx in enumerate(stratified_bootstrap(y, n_boot, random_state)):
        vals[b] = value(y[idx], *(a[idx] for a in arrays))
    ok = np.isfinite(vals)
    if ok.sum() < n_boot / 2:
        logger.warning("bootstrap: only %d of %d resamples gave a finite statistic", ok.sum(),
                       n_boot)
        return float("nan"), float("nan")
    lo, hi = np.quantile(vals[ok], [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)
