"""Decision curve analysis (Vickers & Elkin 2006, Med Decis Making 26:565).

At a threshold probability ``pt`` a patient is *treated* (called positive) when the model's
predicted probability is ``>= pt``; the net benefit is

    NB(pt) = TP / n - FP / n * pt / (1 - pt),

the strategies "treat all" (everyone positive) and "treat none" (NB = 0) are the references.
Results agree with the ``dcurves`` package (Python port of ``dcurves``/``dca.r``) to
machine precision for predictions strictly inside (0, 1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._validate import check_p, check_y

__all__ = ["net_benefit", "treat_all_net_benefit", "decision_curve", "clinical_impact",
           "default_thresholds"]


def default_thresholds(start: float = 0.0, stop: float = 0.99, step: float = 0.01) -> np.ndarray:
    """Threshold grid ``start, start + step, ..., stop`` (inclusive), rounded to 10 decimals."""
    n = int(round((stop - start) / step)) + 1
    return np.round(start + step * np.arange(n), 10)


def _check_thresholds(thresholds) -> np.ndarray:
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if t.ndim != 1 or t.size == 0:
        raise ValueError("thresholds must be a non-empty 1-D sequence of probabilities")
    if np.isnan(t).any() or (t < 0).any() or (t >= 1).any():
        raise ValueError(f"thresholds must lie in [0, 1) (net benefit is undefined at 1), got "
                         f"range [{np.nanmin(t):g}, {np.nanmax(t):g}]")
    return t


def net_benefit(y, p, thresholds) -> np.ndarray:
    """Net benefit of treating patients with ``p >= pt``, at each threshold ``pt``.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1].
    thresholds : array-like of float
        Threshold probabilities in [0, 1).

    Returns
    -------
    ndarray of shape (n_thresholds,)
        (TP - FP * pt / (1 - pt)) / n.
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    t = _check_thresholds(thresholds)
    pos_sorted, neg_sorted = np.sort(p[y == 1]), np.sort(p[y == 0])
    tp = pos_sorted.size - np.searchsorted(pos_sorted, t, side="left")   # count of p >= t
    fp = neg_sorted.size - np.searchsorted(neg_sorted, t, side="left")
    n = y.size
    return tp / n - fp / n * (t / (1 - t))


def treat_all_net_benefit(y, thresholds) -> np.ndarray:
    """Net benefit of treating everyone: prevalence - (1 - prevalence) * pt / (1 - pt)."""
    y = check_y(y, require_both=False)
    t = _check_thresholds(thresholds)
    prev = y.mean()
    return prev - (1 - prev) * (t / (1 - t))


def decision_curve(y, p_by_model: Mapping[str, object], thresholds=None) -> pd.DataFrame:
    """Decision curves of several models plus the treat-all and treat-none references.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p_by_model : mapping of str to array-like
        Model name -> predicted probabilities (same patients, same order as ``y``). The
        names ``treat_all`` and ``treat_none`` are reserved.
    thresholds : array-like of float, optional
        Threshold probabilities in [0, 1); default 0.00, 0.01, ..., 0.99.

    Returns
    -------
    DataFrame
        Long format, columns ``model``, ``threshold``, ``net_benefit``; one block of rows per
        model in the order given, then ``treat_all`` and ``treat_none`` (net benefit 0).
    """
    y = check_y(y, require_both=False)
    t = _check_thresholds(default_thresholds() if thresholds is None else thresholds)
    if not p_by_model:
        raise ValueError("p_by_model is empty; pass at least one model's predictions")
    clash = {"treat_all", "treat_none"} & set(p_by_model)
    if clash:
        raise ValueError(f"model names {sorted(clash)} are reserved for the reference strategies;"
                         " rename the model")
    blocks = []
    for name, p in p_by_model.items():
        try:
            nb = net_benefit(y, p, t)
        except ValueError as err:
            raise ValueError(f"model {name!r}: {err}") from None
        blocks.append(pd.DataFrame({"model": name, "threshold": t, "net_benefit": nb}))
    blocks.append(pd.DataFrame({"model": "treat_all", "threshold": t,
                                "net_benefit": treat_all_net_benefit(y, t)}))
    blocks.append(pd.DataFrame({"model": "treat_none", "threshold": t,
                                "net_benefit": np.zeros(t.size)}))
    return pd.concat(blocks, ignore_index=True)


def clinical_impact(y, p, thresholds=None, population: int = 1000) -> pd.DataFrame:
    """Clinical impact curve data: how many of ``population`` patients are called high risk.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1].
    thresholds : array-like of float, optional
        Threshold probabilities in [0, 1); default 0.00, 0.01, ..., 0.99.
    population : int, default 1000
        Size of the notional population the counts are scaled to.

    Returns
    -------
    DataFrame
        ``threshold``, ``n_high_risk`` (population * share with ``p >= pt``),
        ``n_high_risk_events`` (population * share with ``p >= pt`` and ``y = 1``).
        Counts are expected numbers (floats), not rounded.
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    t = _check_thresholds(default_thresholds() if thresholds is None else thresholds)
    if population <= 0:
        raise ValueError(f"population must be positive, got {population}")
    all_sorted, pos_sorted = np.sort(p), np.sort(p[y == 1])
    high = all_sorted.size - np.searchsorted(all_sorted, t, side="left")
    high_ev = pos_sorted.size - np.searchsorted(pos_sorted, t, side="left")
    return pd.DataFrame({"threshold": t, "n_high_risk": population * high / y.size,
                         "n_high_risk_events": population * high_ev / y.size})
