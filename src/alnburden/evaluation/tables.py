"""Evaluation tables built from ``results/predictions.csv``.

Every function here is a pure function of the predictions table (the contract written
by the modelling stage) and returns a :class:`pandas.DataFrame` whose columns are the
ones documented in ``DESIGN.md`` ("Output tables"); columns may be appended, never
renamed. Rows are sorted in a fixed order (level, model, set, ...) so that two runs
write byte-identical files.

The predictions table has one row per patient x level x set x model::

    patient_id, level, set, model, y_true, p, rad_score[, nodal_class, ki67, ...]

``set`` is ``train`` (apparent: the final model scoring its own training patients),
``cv`` (out-of-fold predictions on the training patients, with the learner, its
hyper-parameters and the clinical predictors chosen on all of them: the tuning estimate),
``nested`` (out-of-fold predictions of the nested cross-validation, everything refitted
without the patient: :mod:`alnburden.modeling.nested`) or ``test``. Any other set
(e.g. ``cascade``, the level-2 model scoring every test patient for the hierarchical
cascade, see :mod:`alnburden.evaluation.cascade`) is ignored by the tables here.

Which tables a study has, their titles and report captions are registered in
:mod:`alnburden.evaluation.registry`, which also computes and writes them all at once.

Operating points
----------------
The probability cutoff of a level/model is chosen ONCE on training patients -- by the
Youden index on its ``nested`` predictions (``cv`` when the study has no nested CV,
``train`` when it has neither), or fixed by the config -- and applied unchanged to
``train``, ``cv`` and ``test``. Apparent predictions are not used when out-of-fold ones
exist: a random forest or k-NN is near-perfect on its own training patients, and a cutoff
chosen there is too high or too low for new patients. The ``nested`` rows carry their own
cutoff (chosen inside their outer fold, column ``cutoff``), so their sensitivity and
specificity are honest too. The test set never influences a cutoff. A patient is called
positive when ``p >= cutoff`` (the convention of :mod:`alnburden.stats.rates`).

Comparisons
-----------
DeLong tests and NRI/IDI compare two models' predictions of the same kind only: both
out-of-fold (``cv``, ``nested``) or both on the test set. The ``train`` rows are never
compared: the combined model's apparent predictions use out-of-fold Rad-scores while the
radiomics model's are apparent, so their difference means nothing. Hosmer-Lemeshow uses
``df = G - 2`` on ``train`` (the data the model was fitted on) and ``df = G`` elsewhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from alnburden.modeling.predictions import PREDICTION_COLUMNS
from alnburden.stats import calibration as _cal
from alnburden.stats import dca as _dca
from alnburden.stats import delong as _delong
from alnburden.stats import interaction as _interaction
from alnburden.stats import rates as _rates
from alnburden.stats import reclassification as _reclass

logger = logging.getLogger(__name__)

#: The evaluated sets, in display order.
SETS = ("train", "cv", "nested", "test")
#: What each set's predictions are (column ``predictions`` of the comparison tables).
SET_KINDS = {"train": "apparent (models scoring their own training patients)",
             "cv": "out-of-fold, choices made on all training patients (tuning estimate)",
             "nested": "out-of-fold, nested cross-validation",
             "test": "independent test set"}
#: Sets whose predictions come from models fitted on the same patients.
FITTED_SETS = ("train",)
#: Sets on which two models' predictions are of the same kind and may be compared.
COMPARABLE_SETS = ("cv", "nested", "test")
#: Where the Youden cutoff is chosen, in order of preference (the first present).
CUTOFF_SOURCES = ("nested", "cv", "train")


def display_sets(present: Iterable[str]) -> tuple[str, ...]:
    """The sets a figure or summary shows, of those ``present``: apparent, the honest
    internal estimate (``nested``; ``cv``, the tuning estimate, only without it), test."""
    present = set(present)
    internal = "nested" if "nested" in present else "cv"
    return tuple(s for s in ("train", internal, "test") if s in present)
#: The study's three models, in display order (learners follow, alphabetically).
PRIMARY_MODELS = ("radiomics", "clinical", "combined")
#: Pairs compared by the paired DeLong test (model_a vs model_b), when both exist.
DELONG_PAIRS = (("combined", "radiomics"), ("combined", "clinical"), ("radiomics", "clinical"))
#: Pairs compared by NRI/IDI (model_new vs model_old), when both exist.
RECLASSIFICATION_PAIRS = (("combined", "radiomics"), ("combined", "clinical"))
#: Reference strategies of decision-curve analysis.
REFERENCE_STRATEGIES = ("treat_all", "treat_none")
_RATES = ("sensitivity", "specificity", "accuracy", "ppv", "npv")

PERFORMANCE_COLUMNS = (
    ["level", "model", "set", "n", "events", "auc", "auc_ci_low", "auc_ci_high", "cutoff"]
    + [c for r in _RATES for c in (r, f"{r}_ci_low", f"{r}_ci_high")]
    + ["tp", "fp", "tn", "fn", "cutoff_source"]
)
DELONG_COLUMNS = ["level", "set", "model_a", "model_b", "auc_a", "auc_b", "z", "p", "n",
                  "predictions"]
CALIBRATION_COLUMNS = ["level", "model", "set", "brier", "hl_chi2", "hl_df", "hl_p", "slope",
                       "intercept", "slope_ci_low", "slope_ci_high", "intercept_ci_low",
                       "intercept_ci_high", "n", "events", "scaled_brier", "ici", "e90"]
DCA_COLUMNS = ["level", "model", "set", "threshold", "net_benefit"]
RECLASSIFICATION_COLUMNS = ["level", "set", "model_new", "model_old", "nri", "nri_ci_low",
                            "nri_ci_high", "idi", "idi_ci_low", "idi_ci_high", "n", "events",
                            "predictions"]
SUBGROUP_COLUMNS = ["level", "model", "subgroup", "n", "events", "auc", "auc_ci_low",
                    "auc_ci_high", "p_difference", "note", "set", "p_interaction",
                    "calibration_slope", "calibration_intercept", "brier"]


# --------------------------------------------------------------------------- helpers
def check_predictions(pred: pd.DataFrame, extra: Iterable[str] = ()) -> pd.DataFrame:
    """Check the predictions contract and return a typed copy.

    Parameters
    ----------
    pred
        The predictions table (``results/predictions.csv``).
    extra
        Further columns the caller needs (e.g. ``ki67``, ``nodal_class``).

    Returns
    -------
    pandas.DataFrame
        A copy with ``patient_id``/``level``/``set``/``model`` as str and ``p`` as float.

    Raises
    ------
    ValueError
        If a column is missing, a probability lies outside [0, 1], or a patient appears
        twice in one level/set/model.
    """
    missing = [c for c in (*PREDICTION_COLUMNS, *extra) if c not in pred.columns]
    if missing:
        raise ValueError(
            f"predictions table lacks column(s) {missing}; the modelling stage must write "
            f"{list(PREDICTION_COLUMNS)} plus {list(extra) or 'nothing else'} (see DESIGN.md)"
        )
    out = pred.copy()
    for c in ("patient_id", "level", "set", "model"):
        out[c] = out[c].astype(str)
    out["p"] = pd.to_numeric(out["p"], errors="raise").astype(float)
    bad = out["p"].notna() & ~out["p"].between(0.0, 1.0)
    if bad.any():
        row = out.loc[bad].iloc[0]
        raise ValueError(
            f"probability p={row['p']!r} of patient {row['patient_id']} ({row['level']}/"
            f"{row['set']}/{row['model']}) is outside [0, 1]; write probabilities, not logits"
        )
    dup = out.duplicated(["level", "set", "model", "patient_id"])
    if dup.any():
        row = out.loc[dup].iloc[0]
        raise ValueError(
            f"patient {row['patient_id']} appears more than once in {row['level']}/{row['set']}/"
            f"{row['model']}; write one prediction per patient (average repeated CV predictions)"
        )
    return out


def evaluable(pred: pd.DataFrame, sets: Sequence[str] = SETS) -> pd.DataFrame:
    """Rows of ``sets`` (default :data:`SETS`) with a label and a probability, ``y_true`` as int.

    Raises
    ------
    ValueError
        If a label is not 0/1.
    """
    out = pred[pred["set"].isin(sets)].dropna(subset=["y_true", "p"]).copy()
    out["y_true"] = out["y_true"].astype(int)
    bad = ~out["y_true"].isin([0, 1])
    if bad.any():
        raise ValueError(
            f"y_true must be 0/1, got {sorted(out.loc[bad, 'y_true'].unique().tolist())}"
        )
    return out


def model_order(models: Iterable[str]) -> list[str]:
    """Display order: radiomics, clinical, combined, then learners alphabetically."""
    models = set(models)
    head = [m for m in PRIMARY_MODELS if m in models]
    refs = [m for m in REFERENCE_STRATEGIES if m in models]
    rest = sorted(models - set(head) - set(refs))
    return head + rest + refs


def _sort(df: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Sort rows in the canonical order (levels and ... alphabetically, sets/models fixed)."""
    if df.empty:
        return df.reset_index(drop=True)
    tmp = df.copy()
    sort_cols = []
    for k in keys:
        if k in ("model", "model_a", "model_b", "model_new", "model_old"):
            order = model_order(tmp[k].unique())
            tmp[f"_{k}"] = tmp[k].map({m: i for i, m in enumerate(order)})
        elif k == "set":
            order = list(SETS) + sorted(set(tmp[k]) - set(SETS))
            tmp[f"_{k}"] = tmp[k].map({s: i for i, s in enumerate(order)})
        else:
            tmp[f"_{k}"] = tmp[k]
        sort_cols.append(f"_{k}")
    tmp = tmp.sort_values(sort_cols, kind="mergesort")
    return tmp.drop(columns=sort_cols).reset_index(drop=True)


def _two_classes(y: np.ndarray) -> bool:
    return len(np.unique(y)) == 2


def _auc_ci(y: np.ndarray, p: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """DeLong AUC and CI; NaN when only one class is present (AUC undefined)."""
    if not _two_classes(y):
        return (np.nan, np.nan, np.nan)
    auc, lo, hi = _delong.auc_ci(y, p, alpha=alpha)
    return float(auc), float(lo), float(hi)


def _paired(group: pd.DataFrame, models: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Align the predictions of ``models`` on the patients they share.

    Returns the labels and one probability vector per model, in patient-id order.
    """
    sub = group[group["model"].isin(models)]
    wide = sub.pivot(index="patient_id", columns="model", values="p")
    ys = sub.pivot(index="patient_id", columns="model", values="y_true")
    complete = wide.notna().all(axis=1)
    if not complete.all():
        logger.warning("%d patient(s) lack a prediction of one of %s; compared on the %d "
                       "shared patients", int((~complete).sum()), list(models), int(complete.sum()))
    wide, ys = wide[complete].sort_index(), ys[complete].sort_index()
    if (ys.nunique(axis=1) > 1).any():
        pid = ys.index[ys.nunique(axis=1) > 1][0]
        raise ValueError(f"patient {pid} has different y_true across models {list(models)}; "
                         "every model of a level/set must be scored against the same labels")
    y = ys.iloc[:, 0].to_numpy(dtype=int) if len(ys) else np.array([], dtype=int)
    return y, {m: wide[m].to_numpy(dtype=float) for m in models}


def _paired_groups(pred: pd.DataFrame, pairs: Sequence[tuple[str, str]]):
    """Yield ``level, set, model_a, model_b, y, {model: p}`` for every pair of ``pairs``
    whose two models both have predictions in a level/set (see :func:`_paired`)."""
    for (level, set_), g in pred.groupby(["level", "set"], sort=True):
        present = set(g["model"])
        for a, b in pairs:
            if a in present and b in present:
                y, ps = _paired(g, [a, b])
                yield level, set_, a, b, y, ps


def _sort_pairs(out: pd.DataFrame, pairs: Sequence[tuple[str, str]], first: str,
                second: str) -> pd.DataFrame:
    """Rows sorted by level, set, then the position of ``(first, second)`` in ``pairs``."""
    if out.empty:
        return out
    rank = {pr: i for i, pr in enumerate(pairs)}
    out["_pair"] = [rank[pr] for pr in zip(out[first], out[second])]
    return _sort(out, ["level", "set", "_pair"]).drop(columns="_pair")


def _counts(out: pd.DataFrame, columns: Sequence[str] = ("n", "events")) -> pd.DataFrame:
    """``columns`` as nullable integers (a count stays an integer beside NaN rows)."""
    for c in columns:
        out[c] = out[c].astype("Int64")
    return out


# --------------------------------------------------------------------------- cutoffs
def choose_cutoffs(pred: pd.DataFrame, cutoff: str | float = "youden") -> pd.DataFrame:
    """Probability cutoff of every level/model, chosen on the training set only.

    Parameters
    ----------
    pred
        Predictions table.
    cutoff
        ``"youden"`` (maximise sensitivity + specificity - 1 on the training patients'
        out-of-fold predictions: the first of :data:`CUTOFF_SOURCES` the level/model has)
        or a fixed probability in (0, 1), e.g. ``0.52``.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, model, cutoff, cutoff_source``. ``cutoff_source`` is ``nested``,
        ``cv``, ``train`` (apparent: only a model with no out-of-fold predictions) or
        ``fixed``.
    """
    pred = evaluable(check_predictions(pred))
    if isinstance(cutoff, str):
        if cutoff != "youden":
            raise ValueError(f"cutoff {cutoff!r} is not understood; use 'youden' or a "
                             "probability strictly between 0 and 1, e.g. 0.52")
    elif not 0.0 < float(cutoff) < 1.0:
        raise ValueError(f"cutoff {cutoff!r} is not a probability strictly between 0 and 1")
    rows = []
    for (level, model), g in pred.groupby(["level", "model"], sort=True):
        if not isinstance(cutoff, str):
            rows.append((level, model, float(cutoff), "fixed"))
            continue
        source = next((s for s in CUTOFF_SOURCES if (g["set"] == s).any()), "train")
        fit = g[g["set"] == source]
        y, p = fit["y_true"].to_numpy(), fit["p"].to_numpy()
        if len(fit) == 0 or not _two_classes(y):
            logger.warning("%s/%s: no two-class training predictions; cutoff undefined",
                           level, model)
            rows.append((level, model, np.nan, source))
            continue
        rows.append((level, model, float(_rates.youden_cutoff(y, p)), source))
    out = pd.DataFrame(rows, columns=["level", "model", "cutoff", "cutoff_source"])
    return _sort(out, ["level", "model"])


# --------------------------------------------------------------------------- ROC / performance
def performance_table(pred: pd.DataFrame, cutoff: str | float = "youden",
                      alpha: float = 0.05) -> pd.DataFrame:
    """Discrimination and operating-point table (``results/tables/performance.csv``).

    Parameters
    ----------
    pred
        Predictions table.
    cutoff
        ``"youden"`` or a fixed probability; see :func:`choose_cutoffs`. The cutoff of a
        level/model is chosen on training patients and reused unchanged on every set but
        ``nested``, whose rows carry the cutoff chosen inside their outer fold (the
        ``cutoff`` column of the table is then their median).
    alpha
        1 - confidence level of every interval (DeLong for the AUC, Wilson for rates).

    Returns
    -------
    pandas.DataFrame
        One row per level/model/set with :data:`PERFORMANCE_COLUMNS`: ``n`` patients,
        ``events`` (label 1), AUC with CI, the cutoff (probability), sensitivity,
        specificity, accuracy, PPV and NPV (proportions, 0-1) with CIs, and the
        confusion counts, and ``cutoff_source`` (where the cutoff was chosen). AUC is NaN
        when a set holds one class only.
    """
    pred = evaluable(check_predictions(pred))
    chosen = choose_cutoffs(pred, cutoff).set_index(["level", "model"])
    rows = []
    for (level, model, set_), g in pred.groupby(["level", "model", "set"], sort=True):
        y, p = g["y_true"].to_numpy(), g["p"].to_numpy()
        auc, lo, hi = _auc_ci(y, p, alpha)
        own = _own_cutoffs(g)
        if own is not None:  # nested rows: the cutoff of each row's own outer fold
            c, source, score, at = float(np.median(own)), "each outer fold", p - own, 0.0
        else:
            c = float(chosen["cutoff"].get((level, model), np.nan))
            source = chosen["cutoff_source"].get((level, model), "")
            score, at = p, c
        row = {"level": level, "model": model, "set": set_, "n": len(y), "events": int(y.sum()),
               "auc": auc, "auc_ci_low": lo, "auc_ci_high": hi, "cutoff": c,
               "cutoff_source": source}
        if np.isfinite(c):
            op = _rates.operating_point(y, score, at, alpha=alpha)
            row.update({k: op[k] for k in PERFORMANCE_COLUMNS if k in op and k not in row})
        rows.append(row)
    out = _counts(pd.DataFrame(rows).reindex(columns=PERFORMANCE_COLUMNS),
                  ("n", "events", "tp", "fp", "tn", "fn"))
    return _sort(out, ["level", "model", "set"])


def _own_cutoffs(g: pd.DataFrame) -> np.ndarray | None:
    """The per-row cutoffs of ``nested`` rows (chosen inside each outer fold), else None."""
    if g["set"].iloc[0] != "nested" or "cutoff" not in g.columns:
        return None
    c = pd.to_numeric(g["cutoff"], errors="coerce").to_numpy(dtype=float)
    return c if np.isfinite(c).all() else None


def delong_table(pred: pd.DataFrame,
                 pairs: Sequence[tuple[str, str]] = DELONG_PAIRS,
                 sets: Sequence[str] = COMPARABLE_SETS) -> pd.DataFrame:
    """Paired DeLong comparison of AUCs (``results/tables/auc_delong.csv``).

    Parameters
    ----------
    pred
        Predictions table.
    pairs
        (model_a, model_b) pairs; a pair is skipped where either model is absent.
    sets
        Sets compared; by default those where both models' predictions are of the same
        kind (:data:`COMPARABLE_SETS`: never the apparent ``train`` rows).

    Returns
    -------
    pandas.DataFrame
        :data:`DELONG_COLUMNS`, one row per level/set/pair: both AUCs on the patients
        the two models share (``n``), the DeLong z statistic and two-sided p-value, and
        what the compared ``predictions`` are (:data:`SET_KINDS`).
    """
    rows = []
    for level, set_, a, b, y, ps in _paired_groups(
            evaluable(check_predictions(pred), sets=sets), pairs):
        if not _two_classes(y):
            res = {"auc_a": np.nan, "auc_b": np.nan, "z": np.nan, "p": np.nan}
        else:
            res = _delong.delong_paired_test(y, ps[a], ps[b])
        rows.append({"level": level, "set": set_, "model_a": a, "model_b": b,
                     "auc_a": res["auc_a"], "auc_b": res["auc_b"], "z": res["z"],
                     "p": res["p"], "n": len(y), "predictions": SET_KINDS.get(set_, set_)})
    out = _counts(pd.DataFrame(rows, columns=DELONG_COLUMNS), ("n",))
    return _sort_pairs(out, pairs, "model_a", "model_b")


# --------------------------------------------------------------------------- calibration
def calibration_table(pred: pd.DataFrame, n_groups: int = 10) -> pd.DataFrame:
    """Calibration of every level/model/set (``results/tables/calibration.csv``).

    Parameters
    ----------
    pred
        Predictions table.
    n_groups
        Number of risk groups of the Hosmer-Lemeshow test.

    Returns
    -------
    pandas.DataFrame
        :data:`CALIBRATION_COLUMNS`: Brier score, Hosmer-Lemeshow chi2/df/p (``df = G - 2``
        on ``train``, G elsewhere), and the calibration slope and intercept
        (calibration-in-the-large: logistic recalibration of logit(p), see
        :func:`alnburden.stats.calibration.calibration_slope_intercept`) with Wald CIs; the
        scaled Brier score and the integrated calibration index (ICI) with E90
        (:func:`alnburden.stats.calibration.integrated_calibration_index`); NaN where a
        set holds one class only.
    """
    pred = evaluable(check_predictions(pred))
    rows = []
    for (level, model, set_), g in pred.groupby(["level", "model", "set"], sort=True):
        y, p = g["y_true"].to_numpy(), g["p"].to_numpy()
        row = {"level": level, "model": model, "set": set_, "n": len(y), "events": int(y.sum()),
               "brier": float(_cal.brier(y, p)) if len(y) else np.nan}
        if _two_classes(y):
            hl = _cal.hosmer_lemeshow(y, p, g=n_groups, fitted=set_ in FITTED_SETS)
            cs = _cal.calibration_slope_intercept(y, p)
            ici = _cal.integrated_calibration_index(y, p)
            row.update(hl_chi2=hl["chi2"], hl_df=hl["df"], hl_p=hl["p"],
                       scaled_brier=_cal.scaled_brier(y, p), ici=ici["ici"], e90=ici["e90"],
                       **{k: cs[k] for k in CALIBRATION_COLUMNS if k in cs})
        rows.append(row)
    out = _counts(pd.DataFrame(rows).reindex(columns=CALIBRATION_COLUMNS))
    return _sort(out, ["level", "model", "set"])


# --------------------------------------------------------------------------- decision curves
def dca_thresholds(start: float = 0.01, stop: float = 0.99, step: float = 0.01) -> np.ndarray:
    """Threshold probabilities ``start, start+step, ..., stop`` (stop included).

    Rounded to 10 decimals so that the grid is identical on every platform; takes the
    config's ``evaluation.dca_thresholds`` triple (``dca_thresholds(*cfg)``).
    """
    if not 0.0 < start <= stop < 1.0 or step <= 0:
        raise ValueError(f"dca_thresholds ({start}, {stop}, {step}) must satisfy "
                         "0 < start <= stop < 1 and step > 0, e.g. [0.01, 0.99, 0.01]")
    n = int(np.floor((stop - start) / step + 1e-9)) + 1
    return np.round(start + step * np.arange(n), 10)


def dca_table(pred: pd.DataFrame, thresholds: Sequence[float] | np.ndarray,
              models: Sequence[str] | None = None) -> pd.DataFrame:
    """Net benefit of every model and of treat-all/treat-none (``results/tables/dca.csv``).

    Parameters
    ----------
    pred
        Predictions table.
    thresholds
        Threshold probabilities (0-1), e.g. :func:`dca_thresholds`.
    models
        Models to include; default all models of the table.

    Returns
    -------
    pandas.DataFrame
        :data:`DCA_COLUMNS`, one row per level/set/model/threshold; ``model`` also takes
        the values ``treat_all`` and ``treat_none``.
    """
    pred = evaluable(check_predictions(pred))
    thresholds = np.asarray(thresholds, dtype=float)
    parts = []
    for (level, set_), g in pred.groupby(["level", "set"], sort=True):
        ms = model_order(g["model"].unique() if models is None
                         else [m for m in models if m in set(g["model"])])
        if not ms:
            continue
        y, ps = _paired(g, ms)
        if len(y) == 0:
            continue
        d = _dca.decision_curve(y, ps, thresholds)
        d = d.assign(level=level, set=set_)
        parts.append(d)
    if not parts:
        return pd.DataFrame(columns=DCA_COLUMNS)
    out = pd.concat(parts, ignore_index=True).reindex(columns=DCA_COLUMNS)
    out["threshold"] = out["threshold"].astype(float).round(10)
    return _sort(out, ["level", "model", "set", "threshold"])


def clinical_impact_table(pred: pd.DataFrame, level: str, thresholds: Sequence[float],
                          model: str = "combined", set_: str = "test",
                          population: int = 1000) -> pd.DataFrame:
    """Clinical impact curve data of one level/model/set.

    Returns
    -------
    pandas.DataFrame
        ``threshold, n_high_risk, n_high_risk_events`` per ``population`` patients.
    """
    g = evaluable(check_predictions(pred))
    g = g[(g["level"] == level) & (g["model"] == model) & (g["set"] == set_)]
    if g.empty:
        raise ValueError(f"no {model!r} predictions for level {level!r}, set {set_!r}; "
                         f"available models: {sorted(pred['model'].astype(str).unique())}")
    return _dca.clinical_impact(g["y_true"].to_numpy(), g["p"].to_numpy(),
                                np.asarray(thresholds, float), population=population)


# --------------------------------------------------------------------------- reclassification
def reclassification_table(pred: pd.DataFrame, n_boot: int = 1000, seed: int = 2026,
                           pairs: Sequence[tuple[str, str]] = RECLASSIFICATION_PAIRS,
                           sets: Sequence[str] = ("nested", "test"),
                           alpha: float = 0.05) -> pd.DataFrame:
    """Continuous NRI and IDI of a new model over an old one, with bootstrap CIs.

    Parameters
    ----------
    pred
        Predictions table.
    n_boot
        Bootstrap resamples of the CIs (0: no CIs, NaN).
    seed
        ``random_state`` of the bootstrap (the config's seed).
    pairs
        (model_new, model_old) pairs; default combined vs radiomics and vs clinical.
    sets
        Sets to evaluate: by default the nested out-of-fold and the test predictions (both
        models' predictions of the same kind; ``cv`` would also be, but repeats the
        tuning estimate).
    alpha
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        :data:`RECLASSIFICATION_COLUMNS` (NRI and IDI as proportions; ``predictions``
        says what the compared predictions are).
    """
    rows = []
    for level, set_, new, old, y, ps in _paired_groups(evaluable(check_predictions(pred),
                                                                 sets=sets), pairs):
        rows.append({"level": level, "set": set_, "model_new": new, "model_old": old,
                     "n": len(y), "events": int(y.sum()),
                     "predictions": SET_KINDS.get(set_, set_),
                     **_reclassification(y, ps[new], ps[old], n_boot, seed, alpha)})
    out = _counts(pd.DataFrame(rows).reindex(columns=RECLASSIFICATION_COLUMNS))
    return _sort_pairs(out, pairs, "model_new", "model_old")


def _reclassification(y: np.ndarray, p_new: np.ndarray, p_old: np.ndarray, n_boot: int,
                      seed: int, alpha: float) -> dict[str, float]:
    """NRI and IDI of ``p_new`` over ``p_old`` with bootstrap CIs (none when ``n_boot`` is
    0); empty when ``y`` holds one class."""
    if not _two_classes(y):
        return {}
    row = {"nri": _reclass.nri_continuous(y, p_new, p_old)["nri"],
           "idi": _reclass.idi(y, p_new, p_old)["idi"]}
    if n_boot > 0:
        for stat, fn in (("nri", _reclass.nri_continuous), ("idi", _reclass.idi)):
            row[f"{stat}_ci_low"], row[f"{stat}_ci_high"] = _reclass.bootstrap_ci(
                fn, y, p_new, p_old, n_boot=n_boot, alpha=alpha, random_state=seed, key=stat)
    return row


# --------------------------------------------------------------------------- Ki-67 subgroups
def subgroup_labels(ki67_cutoff: float = 20) -> tuple[str, str]:
    """Labels of the low and high Ki-67 subgroups, e.g. ``("Ki-67 < 20%", "Ki-67 >= 20%")``."""
    return f"Ki-67 < {ki67_cutoff:g}%", f"Ki-67 >= {ki67_cutoff:g}%"


_SUBGROUP_RE = re.compile(r"^Ki-67 (<|>=) ")


def subgroup_kind(label: str) -> str | None:
    """``"low"`` or ``"high"`` for a label made by :func:`subgroup_labels`, else None."""
    m = _SUBGROUP_RE.match(str(label))
    return None if m is None else ("low" if m.group(1) == "<" else "high")


def subgroup_table(pred: pd.DataFrame, ki67_cutoff: float = 20,
                   models: Sequence[str] = ("radiomics", "combined"),
                   sets: Sequence[str] = ("test", "nested"),
                   alpha: float = 0.05) -> pd.DataFrame:
    """AUC of each model within Ki-67 subgroups (``results/tables/subgroups.csv``).

    Parameters
    ----------
    pred
        Predictions table with a ``ki67`` column (%).
    ki67_cutoff
        Ki-67 (%) separating the subgroups: low is ``ki67 < cutoff``, high ``>= cutoff``.
    models
        Models evaluated (those present in the table).
    sets
        Sets evaluated (those present): the test set and the nested out-of-fold
        predictions, data the models were not fitted on.
    alpha
        1 - confidence level of the DeLong CI.

    Returns
    -------
    pandas.DataFrame
        :data:`SUBGROUP_COLUMNS`, two rows per level/model/set (low then high).
        ``p_interaction`` is the likelihood-ratio test of the model's linear predictor x
        subgroup (:func:`alnburden.stats.interaction.interaction_lrt`): whether the
        relation between the prediction and the outcome differs between the subgroups;
        ``p_difference`` the two-sided p-value of the z test of the difference of the two
        independent AUCs (DeLong variances), which also reacts to a different case mix.
        Both are repeated on the two rows of the pair. ``calibration_slope``,
        ``calibration_intercept`` and ``brier`` are the subgroup's calibration. A
        subgroup holding a single class gets NaN AUC and a ``note``; it never fails.
        Patients with missing Ki-67 are left out (counted in the note). A table with no
        Ki-67 value at all (a cohort without ``ki67``) gives an empty table (header only):
        the subgroup analysis is skipped.
    """
    pred = evaluable(check_predictions(pred, extra=("ki67",)), sets=tuple(sets))
    if not pd.to_numeric(pred["ki67"], errors="coerce").notna().any():
        logger.info("no Ki-67 value in the predictions: subgroup analysis skipped")
        return _empty_subgroups()
    labels = subgroup_labels(ki67_cutoff)
    rows = []
    for (level, model, set_), g in pred.groupby(["level", "model", "set"], sort=True):
        if model in models:
            rows += [{**r, "set": set_} for r in _subgroup_pair(g, ki67_cutoff, labels, alpha)]
    out = pd.DataFrame(rows).reindex(columns=SUBGROUP_COLUMNS)
    out["note"] = out["note"].fillna("")
    out = _counts(out)
    if out.empty:
        return out
    out["_sub"] = out["subgroup"].map({labels[0]: 0, labels[1]: 1})
    order = {s: i for i, s in enumerate(sets)}
    out["_set"] = out["set"].map(order)
    return _sort(out, ["level", "model", "_set", "_sub"]).drop(columns=["_sub", "_set"])


def _subgroup_pair(g: pd.DataFrame, ki67_cutoff: float, labels: tuple[str, str],
                   alpha: float) -> list[dict]:
    """The low and high Ki-67 rows of one level/model's predictions ``g``, both carrying
    the p-value of the difference of their AUCs."""
    ki = pd.to_numeric(g["ki67"], errors="coerce")
    n_missing = int(ki.isna().sum())
    rows, stats = [], []
    for label, mask in zip(labels, (ki < ki67_cutoff, ki >= ki67_cutoff)):
        y, p = g.loc[mask, "y_true"].to_numpy(), g.loc[mask, "p"].to_numpy()
        auc, lo, hi, var, notes = _subgroup_auc(y, p, alpha)
        if n_missing:
            notes.append(f"{n_missing} patient(s) without Ki-67 excluded")
        stats.append((auc, var))
        rows.append({"level": g["level"].iloc[0], "model": g["model"].iloc[0],
                     "subgroup": label, "n": len(y), "events": int(y.sum()), "auc": auc,
                     "auc_ci_low": lo, "auc_ci_high": hi, "note": "; ".join(notes),
                     **_subgroup_calibration(y, p)})
    (a1, v1), (a2, v2) = stats
    pdiff = np.nan
    if np.all(np.isfinite([a1, v1, a2, v2])) and (v1 + v2) > 0:
        pdiff = float(_delong.auc_difference_test(a1, v1, a2, v2)[1])
    known = ki.notna().to_numpy()
    inter = _interaction.interaction_lrt(g["y_true"].to_numpy()[known],
                                         g["p"].to_numpy()[known],
                                         (ki[known] >= ki67_cutoff).to_numpy())
    for row in rows:
        row["p_difference"], row["p_interaction"] = pdiff, inter["p"]
    return rows


def _subgroup_calibration(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Calibration slope, intercept and Brier score of one subgroup (NaN if undefined)."""
    out = {"calibration_slope": np.nan, "calibration_intercept": np.nan,
           "brier": float(_cal.brier(y, p)) if len(y) else np.nan}
    if _two_classes(y):
        cs = _cal.calibration_slope_intercept(y, p)
        out.update(calibration_slope=cs["slope"], calibration_intercept=cs["intercept"])
    return out


def _subgroup_auc(y: np.ndarray, p: np.ndarray,
                  alpha: float) -> tuple[float, float, float, float, list[str]]:
    """AUC, CI bounds and DeLong variance of one subgroup, with notes on what is undefined."""
    if len(y) == 0:
        return np.nan, np.nan, np.nan, np.nan, ["no patients in this subgroup"]
    if not _two_classes(y):
        return (np.nan, np.nan, np.nan, np.nan,
                [f"AUC undefined: all {len(y)} patients have label {int(y[0])}"])
    auc, lo, hi = _auc_ci(y, p, alpha)
    var = float(_delong.delong_roc_variance(y, p)[1])
    notes = []
    if not np.isfinite(var):
        notes.append(f"CI undefined: {int(y.sum())} event(s) and "
                     f"{int(len(y) - y.sum())} non-event(s); DeLong needs 2 of each")
    return auc, lo, hi, var, notes


def _empty_subgroups() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=float) for c in SUBGROUP_COLUMNS})
    for c in ("level", "model", "subgroup", "note", "set"):
        out[c] = out[c].astype(object)
    return _counts(out)
