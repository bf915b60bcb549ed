"""Harrell's bootstrap optimism correction of the WHOLE level fit (config
``internal_validation.bootstrap.whole_fit``).

:mod:`alnburden.modeling.optimism` refits only the clinical and combined logistic models in
each resample (the predictor screen repeated, the Rad-score held fixed). Here everything
:func:`alnburden.modeling.level_fit.fit_level` fits is refitted in every resample, as one
outer fold of the nested cross-validation is (:mod:`alnburden.modeling.nested`): the ICC
filter, the selection, every learner's tuning and the choice of the learner, the Rad-score
cross-fitting, the clinical predictor strategy, the clinical and combined models. The
radiomics model (the chosen learner) is validated too.

One resample ``b`` (rule ``whole_fit_resample``, one Snakemake job each)
-------------------------------------------------------------------------
1. **Draw** (:func:`draw_resample`): the level's ``n`` training patients are drawn with
   replacement, stratified by the label (each class keeps its own size, so that the level
   fit's folds always find ``models.cv_folds`` patients of each class). With ``split.group``
   the unit drawn is a group (all its rows together), stratified by the label of its first
   row. The generator is ``numpy.random.default_rng([seed, b])``, ``seed`` being
   ``internal_validation.bootstrap.seed``: resample ``b`` is the same whatever the other jobs.
2. **Copies** (:func:`build_resample`): the ``k``-th copy of patient ``P001`` becomes patient
   ``P001~k`` (every copy gets a new id, the first one included), with the cohort row, the
   radiomic feature row and (for the ICC) the perturbation / second-reader rows of
   ``P001`` (when the robustness stage perturbed it: it perturbs a fraction of the
   patients). The copies of one patient (or of one ``split.group`` group) share one
   ``group`` in the resample's split: the level fit's inner folds
   (:mod:`alnburden.modeling.folds`) keep a group on one side, so no tuning or Rad-score
   fold has a patient in its fitting and its validation part.
3. **Fit** (:func:`fit_resample`): one ``fit_level(..., outer_fold=True)`` on a split whose
   ``train`` rows are the copies and whose ``test`` rows are the ORIGINAL training patients
   under their own ids (distinct from every copy's id, so no row is both). The ICC is
   recomputed on the copies' perturbation rows (:func:`alnburden.modeling.nested.outer_icc`).
   The level's test set is not read. ``fit_level`` returns both sets at once:

   - its ``test`` rows are the original training patients scored by the resample's final
     models (the Rad-score from the resample's final radiomics model), Harrell's *test*
     index;
   - its ``train`` rows are the resample's own apparent predictions (the final models on
     the rows they were fitted on), Harrell's *training* index. For ``combined`` the
     ``train`` rows of ``fit_level`` hold the combined model on the out-of-fold Rad-scores
     it was fitted on; the *test* rows cannot have out-of-fold Rad-scores, so, for the
     three indices to measure the same thing, the combined model's training index (and
     its apparent index, below) is that of the fitted pipeline applied to its own
     training rows: the combined model on the final radiomics model's Rad-scores
     (:func:`applied_train_rows`). Mixing the two kinds gave a negative AUC optimism
     (-0.05 with the logistic learner on a synthetic study of 300 patients).

   Being test rows, the originals are never fitting rows of any step (the leakage test of
   ``tests/test_whole_fit.py`` spies on the selection to prove it).
4. **Score** (:func:`resample_optimism`): for ``radiomics``, ``clinical`` and ``combined``,
   the indices of :func:`alnburden.modeling.optimism.performance_indices` (AUC, calibration
   slope and intercept, Brier) of ``logit(p)`` on both sets; ``optimism_b = training_b -
   test_b``.

Merge (rule ``merge_whole_fit``, :func:`whole_fit_table`)
---------------------------------------------------------
``apparent`` is the index of the level's own ``train`` predictions
(``results/<level>/predictions.csv``; for ``combined``: the level's saved combined model
on its final Rad-scores, :func:`applied_train_rows`); ``optimism`` the mean of
``optimism_b`` over the resamples where both indices exist (``n_resamples`` counts them; a
resample whose fit failed, e.g. too few distinct patients for the folds, is logged and left
out, as ``rms::validate`` drops failed fits); ``corrected = apparent - optimism``; ``oob``
the mean index on each resample's out-of-bag patients (those it did not draw).

Settings and cost
-----------------
The fit of a resample is that of an outer fold (:func:`alnburden.modeling.nested._fold_config`):
``internal_validation.nested.tuning_repeats`` replaces ``models.cv_repeats`` (null: the
final model's procedure exactly). One resample costs one level fit on ``n`` rows, so ``B``
resamples cost ``B`` level fits per level (the default ``B = 20`` is far below the 200 of
the logistic bootstrap; it is an estimate of the optimism with a Monte-Carlo error, see
``docs/internal_validation.md``).

Limits, stated:

- a learner that memorises its training rows (k-NN, random forest; a weakly penalised
  logistic on many features) scores the original patients almost as well as the resample,
  because about 63 % of them were drawn: Harrell's optimism is then too small and the
  corrected index too high (measured in ``docs/internal_validation.md``: corrected radiomics
  AUC 0.97 for k-NN against a test AUC of 0.81). :func:`whole_fit_table` logs a warning; the
  nested cross-validation, or the out-of-bag index ``oob``, is the estimate to read;
- the LASSO's own penalty CV (``selection.lasso_cv_folds``) and the penalized clinical
  strategy's CV split rows without groups, so inside those two steps copies of one patient
  can fall on both sides (as they would with ``split.group`` groups).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.levels import Level
from alnburden.modeling.level_fit import level_data
from alnburden.modeling.nested import NESTED_MODELS, _fit_fold, _fold_config, _groups, outer_icc
from alnburden.modeling.optimism import METRICS, performance_indices
from alnburden.modeling.persistence import load_model, rad_score
from alnburden.schemas import with_defaults

logger = logging.getLogger(__name__)

__all__ = ["COPY_SEPARATOR", "WHOLE_FIT_PROCEDURE", "RESAMPLE_COLUMNS", "WHOLE_FIT_COLUMNS",
           "Resample", "whole_fit_settings", "draw_resample", "build_resample",
           "probability_indices", "applied_train_rows", "resample_optimism", "fit_resample",
           "whole_fit_table", "level_whole_fit", "whole_fit_summary_line"]

#: Joins a patient id and its copy number: the second copy of ``P001`` is ``P001~2``.
COPY_SEPARATOR = "~"
#: The ``procedure`` of this bootstrap's rows in ``results/tables/internal_validation.csv``.
WHOLE_FIT_PROCEDURE = "bootstrap (whole level fit)"
#: Columns of ``results/<level>/whole_fit/resample_<b>.csv``.
RESAMPLE_COLUMNS = ["level", "resample", "model", "metric", "training", "test", "optimism",
                    "oob", "learner", "n_rows", "n_patients", "n_oob"]
#: Columns of ``results/<level>/internal_validation_whole_fit.csv`` (those of
#: ``internal_validation_bootstrap.csv``, then ``procedure``, ``learners_chosen``, ``oob``).
WHOLE_FIT_COLUMNS = ["level", "model", "metric", "apparent", "training", "test", "optimism",
                     "corrected", "n_resamples", "strategy", "procedure", "learners_chosen",
                     "oob"]
_EPS = 1e-12


def whole_fit_settings(bootstrap: dict | None) -> dict:
    """``internal_validation.bootstrap`` over the schema's defaults: ``seed`` and
    ``whole_fit`` (``enabled``, ``n``)."""
    return with_defaults("internal_validation", {"bootstrap": bootstrap or {}})["bootstrap"]


# --------------------------------------------------------------------------- the resample


def draw_resample(y, groups, seed: int, b: int) -> np.ndarray:
    """Row indices (into the training rows) of bootstrap resample ``b``.

    Parameters
    ----------
    y
        0/1 labels of the level's training rows.
    groups
        One group per row (config ``split.group``), or None: each row is its own unit.
    seed
        ``internal_validation.bootstrap.seed``.
    b
        Index of the resample (0-based); the generator is ``default_rng([seed, b])``.

    Returns
    -------
    ndarray of int
        The rows of the drawn units, unit after unit (a unit drawn twice appears twice). Each
        class has as many units as in ``y`` (stratified by the unit's first label).
    """
    y = np.asarray(y).astype(int)
    units = np.arange(len(y)).astype(str) if groups is None else np.asarray(groups).astype(str)
    names, first = np.unique(units, return_index=True)
    rows_of = {u: np.flatnonzero(units == u) for u in names}
    label = y[first]
    rng = np.random.default_rng([int(seed), int(b)])
    drawn = []
    for c in (0, 1):
        pool = names[label == c]
        if len(pool):
            drawn.append(rng.choice(pool, size=len(pool), replace=True))
    order = np.concatenate(drawn) if drawn else np.array([], dtype=str)
    return np.concatenate([rows_of[u] for u in order]) if len(order) else np.array([], int)


@dataclass
class Resample:
    """The inputs of one resample's level fit (:func:`build_resample`).

    Attributes
    ----------
    cohort
        Cohort rows of the copies (new ids) and of the original training patients.
    split
        ``patient_id, set, group``: the copies ``train`` (the copies of one unit in one
        group), the original training patients ``test`` (their own group).
    features
        Radiomic feature rows of the same ids (None without images).
    perturbations
        The robustness long tables by source with the copies' rows only (the copies of
        the resampled patients that were perturbed; None without).
    copy_ids, source_ids
        The id of every copy and the original patient it copies, in resample order.
    original_ids
        The level's training patients, ids untouched.
    """

    cohort: pd.DataFrame
    split: pd.DataFrame
    features: pd.DataFrame | None
    perturbations: dict[str, pd.DataFrame] | None
    copy_ids: np.ndarray
    source_ids: np.ndarray
    original_ids: np.ndarray


def _copy_rows(table: pd.DataFrame, copies: pd.DataFrame, what: str | None) -> pd.DataFrame:
    """Every row of ``table`` whose ``patient_id`` is a source of ``copies``
    (``patient_id, source``), once per copy, under the copy's id. ``what`` names the table
    in the error raised when a source has no row; None: a source without rows has no copy
    (the robustness tables hold a fraction of the patients)."""
    t = table.assign(patient_id=table["patient_id"].astype(str))
    absent = sorted(set(copies["source"]) - set(t["patient_id"]))
    if absent and what is not None:
        raise ValueError(f"{len(absent)} resampled patient(s) have no row in the {what}, e.g. "
                         f"{absent[:5]}; rerun the extraction on this cohort")
    out = copies.rename(columns={"patient_id": "_copy"}).merge(
        t, left_on="source", right_on="patient_id", how="inner", sort=False)
    return (out.drop(columns=["patient_id", "source"]).rename(columns={"_copy": "patient_id"})
            [list(t.columns)].reset_index(drop=True))


def build_resample(cohort: pd.DataFrame, split: pd.DataFrame, features: pd.DataFrame | None,
                   perturbations: dict[str, pd.DataFrame] | None, level: Level, rows
                   ) -> Resample:
    """The cohort, split, features and perturbations of one resample (see the module).

    Parameters
    ----------
    cohort, split, features, perturbations, level
        As for :func:`fit_resample`.
    rows
        Row indices into the level's training patients (in :func:`level_data` order), e.g.
        from :func:`draw_resample`.

    Raises
    ------
    ValueError
        A copy's id is already a patient id of the cohort (ids containing ``~`` followed
        by a number), or a resampled patient has no cohort or feature row (a patient
        without perturbation rows simply has none in the resample).
    """
    data = level_data(cohort, split, level)
    train = data[data["set"] == "train"]
    ids = train["patient_id"].to_numpy().astype(str)
    grp = _groups(split, train["patient_id"])
    grp = ids if grp is None else grp
    rows = np.asarray(rows, dtype=int)
    src = ids[rows]
    copy_no = pd.Series(src).groupby(src).cumcount().to_numpy() + 1
    copy_ids = np.array([f"{s}{COPY_SEPARATOR}{k}" for s, k in zip(src, copy_no)], dtype=object)
    taken = sorted(set(copy_ids) & set(cohort["patient_id"].astype(str)))
    if taken:
        raise ValueError(f"the bootstrap copies' ids {taken[:5]} are already patient ids of "
                         f"the cohort; rename the patients whose id ends in "
                         f"'{COPY_SEPARATOR}<number>'")
    copies = pd.DataFrame({"patient_id": copy_ids, "source": src})
    pid = cohort["patient_id"].astype(str)
    originals = cohort[pid.isin(set(ids))].assign(patient_id=pid[pid.isin(set(ids))])
    sub_cohort = pd.concat([_copy_rows(cohort, copies, "cohort"), originals],
                           ignore_index=True)
    sub_split = pd.DataFrame({"patient_id": [*copy_ids, *ids],
                              "set": ["train"] * len(copy_ids) + ["test"] * len(ids),
                              "group": [*grp[rows], *grp]})
    sub_features = None
    if features is not None:
        f = features.assign(patient_id=features["patient_id"].astype(str))
        sub_features = pd.concat([_copy_rows(f, copies, "radiomics table"),
                                  f[f["patient_id"].isin(set(ids))]], ignore_index=True)
    sub_pert = None
    if perturbations is not None:
        sub_pert = {source: _copy_rows(long_df, copies, None)
                    for source, long_df in perturbations.items()}
    logger.info("%s resample: %d rows from %d of the %d training patients", level.name,
                len(copy_ids), len(set(src)), len(ids))
    return Resample(sub_cohort, sub_split, sub_features, sub_pert, copy_ids, src, ids)


# --------------------------------------------------------------------------- the indices


def probability_indices(y, p) -> dict[str, float]:
    """:func:`~alnburden.modeling.optimism.performance_indices` of ``logit(p)`` (``p``
    clipped to [1e-12, 1 - 1e-12]); NaN for every index with one class."""
    y = np.asarray(y, dtype=float)
    if len(np.unique(y)) < 2:
        return dict.fromkeys(METRICS, float("nan"))
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return performance_indices(y, np.log(p) - np.log1p(-p))


def applied_train_rows(preds: pd.DataFrame, cohort: pd.DataFrame, split: pd.DataFrame,
                       level: Level, combined) -> pd.DataFrame:
    """``preds`` with the ``combined`` model's ``train`` rows rescored as the fitted pipeline
    scores a patient: the combined model on the Rad-score of the final radiomics model
    (its ``radiomics`` ``train`` rows), not on the out-of-fold Rad-score it was fitted on.

    Parameters
    ----------
    preds
        A level fit's predictions (``train`` rows of ``radiomics`` and ``combined``).
    cohort, split, level
        The fit's cohort and split (the clinical columns of its training rows).
    combined
        The fitted combined model (``<level>/models/combined.joblib``), or None: ``preds``
        is returned unchanged (a design without the combined model).
    """
    if combined is None:
        return preds
    data = level_data(cohort, split, level)
    train = data[data["set"] == "train"]
    rad = preds[(preds["set"] == "train") & (preds["model"] == "radiomics")]
    rs = pd.Series(rad_score(rad["p"].to_numpy(dtype=float)),
                   index=rad["patient_id"].astype(str).to_numpy())
    missing = sorted(set(train.index) - set(rs.index))
    if missing:
        raise ValueError(f"{len(missing)} training patient(s) have no radiomics train row, "
                         f"e.g. {missing[:5]}; rerun fit_level")
    p = pd.Series(combined.predict_proba(train.assign(rad_score=rs.loc[train.index].to_numpy()))
                  [:, 1], index=train.index)
    out = preds.copy()
    rows = (out["set"] == "train") & (out["model"] == "combined")
    ids = out.loc[rows, "patient_id"].astype(str)
    out.loc[rows, "p"] = p.loc[ids].to_numpy()
    out.loc[rows, "rad_score"] = rs.loc[ids].to_numpy()
    return out


def resample_optimism(preds: pd.DataFrame, level: str, b: int, learner: str = "",
                      models=NESTED_MODELS) -> pd.DataFrame:
    """Harrell's training and test index of every model of one resample's fit.

    Parameters
    ----------
    preds
        The resample's ``fit_level`` predictions: ``train`` rows (the copies, apparent in
        the resample) and ``test`` rows (the original training patients).
    level, b, learner
        Written into the table (the learner the resample chose).
    models
        The models scored (those present in ``preds``).

    Returns
    -------
    DataFrame
        :data:`RESAMPLE_COLUMNS`, one row per model x metric; ``optimism = training - test``;
        ``oob``: the index on the original patients the resample did not draw (``n_oob`` of
        them; the out-of-bag patients of Efron's leave-one-out bootstrap).
    """
    rows = []
    for model in models:
        tr = preds[(preds["set"] == "train") & (preds["model"] == model)]
        te = preds[(preds["set"] == "test") & (preds["model"] == model)]
        if tr.empty or te.empty:
            continue
        on_b = probability_indices(tr["y_true"], tr["p"])
        on_orig = probability_indices(te["y_true"], te["p"])
        drawn = set(tr["patient_id"].astype(str).str.rsplit(COPY_SEPARATOR, n=1).str[0])
        out_of_bag = te[~te["patient_id"].astype(str).isin(drawn)]
        oob = probability_indices(out_of_bag["y_true"], out_of_bag["p"])
        rows += [{"level": level, "resample": int(b), "model": model, "metric": m,
                  "training": on_b[m], "test": on_orig[m], "optimism": on_b[m] - on_orig[m],
                  "oob": oob[m], "learner": learner if model == "radiomics" else "",
                  "n_rows": len(tr), "n_patients": len(drawn), "n_oob": len(out_of_bag)}
                 for m in METRICS]
    return pd.DataFrame(rows, columns=RESAMPLE_COLUMNS)


def fit_resample(cohort: pd.DataFrame, split: pd.DataFrame, features: pd.DataFrame | None,
                 perturbations: dict[str, pd.DataFrame] | None, level: Level,
                 variables: list[dict], config: dict, b: int, bootstrap: dict | None,
                 tuning_repeats: int | None = None, robustness: dict | None = None,
                 n_jobs: int = 1, scratch: str | Path | None = None) -> pd.DataFrame:
    """The whole level fit on bootstrap resample ``b``; its optimism (rule
    ``whole_fit_resample``).

    Parameters
    ----------
    cohort, split, features, level, variables, config, n_jobs
        As for :func:`~alnburden.modeling.level_fit.fit_level` (the study's own inputs).
    perturbations
        The robustness stage's merged long tables by source (``perturbation``,
        ``readers``), or None without the ICC filter (a cohort without images).
    b
        Index of the resample, ``0 .. whole_fit.n - 1``.
    bootstrap
        Config ``internal_validation.bootstrap`` (``seed``; ``whole_fit.n``).
    tuning_repeats
        Config ``internal_validation.nested.tuning_repeats`` (the resample is fitted as an
        outer fold is); None keeps ``models.cv_repeats``.
    robustness
        Config ``radiomics.robustness`` (ICC form, keep rule, threshold, source).
    scratch
        Folder for the fit's own files, deleted afterwards; a temporary folder by default.

    Returns
    -------
    DataFrame
        :func:`resample_optimism` of the resample; empty (the log says why) when the level
        fit cannot run on it (e.g. too few distinct patients of a class for the folds).
    """
    settings = whole_fit_settings(bootstrap)
    n_boot = int(settings["whole_fit"]["n"])
    if not 0 <= int(b) < n_boot:
        raise ValueError(f"resample {b} does not exist (internal_validation.bootstrap."
                         f"whole_fit.n is {n_boot})")
    data = level_data(cohort, split, level)
    train = data[data["set"] == "train"]
    rows = draw_resample(train["y"].to_numpy(), _groups(split, train["patient_id"]),
                         int(settings["seed"]), int(b))
    res = build_resample(cohort, split, features, perturbations, level, rows)
    icc = None
    if res.features is not None and res.perturbations is not None:
        icc = outer_icc(res.perturbations, res.copy_ids, robustness or {})
    folder = Path(tempfile.mkdtemp(prefix="whole_fit_")) if scratch is None else Path(scratch)
    try:
        try:
            preds, learner = _fit_fold(res.cohort, res.split, res.features, icc, level,
                                       variables,
                                       _fold_config(config, {"tuning_repeats": tuning_repeats}),
                                       n_jobs, folder)
        except ValueError as err:
            logger.warning("%s resample %d skipped: the level fit cannot run on it: %s",
                           level.name, b, err)
            return pd.DataFrame(columns=RESAMPLE_COLUMNS)
        combined = folder / level.name / "models" / "combined.joblib"
        preds = applied_train_rows(preds, res.cohort, res.split, level,
                                   load_model(combined) if (preds["model"] == "combined").any()
                                   else None)
    finally:
        if scratch is None:
            shutil.rmtree(folder, ignore_errors=True)
    out = resample_optimism(preds, level.name, int(b), learner)
    for r in out[out["metric"] == "auc"].itertuples():
        logger.info("%s resample %d %s: AUC on the resample %.3f, on the original patients "
                    "%.3f, optimism %.3f", level.name, b, r.model, r.training, r.test,
                    r.optimism)
    return out


# --------------------------------------------------------------------------- the merge


def _learners_chosen(res: pd.DataFrame) -> str:
    radiomics = res[(res["model"] == "radiomics") & (res["metric"] == METRICS[0])]
    counts = radiomics["learner"].astype(str).value_counts()
    return ", ".join(f"{name} {k}" for name, k in sorted(counts.items(), key=lambda t: -t[1]))


def whole_fit_table(resamples: list[pd.DataFrame], predictions: pd.DataFrame, level: str,
                    strategy: str = "") -> pd.DataFrame:
    """Apparent, optimism and corrected indices of the whole level fit (rule
    ``merge_whole_fit``).

    Parameters
    ----------
    resamples
        Every ``results/<level>/whole_fit/resample_<b>.csv`` (empty ones are skipped
        resamples).
    predictions
        ``results/<level>/predictions.csv``: the apparent index comes from its ``train``
        rows.
    level
        The level's name.
    strategy
        Config ``models.clinical_strategy`` (written on the clinical and combined rows).

    Returns
    -------
    DataFrame
        :data:`WHOLE_FIT_COLUMNS`, one row per model x metric (``predictions`` should hold
        :func:`applied_train_rows` for the combined model): ``training`` and ``test`` are
        the means over the resamples, ``optimism`` the mean of ``training - test`` over the
        resamples where both exist (``n_resamples``), ``corrected = apparent - optimism``;
        ``oob`` the mean index on each resample's out-of-bag patients (beside, not in, the
        correction: for learners that memorise their training rows it is the less
        optimistic of the two bootstrap numbers).
    """
    parts = [r for r in resamples if len(r)]
    res = (pd.concat(parts, ignore_index=True) if parts
           else pd.DataFrame(columns=RESAMPLE_COLUMNS))
    skipped = len(resamples) - len(parts)
    if skipped:
        logger.warning("%s: %d of %d resample(s) skipped (their level fit could not run)",
                       level, skipped, len(resamples))
    pred = predictions[(predictions["level"].astype(str) == level)
                       & (predictions["set"] == "train")]
    rows = []
    for model in [m for m in NESTED_MODELS if (pred["model"] == m).any()]:
        app = pred[pred["model"] == model]
        apparent = probability_indices(app["y_true"], app["p"])
        for metric in METRICS:
            r = res[(res["model"] == model) & (res["metric"] == metric)]
            ok = r["training"].notna() & r["test"].notna()
            optimism = float((r.loc[ok, "training"] - r.loc[ok, "test"]).mean()) if ok.any() \
                else float("nan")
            rows.append({"level": level, "model": model, "metric": metric,
                         "apparent": apparent[metric],
                         "training": float(r.loc[ok, "training"].mean()) if ok.any() else np.nan,
                         "test": float(r.loc[ok, "test"].mean()) if ok.any() else np.nan,
                         "optimism": optimism, "corrected": apparent[metric] - optimism,
                         "n_resamples": int(ok.sum()),
                         "strategy": "" if model == "radiomics" else strategy,
                         "procedure": WHOLE_FIT_PROCEDURE,
                         "learners_chosen": _learners_chosen(res) if model == "radiomics"
                         else "",
                         "oob": float(r["oob"].mean()) if r["oob"].notna().any() else np.nan})
    table = pd.DataFrame(rows, columns=WHOLE_FIT_COLUMNS)
    memorised = table[(table["model"] == "radiomics") & (table["metric"] == "auc")
                      & (table["training"] > 0.99)]
    if len(memorised):
        logger.warning("%s: the chosen learner(s) (%s) score their own training rows almost "
                       "perfectly (mean AUC on the resamples %.3f); Harrell's bootstrap then "
                       "underestimates the optimism (the original patients overlap the "
                       "resample): read the nested cross-validation (or the out-of-bag index, "
                       "column oob) for the radiomics model",
                       level, memorised["learners_chosen"].iloc[0],
                       memorised["training"].iloc[0])
    return table


def level_whole_fit(resamples: list[pd.DataFrame], predictions: pd.DataFrame,
                    cohort: pd.DataFrame, split: pd.DataFrame, level: Level, combined=None,
                    strategy: str = "") -> pd.DataFrame:
    """A level's whole-fit bootstrap table (rule ``merge_whole_fit``): :func:`whole_fit_table`
    of the resamples, the apparent indices from the level's ``predictions.csv`` with the
    combined model's rows rescored by :func:`applied_train_rows` (``combined``: the level's
    ``models/combined.joblib``, None without a combined model)."""
    applied = applied_train_rows(predictions, cohort, split, level, combined)
    return whole_fit_table(resamples, applied, level.name, strategy)


def whole_fit_summary_line(table: pd.DataFrame) -> str:
    """One Markdown line of ``results/summary.md`` for the whole-fit rows of the
    internal_validation table (``""`` when it has none)."""
    if "procedure" not in table.columns:
        return ""
    auc = table[(table["procedure"] == WHOLE_FIT_PROCEDURE) & (table["metric"] == "auc")]
    if auc.empty:
        return ""
    from alnburden.formatting import fmt_number

    n = int(auc["n_resamples"].max())
    return ("- whole level fit refitted in each of " + str(n) + " bootstrap resample(s) "
            "(ICC, selection, learner choice and tuning, Rad-score, clinical predictors): "
            "optimism-corrected AUC " + ", ".join(
                f"{r.level} {r.model} {fmt_number(r.corrected, 3)}" for r in auc.itertuples())
            + " (`results/<level>/internal_validation_whole_fit.csv`)")
