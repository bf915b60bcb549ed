"""The hierarchical cascade: three-class nodal status from the two binary levels.

Level 1 decides N0 vs N+ at its training cutoff; every patient it calls N+ is passed to
level 2, which decides N1-2 vs N>=3 at its own training cutoff. The result is compared
with the pathological class (``nodal_class`` of predictions.csv) in a 3 x 3 confusion
matrix with accuracy and Cohen's kappa (unweighted, linear and quadratic weights: the
classes are ordered N0 < N1-2 < N>=3).

Level-2 scores of patients outside the level-2 population
---------------------------------------------------------
The level-2 model is fitted on N+ patients, and its ``test`` rows in predictions.csv
cover the truly N+ test patients only. A truly N0 patient that level 1 wrongly calls N+
therefore has no ``test`` level-2 score. The modelling stage is asked to score EVERY test
patient with the level-2 models and to write those rows under ``set = "cascade"`` (level
= the level-2 name; ``y_true`` empty where the patient is outside the level's
population). When these rows exist, the cascade uses them and every patient gets one of
the three classes.

When they do not, the cascade still runs: such a patient is predicted
``"N+ (unscored)"`` (:data:`UNSCORED`). It is an error whatever level 2 would have said
(the patient is N0), so the accuracy is exact, and the unweighted kappa treats the
class as a fourth nominal category; the weighted kappas need a position on the ordinal
scale and are NaN (the ``note`` says why).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from alnburden.evaluation import tables as ev
from alnburden.stats.rates import wilson_ci

logger = logging.getLogger(__name__)

#: The three ordered classes of the cascade.
CLASSES = ("N0", "N1-2", "N>=3")
#: Predicted class of a patient called N+ by level 1 who has no level-2 score.
UNSCORED = "N+ (unscored)"
#: Set under which the modelling stage writes level-2 scores of every test patient.
CASCADE_SET = "cascade"

METRIC_COLUMNS = ["n", "accuracy", "accuracy_ci_low", "accuracy_ci_high", "kappa",
                  "kappa_linear", "kappa_quadratic", "n_unscored", "cutoff_level1",
                  "cutoff_level2", "level2_scores", "note"]


def _resolve_cutoffs(pred: pd.DataFrame, levels: tuple[str, str], model: str,
                     cutoffs: str | float | Mapping[str, float]) -> dict[str, float]:
    if isinstance(cutoffs, Mapping):
        missing = [lv for lv in levels if lv not in cutoffs]
        if missing:
            raise ValueError(f"cutoffs lacks level(s) {missing}; pass one probability per level, "
                             f"e.g. {{'{levels[0]}': 0.5, '{levels[1]}': 0.5}}, or 'youden'")
        return {lv: float(cutoffs[lv]) for lv in levels}
    table = ev.choose_cutoffs(pred[pred["level"].isin(levels)], cutoffs)
    table = table[table["model"] == model].set_index("level")["cutoff"]
    out = {}
    for lv in levels:
        if lv not in table.index or not np.isfinite(table[lv]):
            raise ValueError(f"no training cutoff for model {model!r} at {lv!r}: the "
                             "predictions need two-class 'train' rows for it")
        out[lv] = float(table[lv])
    return out


def cascade_predictions(pred: pd.DataFrame, level1: str = "level1", level2: str = "level2",
                        model: str = "combined", set_: str = "test",
                        cutoffs: str | float | Mapping[str, float] = "youden") -> pd.DataFrame:
    """Three-class prediction of every patient of ``set_`` by the two-level cascade.

    Parameters
    ----------
    pred
        Predictions table with a ``nodal_class`` column (N0 / N1-2 / N>=3).
    level1, level2
        Names of the N0-vs-N+ level and of the burden level (N1-2 vs N>=3).
    model
        Model used at both levels (default the combined model).
    set_
        Patients classified (default the test set); ``level1`` must have rows for all of
        them.
    cutoffs
        ``"youden"`` (each level's cutoff chosen on its training predictions, as in the
        performance table), one fixed probability for both levels, or a mapping
        ``{level: probability}``.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, true_class, predicted_class, p_level1, p_level2`` sorted by patient;
        ``predicted_class`` is one of :data:`CLASSES` or :data:`UNSCORED`; ``p_level2``
        is NaN where level 2 was not needed or has no score. ``attrs`` holds the cutoffs
        used and where the level-2 scores came from (``"cascade"`` or ``set_``).
    """
    pred = ev.check_predictions(pred, extra=("nodal_class",))
    cuts = _resolve_cutoffs(ev.evaluable(pred), (level1, level2), model, cutoffs)
    l1 = _level1_rows(pred, level1, model, set_)
    p2, source = _level2_scores(pred, level2, model, set_)
    out = pd.DataFrame({"patient_id": l1["patient_id"].to_numpy(),
                        "true_class": l1["nodal_class"].astype(str).to_numpy(),
                        "p_level1": l1["p"].to_numpy(dtype=float)})
    out = out.sort_values("patient_id", kind="mergesort").reset_index(drop=True)
    pos1 = out["p_level1"].to_numpy() >= cuts[level1]
    out["p_level2"] = np.where(pos1, out["patient_id"].map(p2).to_numpy(dtype=float), np.nan)
    has2 = np.isfinite(out["p_level2"].to_numpy())
    high = has2 & (out["p_level2"].to_numpy() >= cuts[level2])
    out["predicted_class"] = np.select([~pos1, pos1 & ~has2, high], ["N0", UNSCORED, "N>=3"],
                                       default="N1-2")
    missing_np = (out["true_class"] != "N0") & pos1 & ~has2
    if missing_np.any():
        raise ValueError(f"{int(missing_np.sum())} node-positive patient(s) (e.g. "
                         f"{out.loc[missing_np, 'patient_id'].iloc[0]}) have no level-2 "
                         f"{model!r} score in set {source!r}; every N+ patient of {set_!r} "
                         "needs one")
    out.attrs.update(cutoff_level1=cuts[level1], cutoff_level2=cuts[level2],
                     level2_scores=source)
    return out[["patient_id", "true_class", "predicted_class", "p_level1", "p_level2"]]


def _level1_rows(pred: pd.DataFrame, level1: str, model: str, set_: str) -> pd.DataFrame:
    """``model``'s ``set_`` rows of level 1, checked to carry a valid ``nodal_class``."""
    l1 = pred[(pred["level"] == level1) & (pred["set"] == set_) & (pred["model"] == model)]
    if l1.empty:
        raise ValueError(f"no {model!r} predictions for level {level1!r}, set {set_!r}; "
                         f"levels present: {sorted(pred['level'].unique())}")
    if l1["nodal_class"].isna().all():
        raise ValueError("the predictions carry no nodal_class: the cascade compares with the "
                         "pathological N0 / N1-2 / N>=3 class, so the manifest needs "
                         "n_positive_nodes; a study without node counts has no cascade")
    bad = sorted(set(l1["nodal_class"].astype(str)) - set(CLASSES))
    if bad:
        raise ValueError(f"nodal_class values {bad} are not among {list(CLASSES)}; write "
                         "alnburden.levels.nodal_class(n_positive_nodes)")
    return l1


def _level2_scores(pred: pd.DataFrame, level2: str, model: str,
                   set_: str) -> tuple[pd.Series, str]:
    """Level-2 probability by patient id, and the set it came from: :data:`CASCADE_SET`
    when the predictions have it (every patient scored), else ``set_``."""
    l2_all = pred[(pred["level"] == level2) & (pred["model"] == model)]
    source = CASCADE_SET if (l2_all["set"] == CASCADE_SET).any() else set_
    if source != CASCADE_SET:
        logger.warning("no level-2 scores of every patient (set %r) in the predictions; truly "
                       "N0 patients called N+ by level 1 are counted as %r", CASCADE_SET,
                       UNSCORED)
    return l2_all[l2_all["set"] == source].set_index("patient_id")["p"], source


def cascade_table(cascade: pd.DataFrame, alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confusion matrix and agreement of the cascade.

    Parameters
    ----------
    cascade
        Output of :func:`cascade_predictions`.
    alpha
        1 - confidence level of the Wilson interval of the accuracy.

    Returns
    -------
    confusion : pandas.DataFrame
        ``true_class`` (rows N0, N1-2, N>=3), one count column per predicted class (the
        three classes, plus :data:`UNSCORED` when it occurs) and ``total``.
    metrics : pandas.DataFrame
        One row with :data:`METRIC_COLUMNS`: ``n``, ``accuracy`` (proportion) with its
        Wilson CI, Cohen's ``kappa`` (unweighted), ``kappa_linear`` and
        ``kappa_quadratic`` (weighted; NaN when unscored patients exist), ``n_unscored``,
        the two cutoffs, where the level-2 scores came from, and a ``note``.
    """
    t = cascade["true_class"].astype(str).to_numpy()
    p = cascade["predicted_class"].astype(str).to_numpy()
    n_unscored = int((p == UNSCORED).sum())
    cols = list(CLASSES) + ([UNSCORED] if n_unscored else [])
    n = len(t)
    correct = int((t == p).sum())
    lo, hi = wilson_ci(correct, n, alpha=alpha) if n else (np.nan, np.nan)
    kappa, kl, kq, note = _kappas(t, p, cols, n_unscored)
    metrics = pd.DataFrame([{
        "n": n, "accuracy": correct / n if n else np.nan, "accuracy_ci_low": lo,
        "accuracy_ci_high": hi, "kappa": kappa, "kappa_linear": kl, "kappa_quadratic": kq,
        "n_unscored": n_unscored,
        "cutoff_level1": cascade.attrs.get("cutoff_level1", np.nan),
        "cutoff_level2": cascade.attrs.get("cutoff_level2", np.nan),
        "level2_scores": cascade.attrs.get("level2_scores", ""), "note": note}],
        columns=METRIC_COLUMNS)
    return _confusion(t, p, cols), metrics


def _confusion(t: np.ndarray, p: np.ndarray, cols: list[str]) -> pd.DataFrame:
    """Counts of true (rows, :data:`CLASSES`) by predicted class (``cols``), with ``total``."""
    conf = pd.crosstab(pd.Categorical(t, categories=CLASSES),
                       pd.Categorical(p, categories=cols), dropna=False)
    conf = conf.reindex(index=list(CLASSES), columns=cols, fill_value=0).astype(int)
    conf.index.name, conf.columns.name = "true_class", None
    conf["total"] = conf.sum(axis=1)
    return conf.reset_index()


def _kappas(t: np.ndarray, p: np.ndarray, cols: list[str],
            n_unscored: int) -> tuple[float, float, float, str]:
    """Cohen's kappa (unweighted, linear, quadratic) of true ``t`` vs predicted ``p``, and a
    note; NaN when fewer than two classes occur, weighted NaN when patients are unscored
    (:data:`UNSCORED` has no place on the ordinal scale)."""
    from sklearn.metrics import cohen_kappa_score

    if not (len(t) and len(set(t) | set(p)) > 1):
        return np.nan, np.nan, np.nan, ""
    kappa = float(cohen_kappa_score(t, p, labels=cols))
    if n_unscored:
        return kappa, np.nan, np.nan, (
            f"{n_unscored} N0 patient(s) called N+ have no level-2 score (counted as "
            "errors); weighted kappa undefined: score every test patient at level 2 "
            f"(set '{CASCADE_SET}')")
    return (kappa, float(cohen_kappa_score(t, p, labels=list(CLASSES), weights="linear")),
            float(cohen_kappa_score(t, p, labels=list(CLASSES), weights="quadratic")), "")
