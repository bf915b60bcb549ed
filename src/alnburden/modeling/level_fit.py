"""Fitting one level of the hierarchy: radiomics learners, Rad-score, clinical and combined.

:func:`fit_level` is the whole modelling stage of one level (one Snakemake job), a sequence
of short steps that hand a :class:`_LevelFit` on to each other:

1. ``_prepare``: restrict the cohort to the level's population and split it into train /
   test rows (``split.csv``); only training rows are used below, the test rows are
   predicted once. The config's ``seed``, ``models`` and ``selection`` are read over the
   schema's defaults (:func:`alnburden.schemas.with_defaults`);
2. ``_fit_clinical``: **clinical predictors** chosen on train by ``models.clinical_strategy``
   (univariable then multivariable screen, every declared variable, or a penalized fit:
   :mod:`alnburden.modeling.clinical`); the ``clinical`` model is a logistic regression on
   them (intercept only when no predictor passes the screen);
3. ``_tune``: **learner tuning**: every learner of ``models.learners`` is tuned by
   stratified ``cv_folds`` x ``cv_repeats`` cross-validation (ROC AUC) of the Pipeline
   selection + learner. The selection (:func:`alnburden.modeling.selection.build_selection`) is
   refitted on the training part of every fold; because it does not depend on the learner,
   it is fitted ONCE per fold and shared by every learner and grid point of that fold (same
   result as ``GridSearchCV`` on the Pipeline, about 16 times less selection work);
4. the **radiomics model** is the learner with the highest mean CV AUC (ties: config
   order), refitted with its best hyper-parameters on all training rows
   (``_fit_final_learners``);
5. **Rad-score** = logit of the radiomics probability (clipped to [1e-3, 1 - 1e-3]).
   Training rows get OUT-OF-FOLD Rad-scores (:func:`cross_fit`): ``rad_score_folds``
   stratified folds, the whole selection + learner Pipeline refitted in each fold with the
   chosen hyper-parameters. Test rows get the Rad-score of the model refitted on all
   training rows;
6. ``_fit_combined``: **combined model** = logistic regression on Rad-score + independent
   clinical predictors, fitted on the training rows' out-of-fold Rad-scores;
   Without clinical variables (a radiomics-only study) steps 2 and 6 are skipped; without
   features (a cohort without images) steps 3-6 are;
7. ``_save_models``, ``_predict``, ``_write_predictions``: the models, the model card and
   the predictions are written.

Predictions (long format) are returned for the sets ``train`` (apparent: the final models
on their own training rows; for ``combined`` the out-of-fold Rad-scores it was fitted on),
``cv`` (out-of-fold on train over the same ``rad_score_folds`` folds: every learner and the
radiomics model cross-fitted with their chosen hyper-parameters; clinical and combined
logistic models cross-fitted with the predictors chosen on all training rows), ``test``
and, below the top level, ``cascade`` (every test patient scored by this level's models).
Limits, stated: hyper-parameters and clinical predictors are chosen once on all training
rows, so ``cv`` estimates are optimistic (the tuning estimate); the honest internal
estimate is the nested cross-validation (:mod:`alnburden.modeling.nested`), which runs
this whole function inside each outer fold (``outer_fold=True``).
This module draws nothing: the LASSO figures come from the saved radiomics model
(:mod:`alnburden.figures.selection`).
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from alnburden.design import model_arms
from alnburden.io import write_table
from alnburden.levels import NODE_COUNT, Level, nodal_class, parse_rule
from alnburden.modeling import selection as _selection
from alnburden.modeling.clinical import (ClinicalSettings, LogisticModel,
                                         select_clinical_predictors, write_clinical_table)
from alnburden.modeling.folds import cv_splitter, stratified_folds
from alnburden.modeling.learners import (feasible_learner, grid_points, learner_grids,
                                         make_learner, search_space)
from alnburden.modeling.persistence import (RAD_SCORE_EPS, library_versions, predict_models,
                                            rad_score, save_model, write_model_card)
from alnburden.modeling.predictions import (PREDICTION_COLUMNS, PREDICTION_EXTRA_COLUMNS,
                                            write_predictions)
from alnburden.schemas import config_default, with_defaults

logger = logging.getLogger(__name__)

__all__ = ["fit_level", "tune_learners", "cross_fit", "level_data", "feature_matrix",
           "LEARNER_CV_COLUMNS"]

#: Columns of ``results/<level>/models/learners_cv.csv``.
LEARNER_CV_COLUMNS = ["learner", "best_params", "cv_auc_mean", "cv_auc_sd", "chosen",
                      "n_grid_points"]


# --------------------------------------------------------------------------- data


def level_data(cohort: pd.DataFrame, split: pd.DataFrame, level: Level) -> pd.DataFrame:
    """The level's patients: cohort columns + ``y`` (0/1), ``set``, indexed by patient_id.

    ``nodal_class`` is carried from the cohort, derived from ``n_positive_nodes`` when only
    that is present, and left empty (NaN) in a cohort without node counts.

    Raises
    ------
    ValueError
        Missing columns (``patient_id`` or a column the level's rules read), duplicate
        ids, a population patient without a label value, patients of the population
        absent from the split, or a ``set`` other than train/test.
    """
    for name, df, cols in [("cohort", cohort, ["patient_id", *level.columns]),
                           ("split", split, ["patient_id", "set"])]:
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} table lacks column(s) {missing}"
                             + (f" read by level {level.name} ({level.population}; "
                                f"{level.label})" if name == "cohort" else ""))
    ids = cohort["patient_id"].astype(str)
    if ids.duplicated().any():
        raise ValueError(f"duplicate patient_id in the cohort: {ids[ids.duplicated()].tolist()[:5]}")
    pop = level.in_population(cohort)
    label = parse_rule(level.label)
    undefined = pop & np.isnan(label.values(cohort)) if label.column else np.zeros_like(pop)
    if undefined.any():
        raise ValueError(f"{int(undefined.sum())} patient(s) of {level.name} have no "
                         f"{label.column} (needed by {level.label!r}), e.g. "
                         f"{ids[undefined].tolist()[:5]}; validate the manifest first")
    data = cohort.loc[pop].copy()
    data["patient_id"] = ids[pop].to_numpy()
    data["y"] = level.labels(data)
    if "nodal_class" not in data.columns:
        data["nodal_class"] = (nodal_class(pd.to_numeric(data[NODE_COUNT]).to_numpy())
                               if NODE_COUNT in data.columns else np.nan)
    sp = split.assign(patient_id=split["patient_id"].astype(str)).drop_duplicates("patient_id")
    bad_sets = sorted(set(sp["set"]) - {"train", "test"})
    if bad_sets:
        raise ValueError(f"split.csv has set value(s) {bad_sets}; expected 'train' or 'test'")
    data = data.drop(columns=["set"], errors="ignore").merge(sp[["patient_id", "set"]],
                                                             on="patient_id", how="left")
    absent = data.loc[data["set"].isna(), "patient_id"].tolist()
    if absent:
        raise ValueError(f"{len(absent)} patient(s) of {level.name} are not in split.csv, e.g. "
                         f"{absent[:5]}; rerun the split on this cohort")
    return data.set_index("patient_id", drop=False)


def feature_matrix(features: pd.DataFrame, patient_ids) -> pd.DataFrame:
    """Feature columns of ``features`` (radiomics.parquet) for ``patient_ids``, in order.

    Infinite values become NaN (the selection's imputer fills them with training medians).
    """
    if "patient_id" not in features.columns:
        raise ValueError("the radiomics table lacks the patient_id column")
    f = features.assign(patient_id=features["patient_id"].astype(str))
    dup = f["patient_id"].duplicated()
    if dup.any():
        raise ValueError(f"duplicate patient_id in the radiomics table: "
                         f"{f.loc[dup, 'patient_id'].tolist()[:5]}")
    f = f.set_index("patient_id")
    ids = [str(i) for i in patient_ids]
    absent = [i for i in ids if i not in f.index]
    if absent:
        raise ValueError(f"{len(absent)} patient(s) have no radiomic features, e.g. {absent[:5]}; "
                         "rerun the extraction on this cohort")
    X = f.loc[ids]
    non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ValueError(f"non-numeric feature column(s) {non_numeric[:5]} in the radiomics "
                         "table; only patient_id and numeric features are allowed")
    X = X.astype(float)
    n_inf = int(np.isinf(X.to_numpy()).sum())
    if n_inf:
        logger.warning("%d infinite feature value(s) set to missing", n_inf)
        X = X.replace([np.inf, -np.inf], np.nan)
    X.index.name = "patient_id"
    return X


# --------------------------------------------------------------------------- CV machinery


def _fit_fold(selection: Pipeline, candidates: list, X: pd.DataFrame, y: np.ndarray,
              tr: np.ndarray, va: np.ndarray) -> tuple[list[np.ndarray], int, list[str]]:
    """Fit the selection on rows ``tr`` once, then every candidate learner; predict ``va``."""
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        sel = clone(selection).fit(X.iloc[tr], y[tr])
        Z_tr, Z_va = sel.transform(X.iloc[tr]), sel.transform(X.iloc[va])
        out = [clone(est).fit(Z_tr, y[tr]).predict_proba(Z_va)[:, 1] for est in candidates]
        caught = sorted({f"{x.category.__name__}: {str(x.message)[:120]}" for x in w})
    return out, int(Z_tr.shape[1]), caught


def _log_caught(caught_lists) -> None:
    seen = sorted({m for lst in caught_lists for m in lst})
    for m in seen[:10]:
        logger.info("warning during fold fits: %s", m)


def tune_learners(selection: Pipeline, learners: dict[str, tuple], X: pd.DataFrame, y,
                  cv, n_jobs: int = 1) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Tune every learner by CV of selection + learner, the selection fitted once per fold.

    Parameters
    ----------
    selection
        Unfitted selection Pipeline (refitted on the training part of every fold).
    learners
        Name -> ``(estimator, param_grid)`` as returned by
        :func:`alnburden.modeling.learners.make_learner`.
    X, y
        Training features (DataFrame with feature names) and 0/1 labels.
    cv
        A CV splitter (e.g. ``RepeatedStratifiedKFold``).
    n_jobs
        Folds run in parallel (joblib).

    Returns
    -------
    table : DataFrame
        ``learner, best_params (JSON), cv_auc_mean, cv_auc_sd, chosen`` - one row per
        learner; mean and SD over folds of the best grid point; ``chosen`` marks the learner
        with the highest mean (first in the given order on ties). Extra column
        ``n_grid_points``.
    fold_auc : dict of str -> ndarray, shape (n_folds, n_grid_points)
        AUC of each grid point in each fold (same as ``GridSearchCV.cv_results_`` split
        scores of the Pipeline, scoring "roc_auc").
    """
    y = np.asarray(y)
    points = {name: grid_points(grid) for name, (_, grid) in learners.items()}
    keys = [(name, i) for name in learners for i in range(len(points[name]))]
    candidates = [clone(learners[name][0]).set_params(**points[name][i]) for name, i in keys]
    splits = list(cv.split(X, y))
    res = Parallel(n_jobs=n_jobs)(delayed(_fit_fold)(selection, candidates, X, y, tr, va)
                                  for tr, va in splits)
    _log_caught(r[2] for r in res)
    n_sel = [r[1] for r in res]
    logger.info("tuning: %d folds, %d candidate(s); features kept per fold: median %g "
                "(range %d-%d)", len(splits), len(keys), np.median(n_sel), min(n_sel), max(n_sel))
    auc = np.array([[roc_auc_score(y[va], p) for p in r[0]] for r, (_, va) in zip(res, splits)])
    fold_auc, rows = {}, []
    for name in learners:
        cols = [k for k, key in enumerate(keys) if key[0] == name]
        a = auc[:, cols]
        fold_auc[name] = a
        best = int(np.argmax(a.mean(axis=0)))
        rows.append({"learner": name,
                     "best_params": json.dumps(points[name][best], sort_keys=True, default=str),
                     "cv_auc_mean": float(a[:, best].mean()),
                     "cv_auc_sd": float(a[:, best].std(ddof=1)) if len(a) > 1 else np.nan,
                     "chosen": False, "n_grid_points": len(cols)})
    table = pd.DataFrame(rows)
    table.loc[int(np.argmax(table["cv_auc_mean"].to_numpy())), "chosen"] = True
    return table, fold_auc


def cross_fit(selection: Pipeline, estimators: dict, X: pd.DataFrame, y, folds,
              n_jobs: int = 1) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities of every estimator (selection refitted in every fold).

    Parameters
    ----------
    selection
        Unfitted selection Pipeline.
    estimators
        Name -> unfitted learner with its chosen hyper-parameters.
    X, y
        Training features and labels.
    folds
        List of ``(train_idx, val_idx)`` covering every row exactly once as validation.

    Returns
    -------
    dict of str -> ndarray of shape (n_rows,)
    """
    y = np.asarray(y)
    names = list(estimators)
    res = Parallel(n_jobs=n_jobs)(delayed(_fit_fold)(selection, [estimators[n] for n in names],
                                                     X, y, tr, va) for tr, va in folds)
    _log_caught(r[2] for r in res)
    out = {n: np.full(len(y), np.nan) for n in names}
    for r, (_, va) in zip(res, folds):
        for n, p in zip(names, r[0]):
            out[n][va] = p
    return out


def _cross_fit_logistic(specs: list[dict], df: pd.DataFrame, y: np.ndarray, folds) -> np.ndarray:
    out = np.full(len(y), np.nan)
    for tr, va in folds:
        m = LogisticModel(specs).fit(df.iloc[tr], y[tr])
        out[va] = m.predict_proba(df.iloc[va])[:, 1]
    return out


# --------------------------------------------------------------------------- level


def _safe_auc(y, p) -> float:
    y, p = np.asarray(y), np.asarray(p)
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def _rows(data: pd.DataFrame, level: str, set_name: str, model: str, p, rs) -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": data["patient_id"].to_numpy(), "level": level, "set": set_name,
        "model": model, "y_true": data["y"].to_numpy().astype(int),
        "p": np.asarray(p, dtype=float), "rad_score": np.asarray(rs, dtype=float),
        "nodal_class": data["nodal_class"].to_numpy(),
        "ki67": (pd.to_numeric(data["ki67"]).to_numpy(dtype=float) if "ki67" in data.columns
                 else np.nan)})


def _logistic_card(model: LogisticModel) -> dict:
    s = model.summary()
    return {"terms": s.to_dict(orient="records"), "method": model.method_,
            "inputs": [v["name"] for v in model.variables], "n": model.n_,
            "events": model.events_}


@dataclass
class _LevelFit:
    """What the steps of :func:`fit_level` hand on to each other (one level, train only).

    ``models`` and ``oof`` (out-of-fold probabilities on the training rows) fill up model by
    model; ``card`` is the model card being written; ``rs_train`` holds the training rows'
    out-of-fold Rad-scores (NaN without radiomics).
    """

    level: Level
    train: pd.DataFrame
    test: pd.DataFrame
    y: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    seed: int
    models_cfg: dict
    out_dir: Path
    card: dict
    models: dict = field(default_factory=dict)
    oof: dict = field(default_factory=dict)
    clin_specs: list[dict] = field(default_factory=list)
    rs_train: np.ndarray | None = None
    X_tr: pd.DataFrame | None = None
    X_te: pd.DataFrame | None = None
    groups: np.ndarray | None = None

    @property
    def sel_dir(self) -> Path:
        return self.out_dir / self.level.name / "selection"

    @property
    def model_dir(self) -> Path:
        return self.out_dir / self.level.name / "models"


def _config_seed(config: dict) -> int:
    """The config's ``seed``, or the schema's default when the config has none."""
    return int(config["seed"] if "seed" in config else config_default("seed"))


def _prepare(cohort: pd.DataFrame, split: pd.DataFrame, level: Level, config: dict,
             out_dir: Path) -> _LevelFit:
    """The level's train and test rows, the Rad-score folds and the model card's header.

    Raises
    ------
    ValueError
        A training class smaller than the largest of ``cv_folds`` and ``rad_score_folds``
        (and the errors of :func:`level_data`).
    """
    seed = _config_seed(config)
    mcfg = with_defaults("models", config.get("models"))
    data = level_data(cohort, split, level)
    train, test = data[data["set"] == "train"], data[data["set"] == "test"]
    y_tr = train["y"].to_numpy().astype(int)
    counts = np.bincount(y_tr, minlength=2)
    need = max(int(mcfg["cv_folds"]), int(mcfg["rad_score_folds"]))
    if counts.min() < need:
        raise ValueError(
            f"{level.name}: the training set has {counts[0]} negative and {counts[1]} positive "
            f"patient(s); every class needs at least {need} (the largest of models.cv_folds and "
            "models.rad_score_folds) - lower the folds or use a larger cohort")
    logger.info("%s: %d train (%d events), %d test (%d events)", level.name, len(train),
                counts[1], len(test), int(test["y"].sum()))
    groups = None  # split.group: a group's rows stay together in every fold as in the split
    if "group" in split.columns:
        by_id = split.assign(patient_id=split["patient_id"].astype(str)).drop_duplicates(
            "patient_id").set_index("patient_id")["group"]
        groups = by_id.reindex(train.index).astype(str).to_numpy()
    folds = stratified_folds(y_tr, int(mcfg["rad_score_folds"]), seed, groups)
    card = {
        "level": {"name": level.name, "population": level.population, "label": level.label,
                  "description": level.description},
        "data": {"n_train": len(train), "events_train": int(counts[1]), "n_test": len(test),
                 "events_test": int(test["y"].sum())},
        "seed": seed, "models_config": mcfg,
        "selection_config": with_defaults("selection", config.get("selection")),
        "rad_score": None, "versions": library_versions()}
    fit = _LevelFit(level, train, test, y_tr, folds, seed, mcfg, out_dir, card,
                    groups=groups)  # one group per training row, or None (_tune's splitter)
    fit.sel_dir.mkdir(parents=True, exist_ok=True)
    fit.model_dir.mkdir(parents=True, exist_ok=True)
    return fit


def _fit_clinical(fit: _LevelFit, variables: list[dict]) -> None:
    """Choose the clinical predictors (``models.clinical_strategy``), write their table, fit
    and cross-fit ``clinical`` (intercept-only when no predictor was chosen)."""
    settings = ClinicalSettings.from_config(fit.models_cfg, fit.seed)
    res = select_clinical_predictors(fit.train, fit.y, variables, settings)
    name = fit.level.name
    write_clinical_table(res.table, fit.out_dir / "tables" / f"{name}_clinical_logistic.csv",
                         f"{name}: univariable and multivariable logistic regression "
                         f"(training set, n = {len(fit.train)}, {int(fit.y.sum())} events)",
                         res.notes)
    fit.clin_specs = [next(v for v in variables if v["name"] == p) for p in res.predictors]
    fit.models["clinical"] = res.model
    oof = np.full(len(fit.y), np.nan)
    for tr, va in fit.folds:
        oof[va] = clone(res.model).fit(fit.train.iloc[tr], fit.y[tr]).predict_proba(
            fit.train.iloc[va])[:, 1]
    fit.oof["clinical"] = oof
    fit.card.update(clinical_variables=variables, predictors=res.predictors,
                    clinical_strategy=settings.strategy,
                    clinical_note=res.selection.note or None,
                    clinical=_logistic_card(fit.models["clinical"]))


def _write_without_radiomics(fit: _LevelFit) -> None:
    """Clinical-only arm: header-only selection and learner tables, no Rad-score."""
    write_table(pd.DataFrame(columns=["feature", "coefficient"]),
                fit.sel_dir / "selected_features.csv")
    write_table(pd.DataFrame(columns=LEARNER_CV_COLUMNS), fit.model_dir / "learners_cv.csv")
    fit.rs_train = np.full(len(fit.train), np.nan)


def _fit_radiomics(fit: _LevelFit, features: pd.DataFrame, icc: pd.DataFrame | None,
                   config: dict, n_jobs: int, combined: bool, learners_cv: bool = True) -> None:
    """Learners, radiomics model, out-of-fold Rad-score and (if ``combined``) the combined
    model of the level. Without ``learners_cv`` only the chosen learner is cross-fitted
    (an outer fold of the nested CV needs nothing else)."""
    fit.X_tr = feature_matrix(features, fit.train.index)
    fit.X_te = feature_matrix(features, fit.test.index)
    harm = with_defaults("harmonization", config.get("harmonization"))
    if harm["method"] != "none" and harm["batch"] not in fit.train.columns:
        raise ValueError(f"harmonization.batch is {harm['batch']!r}, which is not a column of "
                         "the cohort; name the manifest column holding each patient's scanner "
                         "or centre")
    batch = (None if harm["method"] == "none" else
             pd.concat([fit.train, fit.test])[harm["batch"]].astype(str))
    selection = _selection.build_selection(config.get("selection"),
                                           _selection.icc_keep_list(icc), fit.seed,
                                           **({} if batch is None else {"batch": batch}))
    cv_table, best = _tune(fit, selection, n_jobs)
    chosen = str(cv_table.loc[cv_table["chosen"], "learner"].iloc[0])
    if not learners_cv:
        best = {chosen: best[chosen]}
    fit.oof.update(cross_fit(selection, best, fit.X_tr, fit.y, fit.folds, n_jobs=n_jobs))
    fit.oof["radiomics"] = fit.oof[chosen]
    fit.rs_train = rad_score(fit.oof[chosen])
    final_sel = _fit_final_learners(fit, selection, best)
    fit.models["radiomics"] = fit.models[chosen]
    if combined:
        _fit_combined(fit)
    _record_selection(fit, final_sel, cv_table, chosen)


def _tune(fit: _LevelFit, selection: Pipeline, n_jobs: int) -> tuple[pd.DataFrame, dict]:
    """Tune every learner (written to ``learners_cv.csv``); each with its best parameters.

    The grids are ``models.grids`` (a learner not given keeps its registry grid), searched
    whole or, with ``models.search.kind: random``, ``n_iter`` points drawn per learner. The
    tuning folds keep a ``split.group``'s rows together (:func:`alnburden.modeling.folds.cv_splitter`).
    """
    grids = learner_grids(fit.models_cfg.get("grids"), fit.models_cfg["learners"])
    search = fit.models_cfg.get("search")
    cv = cv_splitter(fit.models_cfg["cv_folds"], fit.models_cfg["cv_repeats"], fit.seed,
                     fit.groups)
    n_rows, n_minority = _smallest_training_part(fit, cv)
    learners = {}
    for name in fit.models_cfg["learners"]:
        estimator, _ = make_learner(name, fit.seed)
        estimator, grid, notes = feasible_learner(
            name, estimator, search_space(grids[name], search, fit.seed), n_rows, n_minority)
        for note in notes:
            logger.warning("%s: %s", fit.level.name, note)
        learners[name] = (estimator, grid)
    t1 = time.perf_counter()
    cv_table, _ = tune_learners(selection, learners, fit.X_tr, fit.y, cv, n_jobs=n_jobs)
    logger.info("%s: tuning took %.1f s", fit.level.name, time.perf_counter() - t1)
    write_table(cv_table[LEARNER_CV_COLUMNS], fit.model_dir / "learners_cv.csv",
                title=f"{fit.level.name}: learners, repeated stratified CV on the training set")
    best = {r.learner: clone(learners[r.learner][0]).set_params(**json.loads(r.best_params))
            for r in cv_table.itertuples()}
    return cv_table, best


def _smallest_training_part(fit: _LevelFit, cv) -> tuple[int, int]:
    """Rows, and rows of the smaller class, of the smallest training part a learner is fitted
    on: a tuning fold's (``cv``) or a Rad-score fold's (``fit.folds``)."""
    parts = [tr for tr, _ in cv.split(fit.X_tr, fit.y)] + [tr for tr, _ in fit.folds]
    return (min(len(tr) for tr in parts),
            min(int(np.bincount(fit.y[tr], minlength=2).min()) for tr in parts))


def _fit_final_learners(fit: _LevelFit, selection: Pipeline, best: dict) -> Pipeline:
    """Refit the selection and every tuned learner on all training rows; the fitted selection."""
    final_sel = clone(selection).fit(fit.X_tr, fit.y)
    Z_tr = final_sel.transform(fit.X_tr)
    for name, est in best.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = clone(est).fit(Z_tr, fit.y)
        fit.models[name] = Pipeline([("selection", final_sel), ("learner", fitted)])
    return final_sel


def _fit_combined(fit: _LevelFit) -> None:
    """Combined model on the out-of-fold Rad-score + clinical predictors; fitted and cross-fitted."""
    comb_specs = [{"name": "rad_score", "type": "continuous"}, *fit.clin_specs]
    train_rs = fit.train.assign(rad_score=fit.rs_train)
    fit.models["combined"] = LogisticModel(comb_specs).fit(train_rs, fit.y)
    fit.oof["combined"] = _cross_fit_logistic(comb_specs, train_rs, fit.y, fit.folds)
    fit.card["combined"] = _logistic_card(fit.models["combined"])


def _record_selection(fit: _LevelFit, final_sel: Pipeline, cv_table: pd.DataFrame,
                      chosen: str) -> None:
    """Write ``selected_features.csv``; the radiomics and Rad-score parts of the card."""
    lasso, names_in = _selection.lasso_step(final_sel)
    kept = lasso.get_support()
    sel_table = pd.DataFrame({"feature": names_in[kept], "coefficient": lasso.coef_[kept]})
    write_table(sel_table, fit.sel_dir / "selected_features.csv",
                title=f"{fit.level.name}: features selected by the LASSO (coefficient per SD)")
    steps_kept, names = {}, None
    for step_name, step in final_sel.steps:
        names = step.get_feature_names_out(names)
        steps_kept[step_name] = len(names)
    fit.card["radiomics"] = {
        "n_input_features": int(fit.X_tr.shape[1]), "features_after_each_step": steps_kept,
        "lasso_C": lasso.C_, "lasso_C_best": lasso.C_best_, "lasso_C_1se": lasso.C_1se_,
        "lasso_fallback": lasso.fallback_,
        "selected_features": sel_table.to_dict(orient="records"),
        "chosen_learner": chosen, "learners_cv": cv_table.to_dict(orient="records")}
    fit.card["rad_score"] = {"definition": "logit(p_radiomics), p clipped to [eps, 1 - eps]",
                             "eps": RAD_SCORE_EPS, "train": "out-of-fold",
                             "folds": int(fit.models_cfg["rad_score_folds"])}


def _save_models(fit: _LevelFit) -> None:
    """Every fitted model to ``<model>.joblib``, listed in the card."""
    for name, model in fit.models.items():
        save_model(model, fit.model_dir / f"{name}.joblib")
    fit.card["models"] = {name: f"{name}.joblib" for name in fit.models}


def _predict(fit: _LevelFit, cohort: pd.DataFrame, split: pd.DataFrame,
             features: pd.DataFrame | None, cascade: bool = True) -> pd.DataFrame:
    """Long predictions of the sets train, cv, test (and cascade below the top level), sorted.

    Test and cascade rows go through :func:`predict_models`, the function
    :func:`alnburden.modeling.persistence.predict_patients` applies to saved models.
    """
    models, name = fit.models, fit.level.name
    probs_tr, _ = predict_models(models, fit.train, fit.X_tr)
    if "combined" in models:  # apparent combined = on the out-of-fold Rad-scores it was fitted on
        probs_tr["combined"] = models["combined"].predict_proba(
            fit.train.assign(rad_score=fit.rs_train))[:, 1]
    probs_te, rs_te = predict_models(models, fit.test, fit.X_te)
    parts = []
    for model in sorted(models):
        parts.append(_rows(fit.train, name, "train", model, probs_tr[model], fit.rs_train))
        parts.append(_rows(fit.train, name, "cv", model, fit.oof[model], fit.rs_train))
        parts.append(_rows(fit.test, name, "test", model, probs_te[model], rs_te))
    if cascade and fit.level.population.strip() != "all":
        # Score EVERY test patient with this level's models (set "cascade"), so the hierarchical
        # cascade can route a patient that an upper level wrongly passes down. y_true applies
        # the label rule to all patients (e.g. an N0 patient is 0 for ">= 3 nodes").
        everyone = level_data(cohort, split, Level(name, fit.level.label, "all"))
        casc = everyone[everyone["set"] == "test"]
        X_c = feature_matrix(features, casc.index) if features is not None else None
        probs_c, rs_c = predict_models(models, casc, X_c)
        parts += [_rows(casc, name, "cascade", model, probs_c[model], rs_c)
                  for model in sorted(models)]
    preds = pd.concat(parts, ignore_index=True)[[*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS]]
    order = {"train": 0, "cv": 1, "test": 2, "cascade": 3}
    return preds.sort_values(["set", "model", "patient_id"],
                             key=lambda s: s.map(order) if s.name == "set" else s,
                             kind="stable").reset_index(drop=True)


def _write_predictions(fit: _LevelFit, preds: pd.DataFrame) -> None:
    """The AUC of every set x model into the card; write the card and ``predictions.csv``."""
    name = fit.level.name
    fit.card["auc"] = {f"{s}/{m}": _safe_auc(g["y_true"], g["p"])
                       for (s, m), g in preds.groupby(["set", "model"], sort=True)}
    write_model_card(fit.card, fit.model_dir / "model_card.json")
    write_predictions(preds, fit.out_dir / name / "predictions.csv")
    for key in sorted(fit.card["auc"]):
        logger.info("%s AUC %s = %.3f", name, key, fit.card["auc"][key])


def fit_level(cohort: pd.DataFrame, split: pd.DataFrame, features: pd.DataFrame | None,
              icc: pd.DataFrame | None, level: Level, variables: list[dict], config: dict,
              out_dir: str | Path, n_jobs: int = 1, outer_fold: bool = False) -> pd.DataFrame:
    """Fit every model of one level on its training rows and predict train, cv and test.

    Parameters
    ----------
    cohort
        ``results/cohort/cohort.csv`` (needs ``patient_id``, the columns the level rules
        read and the clinical variables; ``nodal_class`` and ``ki67`` are carried into the
        predictions, empty when the cohort has no node counts / no Ki-67).
    split
        ``results/cohort/split.csv`` (``patient_id, set``).
    features
        ``results/features/radiomics.parquet`` (``patient_id`` + features), or None for a
        clinical-only cohort: then only the ``clinical`` model is fitted (no learners,
        Rad-score or combined model).
    icc
        ``results/features/icc.csv`` (``feature, ..., kept``), or None to skip the ICC
        filter.
    level
        The level (population and label rules).
    variables
        The config's ``clinical.variables``; empty for a radiomics-only study: then no
        ``clinical`` or ``combined`` model is fitted and no clinical table is written. The
        models fitted are :func:`alnburden.design.model_arms` of (features given,
        variables given), the arms :class:`~alnburden.design.StudyDesign` declares.
    config
        The config (uses ``seed``, ``selection`` and ``models``; a missing key or section
        takes the schema's defaults).
    out_dir
        The results folder (``results``). Written: ``{out_dir}/{level}/selection/
        selected_features.csv``; ``{out_dir}/{level}/models/learners_cv.csv``,
        ``<model>.joblib``, ``model_card.json``; ``{out_dir}/{level}/predictions.csv`` (the
        returned table); ``{out_dir}/tables/{level}_clinical_logistic.{csv,md}``. In the
        clinical-only arm ``selected_features.csv`` and ``learners_cv.csv`` are written with
        their header only. The LASSO figures are drawn from ``radiomics.joblib`` by
        :func:`alnburden.figures.selection.plot_selection_figures`.
    n_jobs
        CV folds run in parallel (the rule's threads); default 1.
    outer_fold
        The fit is one outer fold of the nested cross-validation
        (:mod:`alnburden.modeling.nested`): the same steps, but only the chosen learner is
        cross-fitted (no per-learner ``cv`` rows) and no ``cascade`` rows are predicted.

    Returns
    -------
    DataFrame
        :data:`~alnburden.modeling.predictions.PREDICTION_COLUMNS` then
        :data:`~alnburden.modeling.predictions.PREDICTION_EXTRA_COLUMNS`, one row per
        patient x set x model.

    Raises
    ------
    ValueError
        Neither features nor clinical variables (no model to fit), and the errors of the
        steps (e.g. a training class smaller than the CV folds).
    """
    arms = model_arms(features is not None, bool(variables))
    if not arms:
        raise ValueError(f"{level.name}: no model to fit: no radiomic features (a cohort "
                         "without images) and config clinical.variables is empty; give the "
                         "manifest image and mask columns or declare a clinical variable")
    t0 = time.perf_counter()
    fit = _prepare(cohort, split, level, config, Path(out_dir))
    if "clinical" in arms:
        _fit_clinical(fit, variables)
    if "radiomics" in arms:
        _fit_radiomics(fit, features, icc, config, n_jobs, combined="combined" in arms,
                       learners_cv=not outer_fold)
    else:
        _write_without_radiomics(fit)
    _save_models(fit)
    preds = _predict(fit, cohort, split, features, cascade=not outer_fold)
    _write_predictions(fit, preds)
    logger.info("%s fitted in %.1f s", level.name, time.perf_counter() - t0)
    return preds
