"""Nested cross-validation of the whole level fit: the study's internal validation.

The training patients of a level are split into ``K`` stratified outer folds (``R`` times
with different seeds). For each outer fold, EVERYTHING the study fits is refitted on the
other ``K - 1`` folds only, exactly as :func:`alnburden.modeling.level_fit.fit_level` fits
it on the whole training set:

- the segmentation-robustness (ICC) filter, recomputed on the perturbed masks of the
  outer-training patients only (:func:`outer_icc`);
- the selection (variance, redundancy, mRMR, LASSO), each learner's tuning by inner
  repeated CV, the choice of the learner, the Rad-score cross-fitting;
- the clinical predictor screening, the clinical and combined logistic models;
- the probability cutoff (Youden on the fold's own out-of-fold training predictions, or
  the config's fixed probability).

The held-out fold is then predicted once, and its rows are written with ``set = nested``.
Each outer fold is one Snakemake job (rule ``nested_fold``); :func:`merge_nested` gathers
them. The test set is not touched: it is not even read.

With ``R > 1`` repeats, each training patient is predicted ``R`` times; the merged table
holds the mean of the ``R`` out-of-fold probabilities (and Rad-scores) and the median of
the ``R`` cutoffs, with ``n_repeats``; :func:`nested_repeat_aucs` gives the AUC of every
repeat separately, pooled and averaged over its folds (:func:`nested_fold_aucs`).

Because the ``nested`` rows of a patient come from models that never saw that patient nor
took any decision on it, their AUC estimates the performance of the whole procedure on new
patients of the same population (what a test set estimates), unlike the ``cv`` rows of the
level fit, where the learner, its hyper-parameters, the clinical predictors and the ICC
filter were chosen on all training patients (the tuning estimate).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from alnburden.levels import Level
from alnburden.modeling.level_fit import fit_level, level_data
from alnburden.modeling.optimism import auc
from alnburden.modeling.predictions import PREDICTION_COLUMNS, PREDICTION_EXTRA_COLUMNS
from alnburden.schemas import with_defaults
from alnburden.stats import rates as _rates

logger = logging.getLogger(__name__)

__all__ = ["outer_folds", "nested_infeasible", "outer_icc", "fold_cutoffs", "fit_outer_fold", "merge_nested",
           "nested_repeat_aucs", "nested_fold_aucs", "NESTED_MODELS", "NESTED_COLUMNS"]

#: The models whose nested predictions are written (the chosen learner is ``radiomics``).
NESTED_MODELS = ("radiomics", "clinical", "combined")
#: Columns of one outer fold's table (``results/<level>/nested/fold_<k>.csv``).
NESTED_COLUMNS = [*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS, "cutoff", "repeat", "fold",
                  "learner"]


def outer_folds(y, n_folds: int, n_repeats: int, seed: int,
                groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The outer folds: ``n_repeats`` x ``n_folds`` (train_idx, held_idx) pairs, repeat-major.

    Repeat ``r`` is a :class:`~sklearn.model_selection.StratifiedKFold` with
    ``random_state = seed + r`` (with ``groups``, the ``group`` column that ``split.group``
    gives ``split.csv``: a :class:`~sklearn.model_selection.StratifiedGroupKFold`, so that a
    group's rows are held out together). Outer fold ``k`` of repeat ``r`` has index ``r * n_folds + k``.

    Raises
    ------
    ValueError
        A class smaller than ``n_folds``.
    """
    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=2)
    if counts.min() < n_folds:
        raise ValueError(f"nested CV with {n_folds} outer folds needs at least {n_folds} "
                         f"patients of each class; the training set has {counts[0]} and "
                         f"{counts[1]} - lower internal_validation.nested.folds (or the "
                         "level's nested_folds)")
    out = []
    for r in range(n_repeats):
        if groups is None:
            cv = StratifiedKFold(n_folds, shuffle=True, random_state=seed + r)
            out += list(cv.split(np.zeros(len(y)), y))
        else:
            from sklearn.model_selection import StratifiedGroupKFold

            cv = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed + r)
            out += list(cv.split(np.zeros(len(y)), y, np.asarray(groups)))
    return out


def nested_infeasible(y, folds: list[tuple[np.ndarray, np.ndarray]] | None, n_folds: int,
                      inner_folds: int) -> str:
    """Why the nested CV cannot run on labels ``y`` ("" when it can).

    Every class needs ``n_folds`` patients (one per outer fold), and every outer fold's
    training part ``inner_folds`` of each class (the largest of ``models.cv_folds`` and
    ``models.rad_score_folds``, the level fit's own requirement).
    """
    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=2)
    if counts.min() < n_folds:
        return (f"the training set has {counts[0]} negative and {counts[1]} positive "
                f"patient(s), fewer than the {n_folds} outer folds need")
    for tr, _ in folds or []:
        c = np.bincount(y[tr], minlength=2)
        if c.min() < inner_folds:
            return (f"an outer fold's training part has {c[0]} negative and {c[1]} positive "
                    f"patient(s); the level fit needs {inner_folds} of each (models.cv_folds,"
                    " models.rad_score_folds)")
    return ""


def outer_icc(perturbations: dict[str, pd.DataFrame], patient_ids,
              robustness: dict) -> pd.DataFrame | None:
    """The ICC table of the robustness filter, recomputed on ``patient_ids`` only.

    ``perturbations`` holds the robustness stage's merged long tables by source
    (``perturbation``: original and perturbed images; ``readers``: the two readers' masks;
    one row per patient x rater). The patients outside ``patient_ids`` (the held-out fold)
    are dropped before any ICC is computed, so the filter never sees them; the ICC form,
    keep rule, threshold and source are the study's (config ``radiomics.robustness``,
    :func:`alnburden.extraction.robustness.icc_table` and ``combine_icc``). A fold of a small
    study whose lower bounds keep no feature falls back to the point estimate (logged), and
    to no ICC filter (None) when that keeps none either, or when a source has fewer than two
    patients among ``patient_ids`` (no ICC can be computed; logged).
    """
    from alnburden.extraction.robustness import combine_icc, icc_table

    keep = set(map(str, patient_ids))
    tables = {"perturbation": None, "readers": None}
    for source, long_df in perturbations.items():
        sub = long_df[long_df["patient_id"].astype(str).isin(keep)]
        n_patients = sub["patient_id"].nunique()
        if n_patients < 2:
            logger.warning("ICC (%s): %d of this fold's %d training patient(s) have robustness "
                           "features, an ICC needs 2; the fold runs without the ICC filter "
                           "(raise radiomics.robustness.fraction to avoid this)",
                           source, n_patients, len(keep))
            return None
        logger.info("ICC (%s) recomputed on the %d patient(s) of the outer-training folds",
                    source, n_patients)
        tables[source] = icc_table(sub, icc=robustness.get("icc", "ICC2"),
                                   threshold=float(robustness.get("threshold", 0.75)),
                                   keep_on=robustness.get("keep_on", "ci_low"))
    table = combine_icc(tables["perturbation"], tables["readers"],
                        robustness.get("source", "perturbation"))
    if not table["kept"].any():
        # a small fold: too few perturbed patients for a lower bound above the threshold
        point = table["icc"] >= float(robustness.get("threshold", 0.75))
        logger.warning("no feature passes the robustness filter on this fold's %d patient(s); "
                       "the fold keeps the %d feature(s) whose ICC point estimate passes%s",
                       len(keep), int(point.sum()),
                       "" if point.any() else " (none: the fold runs without the ICC filter)")
        if not point.any():
            return None
        table = table.assign(kept=point.to_numpy())
    return table


def fold_cutoffs(inner: pd.DataFrame, cutoff: str | float) -> dict[str, float]:
    """Each model's cutoff chosen inside an outer fold, on its inner out-of-fold predictions.

    ``inner`` holds the fold fit's ``cv`` rows; ``cutoff`` is ``"youden"`` or a fixed
    probability (returned as is).
    """
    out = {}
    for model, g in inner.groupby("model", sort=True):
        if not isinstance(cutoff, str):
            out[model] = float(cutoff)
            continue
        y, p = g["y_true"].to_numpy().astype(int), g["p"].to_numpy(dtype=float)
        ok = np.isfinite(p)
        out[model] = (float(_rates.youden_cutoff(y[ok], p[ok]))
                      if len(np.unique(y[ok])) == 2 else float("nan"))
    return out


def fit_outer_fold(cohort: pd.DataFrame, split: pd.DataFrame, features: pd.DataFrame | None,
                   perturbations: dict[str, pd.DataFrame] | None, level: Level, variables: list[dict],
                   config: dict, fold: int, nested: dict, robustness: dict | None = None,
                   cutoff: str | float = "youden", n_jobs: int = 1,
                   scratch: str | Path | None = None) -> pd.DataFrame:
    """Fit the whole level on the outer-training folds; predict the held-out fold.

    Parameters
    ----------
    cohort, split, features, level, variables, config, n_jobs
        As for :func:`~alnburden.modeling.level_fit.fit_level` (the study's own inputs).
    perturbations
        The robustness stage's merged long tables by source (``perturbation``,
        ``readers``: patient x rater features, :func:`outer_icc`), or None without the ICC
        filter (a cohort without images).
    fold
        Index of the outer fold, ``repeat * folds + k`` (see :func:`outer_folds`).
    nested
        ``{"folds": K, "repeats": R, "seed": s, "tuning_repeats": t}`` (config
        ``internal_validation.nested``); ``t`` replaces ``models.cv_repeats`` inside the
        fold fit (None keeps it).
    robustness
        Config ``radiomics.robustness`` (ICC form, keep rule, threshold, source).
    cutoff
        Config ``evaluation.cutoff``: ``"youden"`` or a fixed probability.
    scratch
        Folder for the fold fit's own files (models, tables), deleted afterwards; a
        temporary folder by default.

    Returns
    -------
    DataFrame
        :data:`NESTED_COLUMNS`: the held-out patients' predictions of
        :data:`NESTED_MODELS` with ``set = "nested"``, the cutoff chosen inside the fold,
        the repeat and fold, and the learner the fold chose. When the level is too small
        for the nested CV (:func:`nested_infeasible`) the table is empty (the log says
        why) and the level has no nested rows: the summary says so.
    """
    k_folds, n_rep = level.outer_folds_or(int(nested["folds"])), int(nested["repeats"])
    if not 0 <= fold < k_folds * n_rep:
        raise ValueError(f"outer fold {fold} does not exist ({k_folds} folds x {n_rep} "
                         "repeats)")
    sub = _outer_fold_data(cohort, split, level, config, fold, nested)
    if sub is None:
        return pd.DataFrame(columns=NESTED_COLUMNS)
    sub_cohort, sub_split, ids_tr = sub
    icc = None
    if features is not None and perturbations is not None:
        icc = outer_icc(perturbations, ids_tr, robustness or {})
    preds, learner = _fit_fold(sub_cohort, sub_split, features, icc, level, variables,
                               _fold_config(config, nested), n_jobs, scratch)
    cuts = fold_cutoffs(preds[preds["set"] == "cv"], cutoff)
    out = preds[(preds["set"] == "test") & preds["model"].isin(NESTED_MODELS)].copy()
    out["set"] = "nested"
    out["cutoff"] = out["model"].map(cuts)
    out["repeat"], out["fold"], out["learner"] = fold // k_folds, fold % k_folds, learner
    return out[NESTED_COLUMNS].reset_index(drop=True)


def _outer_fold_data(cohort: pd.DataFrame, split: pd.DataFrame, level: Level, config: dict,
                     fold: int, nested: dict
                     ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray] | None:
    """The fold fit's cohort and split (outer-training patients as ``train``, the held-out
    fold as ``test``, groups carried) and the outer-training ids; None (logged) when the
    level is too small for the nested CV (:func:`nested_infeasible`)."""
    k_folds, n_rep = level.outer_folds_or(int(nested["folds"])), int(nested["repeats"])
    data = level_data(cohort, split, level)
    train = data[data["set"] == "train"]
    grp = _groups(split, train["patient_id"])
    y = train["y"].to_numpy()
    models_cfg = with_defaults("models", config.get("models"))
    inner = max(int(models_cfg["cv_folds"]), int(models_cfg["rad_score_folds"]))
    why = nested_infeasible(y, None, k_folds, inner)
    folds = [] if why else outer_folds(y, k_folds, n_rep, int(nested["seed"]), grp)
    why = why or nested_infeasible(y, folds, k_folds, inner)
    if why:
        logger.warning("%s: nested cross-validation skipped: %s", level.name, why)
        return None
    tr, held = folds[fold]
    ids_tr = train["patient_id"].to_numpy()[tr]
    ids_held = train["patient_id"].to_numpy()[held]
    logger.info("%s outer fold %d (repeat %d, fold %d): %d training, %d held-out patients",
                level.name, fold, fold // k_folds, fold % k_folds, len(tr), len(held))
    pid = cohort["patient_id"].astype(str)
    sub_cohort = cohort[pid.isin(set(ids_tr) | set(ids_held))].reset_index(drop=True)
    sub_split = pd.DataFrame({"patient_id": [*ids_tr, *ids_held],
                              "set": ["train"] * len(ids_tr) + ["test"] * len(ids_held)})
    if grp is not None:  # the fold fit's inner folds keep the groups together too
        sub_split["group"] = np.r_[grp[tr], grp[held]]
    return sub_cohort, sub_split, ids_tr


def _fold_config(config: dict, nested: dict) -> dict:
    """The config of a fold fit: the study's, with ``tuning_repeats`` as ``models.cv_repeats``
    when given."""
    if not nested.get("tuning_repeats"):
        return config
    return {**config, "models": {**(config.get("models") or {}),
                                 "cv_repeats": int(nested["tuning_repeats"])}}


def _fit_fold(cohort: pd.DataFrame, split: pd.DataFrame, features: pd.DataFrame | None,
              icc: pd.DataFrame | None, level: Level, variables: list[dict], config: dict,
              n_jobs: int, scratch: str | Path | None) -> tuple[pd.DataFrame, str]:
    """:func:`~alnburden.modeling.level_fit.fit_level` in an outer-fold's scratch folder
    (deleted unless given): its predictions and the learner it chose."""
    own = scratch is None
    folder = Path(tempfile.mkdtemp(prefix="nested_")) if own else Path(scratch)
    try:
        preds = fit_level(cohort, split, features, icc, level, variables, config,
                          out_dir=folder, n_jobs=n_jobs, outer_fold=True)
        return preds, _chosen_learner(folder / level.name / "models" / "learners_cv.csv")
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def _groups(split: pd.DataFrame, patient_ids: pd.Series) -> np.ndarray | None:
    """The ``group`` of each patient from ``split.csv`` (config ``split.group``), or None."""
    if "group" not in split.columns:
        return None
    by_id = split.assign(patient_id=split["patient_id"].astype(str)).drop_duplicates(
        "patient_id").set_index("patient_id")["group"]
    return by_id.reindex(patient_ids.astype(str)).astype(str).to_numpy()


def _chosen_learner(path: Path) -> str:
    if not path.is_file():
        return ""
    t = pd.read_csv(path)
    chosen = t.loc[t["chosen"].astype(str).str.lower() == "true", "learner"]
    return str(chosen.iloc[0]) if len(chosen) else ""


def merge_nested(folds: list[pd.DataFrame]) -> pd.DataFrame:
    """The outer folds' rows as one ``set = nested`` table, one row per patient and model.

    Every training patient must be held out exactly once per repeat. Over ``R > 1``
    repeats the probability and Rad-score are averaged and the cutoff is the median of the
    ``R`` fold cutoffs; ``n_repeats`` counts them.

    Raises
    ------
    ValueError
        A patient held out twice in one repeat, or repeats that did not hold out the same
        patients (some outer fold is missing).
    """
    cols = [*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS, "cutoff", "n_repeats"]
    folds = [f for f in folds if len(f)]
    if not folds:
        return pd.DataFrame(columns=cols)
    allf = pd.concat(folds, ignore_index=True)
    key = ["level", "model", "patient_id"]
    dup = allf.duplicated([*key, "repeat"])
    if dup.any():
        raise ValueError(f"patients held out twice in one repeat: "
                         f"{allf.loc[dup, 'patient_id'].unique()[:5].tolist()}")
    per = allf.groupby(key, sort=True)["repeat"].nunique()
    n_rep = allf["repeat"].nunique()
    if (per != n_rep).any():
        miss = per.index[per != n_rep].get_level_values("patient_id").unique()[:5].tolist()
        raise ValueError(f"patients {miss} are missing from some of the {n_rep} repeats; "
                         "an outer fold's table is missing")
    first = allf.sort_values("repeat", kind="stable").drop_duplicates(key)
    agg = allf.groupby(key, sort=True).agg(p=("p", "mean"), rad_score=("rad_score", "mean"),
                                           cutoff=("cutoff", "median"),
                                           n_repeats=("repeat", "nunique"))
    out = first.drop(columns=["p", "rad_score", "cutoff", "repeat", "fold", "learner"]).merge(
        agg.reset_index(), on=key)
    return out[cols].sort_values(["model", "patient_id"], kind="stable").reset_index(drop=True)


def nested_repeat_aucs(folds: list[pd.DataFrame]) -> pd.DataFrame:
    """AUC of every model in every repeat (``level, model, repeat, n, events, auc,
    auc_fold_mean, learners_chosen``): ``auc`` of the repeat's pooled out-of-fold
    predictions, ``auc_fold_mean`` the mean of its folds' own AUCs
    (:func:`nested_fold_aucs`), and the learner chosen in each of its outer folds."""
    cols = ["level", "model", "repeat", "n", "events", "auc", "auc_fold_mean",
            "learners_chosen"]
    folds = [f for f in folds if len(f)]
    if not folds:
        return pd.DataFrame(columns=cols)
    allf = pd.concat(folds, ignore_index=True)
    fold_mean = nested_fold_aucs(folds).groupby(["level", "model", "repeat"])["auc"].mean()
    rows = []
    for (level, model, rep), g in allf.groupby(["level", "model", "repeat"], sort=True):
        learners = g.drop_duplicates("fold").sort_values("fold")["learner"].astype(str)
        rows.append({"level": level, "model": model, "repeat": int(rep), "n": len(g),
                     "events": int(g["y_true"].sum()), "auc": auc(g["y_true"], g["p"]),
                     "auc_fold_mean": float(fold_mean.get((level, model, rep), np.nan)),
                     "learners_chosen": ", ".join(learners)})
    return pd.DataFrame(rows, columns=cols)


def nested_fold_aucs(folds: list[pd.DataFrame]) -> pd.DataFrame:
    """AUC of every model in every outer fold (``level, model, repeat, fold, n, events,
    auc``), each on the fold's own held-out patients and model.

    Their mean over folds (and repeats) is the fold-averaged nested AUC (Forman & Scholz
    2010, *SIGKDD Explor.* 12:49, "AUC_avg"): unlike the AUC of the pooled out-of-fold
    predictions it does not rank one fold's patients against another's, whose models
    differ (under the null, an intercept-only fold gives every held-out patient its own
    training prevalence, which is lower when the fold holds more events, and the pooled AUC
    falls below 0.5). A fold with one class only gets NaN.
    """
    cols = ["level", "model", "repeat", "fold", "n", "events", "auc"]
    folds = [f for f in folds if len(f)]
    if not folds:
        return pd.DataFrame(columns=cols)
    rows = [{"level": level, "model": model, "repeat": int(rep), "fold": int(fold),
             "n": len(g), "events": int(g["y_true"].sum()), "auc": auc(g["y_true"], g["p"])}
            for (level, model, rep, fold), g in pd.concat(folds, ignore_index=True).groupby(
                ["level", "model", "repeat", "fold"], sort=True)]
    return pd.DataFrame(rows, columns=cols)
