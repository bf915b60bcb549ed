"""Fitting one level of the hierarchy: radiomics learners, Rad-score, clinical and combined.

:func:`fit_level` is the whole modelling stage of one level (one Snakemake job):

1. restrict the cohort to the level's population and split it into train / test rows
   (``split.csv``); only training rows are used below, the test rows are predicted once;
2. **clinical predictors**: univariable then multivariable logistic regression on train
   (:mod:`alnburden.modeling.clinical`); the ``clinical`` model is a logistic regression on the
   independent predictors;
3. **learner tuning**: every learner of ``models.learners`` is tuned by stratified
   ``cv_folds`` x ``cv_repeats`` cross-validation (ROC AUC) of the Pipeline
   selection + learner. The selection (:func:`alnburden.modeling.selection.build_selection`) is
   refitted on the training part of every fold; because it does not depend on the learner,
   it is fitted ONCE per fold and shared by every learner and grid point of that fold (same
   result as ``GridSearchCV`` on the Pipeline, about 16 times less selection work);
4. the **radiomics model** is the learner with the highest mean CV AUC (ties: config
   order), refitted with its best hyper-parameters on all training rows;
5. **Rad-score** = logit of the radiomics probability (clipped to [1e-3, 1 - 1e-3]).
   Training rows get OUT-OF-FOLD Rad-scores: ``rad_score_folds`` stratified folds, the whole
   selection + learner Pipeline refitted in each fold with the chosen hyper-parameters.
   Test rows get the Rad-score of the model refitted on all training rows;
6. **combined model** = logistic regression on Rad-score + independent clinical predictors,
   fitted on the training rows' out-of-fold Rad-scores.

Predictions (long format) are returned for the sets ``train`` (apparent: the final models
on their own training rows; for ``combined`` the out-of-fold Rad-scores it was fitted on),
``cv`` (out-of-fold on train over the same ``rad_score_folds`` folds: every learner and the
radiomics model cross-fitted with their chosen hyper-parameters; clinical and combined
logistic models cross-fitted with the predictors chosen on all training rows) and ``test``.
Limits, stated: hyper-parameters and clinical predictors are chosen once on all training
rows (no nested CV), so ``cv`` estimates are slightly optimistic; the test set is not.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from alnburden.modeling import selection as _selection
from alnburden.modeling.clinical import LogisticModel, select_clinical_predictors
from alnburden.io import write_table
from alnburden.modeling.learners import grid_points, make_learner
from alnburden.levels import NODE_COUNT, Level, nodal_class, parse_rule
from alnburden.modeling.persistence import (RAD_SCORE_EPS, library_versions, predict_models, rad_score,
                          save_model, write_model_card)

logger = logging.getLogger(__name__)

__all__ = ["fit_level", "tune_learners", "cross_fit", "level_data", "feature_matrix",
           "PREDICTION_COLUMNS", "MODEL_DEFAULTS"]

#: Columns of the per-level predictions (the contract's predictions.csv + nodal_class, ki67).
PREDICTION_COLUMNS = ["patient_id", "level", "set", "model", "y_true", "p", "rad_score",
                      "nodal_class", "ki67"]
#: Schema defaults of the config's ``models`` section.
MODEL_DEFAULTS = {"learners": ["logistic", "svm", "knn", "random_forest", "lightgbm", "mlp"],
                  "cv_folds": 5, "cv_repeats": 2, "rad_score_folds": 5,
                  "clinical_entry_p": 0.05, "clinical_retention_p": 0.05}


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


def _write_clinical_table(table: pd.DataFrame, csv_path: Path, title: str) -> None:
    """Full numeric table as CSV; a compact Markdown copy (OR (95% CI) and p columns)."""
    write_table(table, csv_path, title=title)
    md = table[["variable", "term", "univariable", "univariable_p_fmt", "multivariable",
                "multivariable_p_fmt", "independent"]].rename(columns={
        "univariable": "Univariable OR (95% CI)", "univariable_p_fmt": "p (univariable)",
        "multivariable": "Multivariable OR (95% CI)", "multivariable_p_fmt": "p (multivariable)",
        "independent": "independent predictor"})
    note = ("Odds ratios per unit (continuous), per step (ordinal: grade, aln_us_class), vs "
            "the first level (categorical); Wald 95% CI and p.")
    csv_path.with_suffix(".md").write_text(
        f"# {title}\n\n{md.to_markdown(index=False)}\n\n{note}\n")


def _logistic_card(model: LogisticModel) -> dict:
    s = model.summary()
    return {"terms": s.to_dict(orient="records"), "method": model.method_,
            "inputs": [v["name"] for v in model.variables], "n": model.n_,
            "events": model.events_}


def fit_level(cohort: pd.DataFrame, split: pd.DataFrame, features: pd.DataFrame | None,
              icc: pd.DataFrame | None, level: Level, variables: list[dict], config: dict,
              out_dir: str | Path, n_jobs: int = 1, figures: bool = True) -> pd.DataFrame:
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
        The config's ``clinical.variables``.
    config
        The validated config (uses ``seed``, ``selection`` and ``models``; missing keys
        take the schema defaults).
    out_dir
        The results folder (``results``). Written: ``{out_dir}/{level}/selection/
        selected_features.csv``, ``lasso_path.{pdf,png}``, ``lasso_cv.{pdf,png}``;
        ``{out_dir}/{level}/models/learners_cv.csv``, ``<model>.joblib``,
        ``model_card.json``; ``{out_dir}/{level}/predictions.csv`` (the returned table);
        ``{out_dir}/tables/{level}_clinical_logistic.{csv,md}``. In the clinical-only arm
        ``selected_features.csv`` and ``learners_cv.csv`` are written with their header only
        and no figure is drawn.
    n_jobs
        CV folds run in parallel (the rule's threads).
    figures
        Draw the LASSO figures (False skips them, e.g. in quick tests).

    Returns
    -------
    DataFrame
        :data:`PREDICTION_COLUMNS`, one row per patient x set x model.
    """
    t0 = time.perf_counter()
    seed = int(config.get("seed", 2026))
    mcfg = {**MODEL_DEFAULTS, **(config.get("models") or {})}
    out_dir = Path(out_dir)
    sel_dir, model_dir = out_dir / level.name / "selection", out_dir / level.name / "models"
    sel_dir.mkdir(parents=True, exist_ok=True)
    model_dir.mkdir(parents=True, exist_ok=True)

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
    folds = list(StratifiedKFold(int(mcfg["rad_score_folds"]), shuffle=True,
                                 random_state=seed).split(np.zeros(len(y_tr)), y_tr))

    # -- clinical predictors and model (train only)
    table, predictors = select_clinical_predictors(
        train, y_tr, variables, float(mcfg["clinical_entry_p"]),
        float(mcfg["clinical_retention_p"]))
    _write_clinical_table(table, out_dir / "tables" / f"{level.name}_clinical_logistic.csv",
                          f"{level.name}: univariable and multivariable logistic regression "
                          f"(training set, n = {len(train)}, {counts[1]} events)")
    clin_specs = [next(v for v in variables if v["name"] == p) for p in predictors]
    models: dict = {"clinical": LogisticModel(clin_specs).fit(train, y_tr)}
    oof = {"clinical": _cross_fit_logistic(clin_specs, train, y_tr, folds)}
    card: dict = {
        "level": {"name": level.name, "population": level.population, "label": level.label,
                  "description": level.description},
        "data": {"n_train": len(train), "events_train": int(counts[1]), "n_test": len(test),
                 "events_test": int(test["y"].sum())},
        "seed": seed, "models_config": mcfg, "selection_config": config.get("selection", {}),
        "clinical_variables": variables, "predictors": predictors,
        "rad_score": None, "versions": library_versions()}
    learner_cols = ["learner", "best_params", "cv_auc_mean", "cv_auc_sd", "chosen",
                    "n_grid_points"]

    if features is None:
        write_table(pd.DataFrame(columns=["feature", "coefficient"]),
                    sel_dir / "selected_features.csv")
        write_table(pd.DataFrame(columns=learner_cols), model_dir / "learners_cv.csv")
        rs_train = np.full(len(train), np.nan)
        X_tr = X_te = None
    else:
        X_tr = feature_matrix(features, train.index)
        X_te = feature_matrix(features, test.index)
        icc_keep = _selection.icc_keep_list(icc)
        selection = _selection.build_selection(config.get("selection") or {}, icc_keep, seed)
        learners = {name: make_learner(name, seed) for name in mcfg["learners"]}
        cv = RepeatedStratifiedKFold(n_splits=int(mcfg["cv_folds"]),
                                     n_repeats=int(mcfg["cv_repeats"]), random_state=seed)
        t1 = time.perf_counter()
        cv_table, _ = tune_learners(selection, learners, X_tr, y_tr, cv, n_jobs=n_jobs)
        logger.info("%s: tuning took %.1f s", level.name, time.perf_counter() - t1)
        write_table(cv_table[learner_cols], model_dir / "learners_cv.csv",
                    title=f"{level.name}: learners, repeated stratified CV on the training set")
        chosen = str(cv_table.loc[cv_table["chosen"], "learner"].iloc[0])
        best = {r.learner: clone(learners[r.learner][0]).set_params(**json.loads(r.best_params))
                for r in cv_table.itertuples()}
        oof.update(cross_fit(selection, best, X_tr, y_tr, folds, n_jobs=n_jobs))
        oof["radiomics"] = oof[chosen]
        rs_train = rad_score(oof[chosen])

        final_sel = clone(selection).fit(X_tr, y_tr)
        Z_tr = final_sel.transform(X_tr)
        for name, est in best.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fitted = clone(est).fit(Z_tr, y_tr)
            models[name] = Pipeline([("selection", final_sel), ("learner", fitted)])
        models["radiomics"] = models[chosen]
        comb_specs = [{"name": "rad_score", "type": "continuous"}, *clin_specs]
        train_rs = train.assign(rad_score=rs_train)
        models["combined"] = LogisticModel(comb_specs).fit(train_rs, y_tr)
        oof["combined"] = _cross_fit_logistic(comb_specs, train_rs, y_tr, folds)

        lasso = final_sel.named_steps["lasso"]
        names_in = final_sel[:-1].get_feature_names_out()
        kept = lasso.get_support()
        sel_table = pd.DataFrame({"feature": names_in[kept], "coefficient": lasso.coef_[kept]})
        write_table(sel_table, sel_dir / "selected_features.csv",
                    title=f"{level.name}: features selected by the LASSO (coefficient per SD)")
        if figures:
            _selection.plot_lasso_path(lasso, sel_dir / "lasso_path", feature_names=names_in)
            _selection.plot_lasso_cv(lasso, sel_dir / "lasso_cv")
        steps_kept, names = {}, None
        for step_name, step in final_sel.steps:
            names = step.get_feature_names_out(names)
            steps_kept[step_name] = len(names)
        card["radiomics"] = {
            "n_input_features": int(X_tr.shape[1]), "features_after_each_step": steps_kept,
            "lasso_C": lasso.C_, "lasso_C_best": lasso.C_best_, "lasso_C_1se": lasso.C_1se_,
            "lasso_fallback": lasso.fallback_,
            "selected_features": sel_table.to_dict(orient="records"),
            "chosen_learner": chosen, "learners_cv": cv_table.to_dict(orient="records")}
        card["rad_score"] = {"definition": "logit(p_radiomics), p clipped to [eps, 1 - eps]",
                             "eps": RAD_SCORE_EPS, "train": "out-of-fold",
                             "folds": int(mcfg["rad_score_folds"])}
        card["combined"] = _logistic_card(models["combined"])
    card["clinical"] = _logistic_card(models["clinical"])

    # -- save, then predict (test rows through the same function as predict_patients)
    files = {}
    for name, model in models.items():
        save_model(model, model_dir / f"{name}.joblib")
        files[name] = f"{name}.joblib"
    card["models"] = files

    probs_tr, _ = predict_models(models, train, X_tr)
    if "combined" in models:  # apparent combined = on the out-of-fold Rad-scores it was fitted on
        probs_tr["combined"] = models["combined"].predict_proba(
            train.assign(rad_score=rs_train))[:, 1]
    probs_te, rs_te = predict_models(models, test, X_te)
    parts = []
    for name in sorted(models):
        parts.append(_rows(train, level.name, "train", name, probs_tr[name], rs_train))
        parts.append(_rows(train, level.name, "cv", name, oof[name], rs_train))
        parts.append(_rows(test, level.name, "test", name, probs_te[name], rs_te))
    if level.population.strip() != "all":
        # Score EVERY test patient with this level's models (set "cascade"), so the hierarchical
        # cascade can route a patient that an upper level wrongly passes down. y_true applies
        # the label rule to all patients (e.g. an N0 patient is 0 for ">= 3 nodes").
        everyone = level_data(cohort, split, Level(level.name, level.label, "all"))
        casc = everyone[everyone["set"] == "test"]
        X_c = feature_matrix(features, casc.index) if features is not None else None
        probs_c, rs_c = predict_models(models, casc, X_c)
        parts += [_rows(casc, level.name, "cascade", name, probs_c[name], rs_c)
                  for name in sorted(models)]
    preds = pd.concat(parts, ignore_index=True)[PREDICTION_COLUMNS]
    order = {"train": 0, "cv": 1, "test": 2, "cascade": 3}
    preds = preds.sort_values(["set", "model", "patient_id"],
                              key=lambda s: s.map(order) if s.name == "set" else s,
                              kind="stable").reset_index(drop=True)
    card["auc"] = {f"{s}/{m}": _safe_auc(g["y_true"], g["p"])
                   for (s, m), g in preds.groupby(["set", "model"], sort=True)}
    write_model_card(card, model_dir / "model_card.json")
    preds.to_csv(out_dir / level.name / "predictions.csv", index=False, float_format="%.17g",
                 lineterminator="\n")
    for key in sorted(card["auc"]):
        logger.info("%s AUC %s = %.3f", level.name, key, card["auc"][key])
    logger.info("%s fitted in %.1f s", level.name, time.perf_counter() - t0)
    return preds
