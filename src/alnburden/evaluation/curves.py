"""The numbers behind the evaluation figures, computed apart from their drawing.

Each function here is a pure function of the predictions table (like
:mod:`alnburden.evaluation.tables`) and returns what one figure kind draws: the ROC curves
with their DeLong AUCs, pointwise bootstrap bands and operating points, and the binned
calibration curves with their Brier score and recalibration slope. The figure functions of
:mod:`alnburden.figures.curves` take these objects and draw them; they compute nothing
(scikit-learn's ``RocCurveDisplay.from_predictions`` computes, its ``plot`` draws).

The decision and clinical-impact curves need nothing beyond the evaluation tables:
:func:`alnburden.evaluation.tables.dca_table` and
:func:`alnburden.evaluation.tables.clinical_impact_table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alnburden.evaluation import tables as ev
from alnburden.stats import calibration as _cal
from alnburden.stats import delong, roc_band

#: Columns of :attr:`RocCurves.summary`.
ROC_SUMMARY_COLUMNS = ["set", "model", "n", "events", "auc", "auc_ci_low", "auc_ci_high",
                       "cutoff", "cutoff_fpr", "cutoff_tpr"]
#: Columns of :attr:`CalibrationCurves.summary`.
CALIBRATION_SUMMARY_COLUMNS = ["set", "model", "n", "events", "brier", "two_classes", "slope",
                               "intercept"]


def level_predictions(pred: pd.DataFrame, level: str) -> pd.DataFrame:
    """The evaluable predictions of one level (``train``, ``cv``, ``test`` rows with a 0/1
    label and a probability), checked against the predictions contract.

    Raises
    ------
    ValueError
        If the level has no evaluable prediction.
    """
    pred = ev.evaluable(ev.check_predictions(pred))
    sub = pred[pred["level"] == level]
    if sub.empty:
        raise ValueError(f"no predictions for level {level!r}; levels present: "
                         f"{sorted(pred['level'].unique())}")
    return sub


def _present(wanted: Sequence[str], have: pd.Series) -> tuple[str, ...]:
    have = set(have)
    return tuple(w for w in wanted if w in have)


def _groups(sub: pd.DataFrame, sets: Sequence[str], models: Sequence[str]):
    """``(set, model, y, p)`` of every set x model present, sets outermost."""
    for s in sets:
        for m in models:
            g = sub[(sub["model"] == m) & (sub["set"] == s)]
            if not g.empty:
                yield s, m, g["y_true"].to_numpy(), g["p"].to_numpy()


# --------------------------------------------------------------------------- ROC
@dataclass(frozen=True)
class RocCurves:
    """ROC curves of several models on several sets of one level.

    Attributes
    ----------
    sets, models
        Sets (one panel each) and models (one curve each) present, in display order.
    curves
        ``set, model, fpr, tpr``: the empirical curve's vertices
        (:func:`sklearn.metrics.roc_curve`), read as a step function.
    bands
        ``set, model, fpr, lo, hi``: pointwise ``1 - alpha`` bootstrap band on a grid of
        false-positive rates (:func:`alnburden.stats.roc_band`); empty when ``n_boot`` is 0.
    summary
        :data:`ROC_SUMMARY_COLUMNS`: patients, events, DeLong AUC with its CI and the
        operating point (false- and true-positive rate at ``cutoff``, ``p >= cutoff``
        positive; NaN without a cutoff). Only set x model groups with both classes have
        rows (and curves).
    n_boot, alpha
        Bootstrap resamples of the bands and 1 - confidence level.
    """

    sets: tuple[str, ...]
    models: tuple[str, ...]
    curves: pd.DataFrame
    bands: pd.DataFrame
    summary: pd.DataFrame
    n_boot: int
    alpha: float


def roc_curves(pred: pd.DataFrame, level: str, sets: Sequence[str] = ev.SETS,
               models: Sequence[str] = ev.PRIMARY_MODELS,
               cutoffs: Mapping[str, float] | None = None, alpha: float = 0.05,
               n_boot: int = 0, random_state: int = 0) -> RocCurves:
    """ROC curves, AUCs (95 % DeLong CI), bands and operating points of one level.

    Parameters
    ----------
    pred
        Predictions table.
    level
        Level name.
    sets, models
        Sets and models wanted (those present are kept, in this order).
    cutoffs
        Probability cutoff of each model (e.g. from :func:`level_cutoffs`); None marks no
        operating point.
    alpha
        1 - confidence level of the AUC intervals and the bands (default 0.05).
    n_boot
        Stratified bootstrap resamples of each curve's pointwise band; 0 (default)
        computes no band.
    random_state
        Seed of every band's bootstrap (each curve's band is drawn with this seed).

    Returns
    -------
    RocCurves
    """
    from sklearn.metrics import roc_curve

    sub = level_predictions(pred, level)
    sets, models = _present(sets, sub["set"]), _present(models, sub["model"])
    curves, bands, rows = [], [], []
    for s, m, y, p in _groups(sub, sets, models):
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, p)
        curves.append(pd.DataFrame({"set": s, "model": m, "fpr": fpr, "tpr": tpr}))
        auc, lo, hi = delong.auc_ci(y, p, alpha=alpha)
        if n_boot:
            band = roc_band(y, p, n_boot=n_boot, alpha=alpha, random_state=random_state)
            bands.append(pd.DataFrame({"set": s, "model": m, "fpr": band["fpr"],
                                       "lo": band["lo"], "hi": band["hi"]}))
        c = (cutoffs or {}).get(m, np.nan)
        op = (np.mean(p[y == 0] >= c), np.mean(p[y == 1] >= c)) if np.isfinite(c) else (
            np.nan, np.nan)
        rows.append([s, m, len(y), int(y.sum()), auc, lo, hi, c, *op])
    return RocCurves(
        sets=sets, models=models,
        curves=_frame(curves, ["set", "model", "fpr", "tpr"]),
        bands=_frame(bands, ["set", "model", "fpr", "lo", "hi"]),
        summary=pd.DataFrame(rows, columns=ROC_SUMMARY_COLUMNS), n_boot=n_boot, alpha=alpha)


def _frame(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def level_cutoffs(pred: pd.DataFrame, level: str, cutoff: str | float = "youden"
                  ) -> dict[str, float]:
    """Each model's probability cutoff on ``level`` (chosen on the training set, as in the
    performance table: :func:`alnburden.evaluation.tables.choose_cutoffs`)."""
    cuts = ev.choose_cutoffs(level_predictions(pred, level), cutoff)
    return dict(zip(cuts["model"], cuts["cutoff"]))


def learner_models(pred: pd.DataFrame, level: str) -> list[str]:
    """The radiomics learners with predictions on ``level`` (models other than
    :data:`alnburden.evaluation.tables.PRIMARY_MODELS`), in display order.

    Raises
    ------
    ValueError
        If the level has no learner predictions.
    """
    sub = level_predictions(pred, level)
    learners = [m for m in ev.model_order(sub["model"].unique()) if m not in ev.PRIMARY_MODELS]
    if not learners:
        raise ValueError(f"level {level!r} has no learner predictions (models other than "
                         f"{list(ev.PRIMARY_MODELS)}); nothing to draw")
    return learners


def chosen_learner(pred: pd.DataFrame, level: str, learners: Sequence[str]) -> str | None:
    """The learner whose test predictions equal the ``radiomics`` model's (the one the
    modelling stage chose), or None (tolerance 1e-9)."""
    sub = level_predictions(pred, level)
    test = sub[sub["set"] == "test"]
    rad = test[test["model"] == "radiomics"].set_index("patient_id")["p"]
    if rad.empty:
        return None
    for m in learners:
        lp = test[test["model"] == m].set_index("patient_id")["p"]
        common = rad.index.intersection(lp.index)
        if len(common) == len(rad) and np.allclose(rad[common], lp[common], atol=1e-9):
            return m
    return None


# --------------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class CalibrationCurves:
    """Binned calibration curves of several models on several sets of one level.

    Attributes
    ----------
    sets, models
        Sets (one row of panels each) and models (one column each) present.
    bins
        ``set, model`` and the columns of :func:`alnburden.stats.calibration_curve`
        (``p_mean``, ``obs_rate`` and its Wilson interval ``ci_low``/``ci_high``...).
    points
        ``set, model, y_true, p``: every patient's prediction (the figure's rug).
    summary
        :data:`CALIBRATION_SUMMARY_COLUMNS`: patients, events, Brier score, whether both
        classes are present, calibration slope and calibration-in-the-large (NaN when
        one class is present or the recalibration fit fails, e.g. perfect separation).
    """

    sets: tuple[str, ...]
    models: tuple[str, ...]
    bins: pd.DataFrame
    points: pd.DataFrame
    summary: pd.DataFrame


def auto_bins(n: int, n_bins: int | None = None) -> int:
    """Quantile bins of a calibration curve: ``n_bins`` if given, else about 20 patients
    per bin, between 3 and 10."""
    if n_bins is not None:
        return int(n_bins)
    return int(np.clip(n // 20, 3, 10))


def calibration_curves(pred: pd.DataFrame, level: str, sets: Sequence[str] = ("test", "train"),
                       models: Sequence[str] = ev.PRIMARY_MODELS,
                       n_bins: int | None = None) -> CalibrationCurves:
    """Calibration curves (quantile bins, Wilson band), Brier score and recalibration
    slope/intercept of each model and set of one level.

    Parameters
    ----------
    pred
        Predictions table.
    level
        Level name.
    sets
        Sets wanted, in display order (all kept, one row of panels each).
    models
        Models wanted (those present are kept).
    n_bins
        Quantile bins per curve; default :func:`auto_bins` of the group's size.
    """
    sub = level_predictions(pred, level)
    models = _present(models, sub["model"])
    bins, points, rows = [], [], []
    for s, m, y, p in _groups(sub, sets, models):
        cc = _cal.calibration_curve(y, p, n_bins=auto_bins(len(y), n_bins))
        bins.append(cc.assign(set=s, model=m))
        points.append(pd.DataFrame({"set": s, "model": m, "y_true": y, "p": p}))
        two = len(np.unique(y)) == 2
        cs_ = _cal.calibration_slope_intercept(y, p) if two else {"slope": np.nan,
                                                                   "intercept": np.nan}
        rows.append([s, m, len(y), int(y.sum()), _cal.brier(y, p), two, cs_["slope"],
                     cs_["intercept"]])
    return CalibrationCurves(
        sets=tuple(sets), models=models,
        bins=_frame(bins, ["set", "model", "p_mean", "obs_rate", "ci_low", "ci_high"]),
        points=_frame(points, ["set", "model", "y_true", "p"]),
        summary=pd.DataFrame(rows, columns=CALIBRATION_SUMMARY_COLUMNS))
