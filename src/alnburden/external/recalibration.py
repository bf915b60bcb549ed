"""Recalibration of a frozen model on an external cohort's labels, reported beside it.

Two updates of the frozen linear predictor ``lp = logit(p)`` (Steyerberg, *Clinical
Prediction Models*, 2nd ed., ch. 20), fitted by maximum likelihood on the external labels:

* ``intercept`` (calibration-in-the-large): ``logit(p') = a + lp`` (``lp`` an offset);
  afterwards the mean predicted risk equals the external event rate;
* ``logistic`` (logistic recalibration): ``logit(p') = a + b * lp``.

Both are fitted AND scored on the same external patients: their Brier scores are apparent
(optimistic) and every row says so. The frozen model's row comes first and is never replaced;
the AUC does not change under either update (a monotone map of ``p``) and is not repeated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alnburden.modeling.persistence import RAD_SCORE_EPS

__all__ = ["RECALIBRATION_COLUMNS", "recalibrate", "recalibration_table"]

RECALIBRATION_COLUMNS = ["level", "model", "set", "update", "a", "b", "brier",
                         "mean_predicted", "observed_rate", "n", "events", "note"]
_NOTE = {"frozen": "frozen model as shipped in the bundle",
         "intercept": "intercept re-estimated on the external labels (apparent)",
         "logistic": "intercept and slope re-estimated on the external labels (apparent)"}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), RAD_SCORE_EPS, 1 - RAD_SCORE_EPS)
    return np.log(p) - np.log1p(-p)


def recalibrate(y: np.ndarray, p: np.ndarray, update: str) -> tuple[float, float]:
    """The recalibration ``(a, b)`` of probabilities ``p`` on labels ``y``.

    Parameters
    ----------
    y
        0/1 labels (both classes present).
    p
        Frozen probabilities (clipped to [1e-3, 1 - 1e-3] before the logit).
    update
        ``"intercept"`` (b fixed at 1) or ``"logistic"``.

    Returns
    -------
    a, b : float
        ``logit(p') = a + b * logit(p)``.
    """
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    lp = _logit(p)
    if update == "intercept":
        res = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit()
        return float(res.params[0]), 1.0
    if update == "logistic":
        res = sm.GLM(y, sm.add_constant(lp, has_constant="add"),
                     family=sm.families.Binomial()).fit()
        return float(res.params[0]), float(res.params[1])
    raise ValueError(f"update {update!r}: use 'intercept' or 'logistic'")


def recalibration_table(pred: pd.DataFrame, set_: str = "external") -> pd.DataFrame:
    """Frozen vs recalibrated calibration of every level/model of the external rows.

    Returns
    -------
    pandas.DataFrame
        :data:`RECALIBRATION_COLUMNS`; per level/model the rows ``frozen`` (a = 0, b = 1),
        ``intercept`` and ``logistic``, with the Brier score, the mean predicted risk and the
        observed event rate. A level/model with one class only keeps the frozen row.
    """
    rows = []
    sub = pred[(pred["set"] == set_)].dropna(subset=["y_true", "p"])
    for (level, model), g in sub.groupby(["level", "model"], sort=True):
        y, p = g["y_true"].to_numpy(dtype=float), g["p"].to_numpy(dtype=float)
        base = {"level": level, "model": model, "set": set_, "n": len(y),
                "events": int(y.sum()), "observed_rate": float(y.mean())}
        updates = ["frozen"] + (["intercept", "logistic"] if 0 < y.sum() < len(y) else [])
        for u in updates:
            a, b = (0.0, 1.0) if u == "frozen" else recalibrate(y, p, u)
            q = 1.0 / (1.0 + np.exp(-(a + b * _logit(p)))) if u != "frozen" else p
            rows.append(base | {"update": u, "a": a, "b": b,
                                "brier": float(np.mean((q - y) ** 2)),
                                "mean_predicted": float(np.mean(q)), "note": _NOTE[u]})
    out = pd.DataFrame(rows).reindex(columns=RECALIBRATION_COLUMNS)
    out["n"] = out["n"].astype("Int64")
    out["events"] = out["events"].astype("Int64")
    return out
