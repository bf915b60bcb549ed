"""Bootstrap optimism correction of the clinical and combined logistic models (rms::validate).

What is estimated
-----------------
The *apparent* performance of a model on the rows it was fitted (and selected) on is
optimistic. Harrell's bootstrap (Harrell, Lee & Mark, Stat Med 1996;15:361; Efron & Tibshirani
1993, ch. 17; ``rms::validate.lrm`` with ``method = "boot"``) estimates that optimism and
subtracts it:

1. fit the model on the ``n`` training rows with its whole predictor strategy (for
   ``p_value``: the univariable screen and the multivariable retention) and compute the
   **apparent** index on those rows;
2. for ``b = 1..B``: draw ``n`` rows with replacement (resample ``b``), repeat the WHOLE
   strategy on it (selection included, so a variable may enter in one resample and not in
   another), compute the index of that model on resample ``b`` (``training_b``, rms's
   "Training" column) and on the original ``n`` rows (``test_b``, rms's "Test");
3. ``optimism = mean_b(training_b - test_b)`` and ``corrected = apparent - optimism``
   (rms's ``index.corrected``); ``n`` resamples in which a model could be fitted (both
   classes present) are counted, the others dropped, as rms does.

Indices, in rms's conventions
-----------------------------
* ``auc``: the concordance index C = Dxy / 2 + 0.5 (rms reports Somers' Dxy = 2 (C - 0.5);
  correcting Dxy and converting is the same as correcting C, the map is linear);
* ``slope`` and ``intercept``: the calibration slope and intercept of the **linear
  predictor** ``lp``, i.e. the coefficients ``(a, b)`` of the logistic recalibration fit
  ``logit P(y = 1) = a + b lp`` fitted jointly (rms's ``Slope`` and ``Intercept``). On the
  rows an unpenalized maximum-likelihood model was fitted on this fit returns exactly
  ``a = 0, b = 1``, so the apparent slope is 1 and intercept 0 (they are computed, not
  assumed: a penalized model's apparent slope is above 1); the corrected slope is then
  ``1 - optimism``, the uniform shrinkage factor of van Houwelingen & le Cessie;
* ``brier``: mean squared error of the probability ``expit(lp)`` (rms's ``B``; lower is
  better, so its optimism is usually negative).

The combined model
------------------
The combined model is Rad-score + the clinical predictors. Its Rad-score input is the training
rows' OUT-OF-FOLD Rad-score the level fit used (``rad_score`` of the ``set == "train"``,
``model == "combined"`` rows of ``results/<level>/predictions.csv``); it is always in the
model, and in each resample the clinical predictors are re-chosen by the strategy. The
learners and the Rad-score are not refitted in the resamples (the whole level fit inside
the bootstrap is :mod:`alnburden.modeling.whole_fit`, config
``internal_validation.bootstrap.whole_fit``), so the combined model's correction covers the
clinical selection and the logistic fit, not the radiomics pipeline.

**Selection stability**: the fraction of resamples in which each variable was chosen
(Sauerbrei & Schumacher, Stat Med 1992;11:2093).

Everything runs on numeric arrays (:class:`alnburden.modeling.clinical.CodedData`): 200
resamples of ~400 rows with 9 candidate variables take about a second per level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import rankdata

from alnburden.io import quiet_logger
from alnburden.levels import Level
from alnburden.modeling.clinical import (ClinicalSettings, CodedData, LogisticModel,
                                         select_predictors)
from alnburden.schemas import load_schema

logger = logging.getLogger(__name__)

__all__ = ["METRICS", "BOOTSTRAP_COLUMNS", "STABILITY_COLUMNS", "bootstrap_settings", "auc",
           "calibration_line", "performance_indices", "optimism_bootstrap",
           "level_optimism", "BootstrapResult"]

#: The indices of the table, in its order.
METRICS = ("auc", "slope", "intercept", "brier")
#: Columns of ``results/<level>/internal_validation_bootstrap.csv``.
BOOTSTRAP_COLUMNS = ["level", "model", "metric", "apparent", "training", "test", "optimism",
                     "corrected", "n_resamples", "strategy"]
#: Columns of ``results/<level>/internal_validation_selection_stability.csv``.
STABILITY_COLUMNS = ["level", "model", "variable", "selected", "n_selected", "n_resamples",
                     "frequency"]
RAD_SCORE = {"name": "rad_score", "type": "continuous"}


def bootstrap_settings(given: dict | None) -> dict:
    """``internal_validation.bootstrap`` (``n``, ``seed``) over the schema's defaults (its
    ``whole_fit`` block belongs to :mod:`alnburden.modeling.whole_fit`)."""
    props = (load_schema("config.schema.yaml")["properties"]["internal_validation"]
             ["properties"]["bootstrap"]["properties"])
    return {**{k: v["default"] for k, v in props.items() if k != "whole_fit"}, **(given or {})}


# --------------------------------------------------------------------------- indices


def auc(y, score) -> float:
    """Concordance index (ROC AUC) by the Mann-Whitney U with mid-ranks (ties count 1/2)."""
    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def calibration_line(y, lp) -> tuple[float, float]:
    """Calibration ``(intercept, slope)``: ``logit P(y=1) = a + b lp`` by maximum likelihood.

    NaN for both when ``lp`` is constant (an intercept-only model: no slope exists) or the
    fit does not converge (separation).
    """
    y = np.asarray(y, dtype=float)
    lp = np.asarray(lp, dtype=float)
    if np.ptp(lp) < 1e-12 or len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    X = np.column_stack([np.ones(len(lp)), lp])
    beta = np.zeros(2)
    for _ in range(50):
        p = expit(X @ beta)
        w = p * (1 - p)
        try:
            step = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (y - p))
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            return float(beta[0]), float(beta[1])
    return float("nan"), float("nan")


def performance_indices(y, lp) -> dict[str, float]:
    """``auc``, ``slope``, ``intercept``, ``brier`` of a linear predictor (see the module)."""
    y = np.asarray(y, dtype=float)
    lp = np.asarray(lp, dtype=float)
    a, b = calibration_line(y, lp)
    return {"auc": auc(y, lp), "slope": b, "intercept": a,
            "brier": float(np.mean((expit(lp) - y) ** 2))}


# --------------------------------------------------------------------------- bootstrap


@dataclass
class BootstrapResult:
    """What :func:`optimism_bootstrap` returns.

    Attributes
    ----------
    table
        One row per model x metric: ``model, metric, apparent, training`` (mean over the
        resamples of the index on the resample), ``test`` (mean of the index on the
        original rows), ``optimism, corrected, n_resamples``.
    stability
        One row per model x variable: ``model, variable, selected`` (chosen on the original
        rows), ``n_selected, n_resamples, frequency``.
    resamples
        Per resample, model and metric: ``resample, model, metric, training, test`` (the
        raw numbers behind the table).
    """

    table: pd.DataFrame
    stability: pd.DataFrame
    resamples: pd.DataFrame


def _quiet(name: str = "alnburden.modeling.clinical"):
    """Silence the per-fit warnings (separation, EPV) inside the resamples; they are counted."""
    return quiet_logger(name)


def _fit_arms(clin: CodedData, full: CodedData | None, y: np.ndarray,
              settings: ClinicalSettings):
    """The strategy on one sample: its selection and the fitted clinical (and combined) models."""
    sel = select_predictors(clin, y, settings)
    specs = [s for s in clin.specs if s["name"] in sel.predictors]
    models = {"clinical": (sel.penalized if sel.penalized is not None
                           else LogisticModel(specs)._fit_coded(clin, y))}
    if full is not None:
        models["combined"] = LogisticModel([RAD_SCORE, *specs])._fit_coded(full, y)
    return sel, models


def optimism_bootstrap(df: pd.DataFrame, y, variables: list[dict], settings: ClinicalSettings,
                       n_boot: int, seed: int, rad_score=None,
                       indices: list[np.ndarray] | None = None) -> BootstrapResult:
    """Harrell's bootstrap optimism correction of the clinical (and combined) model.

    Parameters
    ----------
    df
        The training rows (one per patient) with the clinical variables' columns.
    y
        Their 0/1 labels.
    variables
        The config's ``clinical.variables`` (the candidates).
    settings
        The predictor strategy, repeated in every resample.
    n_boot
        Resamples ``B`` (ignored when ``indices`` is given).
    seed
        Seed of the resamples (``numpy.random.default_rng``).
    rad_score
        The training rows' out-of-fold Rad-score, or None for a clinical-only level (then
        only the clinical model is validated).
    indices
        Row indices of each resample (arrays of length ``len(df)``); default ``B`` draws
        with replacement. For tests and for reusing the same resamples.

    Returns
    -------
    BootstrapResult
    """
    y = np.asarray(y, dtype=float)
    clin = CodedData.from_frame(df, variables)
    full = None
    if rad_score is not None:
        rs = np.asarray(rad_score, dtype=float)
        if np.isnan(rs).any():
            raise ValueError(f"{int(np.isnan(rs).sum())} training row(s) have no Rad-score; "
                             "the combined model's bootstrap needs the out-of-fold Rad-score "
                             "of every training patient")
        full = CodedData.from_frame(df.assign(rad_score=rs), [RAD_SCORE, *variables])
    sel0, models0 = _fit_arms(clin, full, y, settings)
    apparent = {m: performance_indices(y, model._coded_lp(full if m == "combined" else clin))
                for m, model in models0.items()}
    if indices is None:
        rng = np.random.default_rng(seed)
        indices = [rng.integers(0, len(y), len(y)) for _ in range(int(n_boot))]
    rows, counts, used = _resample_fits(clin, full, y, settings, indices)
    res = pd.DataFrame(rows, columns=["resample", "model", "metric", "training", "test"])
    return BootstrapResult(_optimism_table(res, list(models0), apparent),
                           _selection_stability(list(models0), variables, counts,
                                                sel0.predictors, used), res)


def _resample_fits(clin, full, y: np.ndarray, settings: ClinicalSettings,
                   indices) -> tuple[list[dict], dict[str, int], int]:
    """Refit the predictor strategy and the models on every resample; each model's indices
    on its own resample (``training``) and on the original rows (``test``), how often each
    predictor was selected, and how many resamples were used (one-class resamples and
    failed fits are skipped, logged)."""
    rows, counts, used, skipped, firth = [], {}, 0, 0, 0
    with _quiet():
        for b, idx in enumerate(indices):
            idx = np.asarray(idx)
            y_b = y[idx]
            if len(np.unique(y_b)) < 2:
                skipped += 1
                continue
            clin_b = clin.take(idx)
            full_b = full.take(idx) if full is not None else None
            try:
                sel, models = _fit_arms(clin_b, full_b, y_b, settings)
            except (ValueError, np.linalg.LinAlgError) as exc:
                logger.debug("resample %d skipped: %s", b, exc)
                skipped += 1
                continue
            used += 1
            for m, model in models.items():
                firth += model.method_ == "firth"
                on_b = performance_indices(y_b, model._coded_lp(full_b if m == "combined"
                                                                else clin_b))
                on_orig = performance_indices(y, model._coded_lp(full if m == "combined"
                                                                 else clin))
                for metric in METRICS:
                    rows.append({"resample": b, "model": m, "metric": metric,
                                 "training": on_b[metric], "test": on_orig[metric]})
            for name in sel.predictors:
                counts[name] = counts.get(name, 0) + 1
    if skipped:
        logger.warning("%d of %d resample(s) skipped (one class, or no model could be "
                       "fitted)", skipped, len(indices))
    if firth:
        logger.info("bootstrap: %d model fit(s) needed Firth's likelihood (separation)", firth)
    return rows, counts, used


def _optimism_table(res: pd.DataFrame, models: list[str], apparent: dict) -> pd.DataFrame:
    """Per model and metric: apparent, mean training and test index over the resamples, the
    optimism (their mean difference) and the corrected index (apparent - optimism)."""
    table = []
    for m in models:
        for metric in METRICS:
            r = res[(res["model"] == m) & (res["metric"] == metric)]
            ok = r["training"].notna() & r["test"].notna()
            tr, te = r.loc[ok, "training"].to_numpy(), r.loc[ok, "test"].to_numpy()
            optimism = float(np.mean(tr - te)) if ok.any() else float("nan")
            table.append({"model": m, "metric": metric, "apparent": apparent[m][metric],
                          "training": float(np.mean(tr)) if ok.any() else float("nan"),
                          "test": float(np.mean(te)) if ok.any() else float("nan"),
                          "optimism": optimism, "corrected": apparent[m][metric] - optimism,
                          "n_resamples": int(ok.sum())})
    return pd.DataFrame(table)


def _selection_stability(models: list[str], variables: list[dict], counts: dict,
                         selected: list[str], used: int) -> pd.DataFrame:
    """How often each candidate predictor was selected over the ``used`` resamples (the
    Rad-score is always in the combined model)."""
    stab = []
    for m in models:
        if m == "combined":
            stab.append({"model": m, "variable": "rad_score", "selected": True,
                         "n_selected": used, "n_resamples": used,
                         "frequency": 1.0 if used else float("nan")})
        for v in variables:
            k = counts.get(v["name"], 0)
            stab.append({"model": m, "variable": v["name"],
                         "selected": v["name"] in selected, "n_selected": k,
                         "n_resamples": used, "frequency": k / used if used else float("nan")})
    return pd.DataFrame(stab)


def level_optimism(cohort: pd.DataFrame, split: pd.DataFrame, predictions: pd.DataFrame,
                   level: Level, variables: list[dict], models: dict | None, seed: int | None,
                   bootstrap: dict | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bootstrap optimism correction of one level (rule ``internal_validation_bootstrap``).

    Parameters
    ----------
    cohort, split
        ``results/cohort/cohort.csv`` and ``split.csv``.
    predictions
        ``results/<level>/predictions.csv``: the training rows' out-of-fold Rad-score (its
        ``set == "train"``, ``model == "combined"`` rows) and, for a check, the apparent
        AUCs of the saved models.
    level
        The level.
    variables
        The config's ``clinical.variables``.
    models
        The config's ``models`` (the predictor strategy; schema defaults for missing keys).
    seed
        The config's ``seed`` (the penalized strategy's CV), None for the schema's.
    bootstrap
        The config's ``internal_validation.bootstrap`` (``n``, ``seed``).

    Returns
    -------
    table, stability
        :data:`BOOTSTRAP_COLUMNS` and :data:`STABILITY_COLUMNS`.
    """
    from alnburden.modeling.level_fit import level_data

    settings = ClinicalSettings.from_config(models, seed)
    boot = bootstrap_settings(bootstrap)
    data = level_data(cohort, split, level)
    train = data[data["set"] == "train"]
    y = train["y"].to_numpy().astype(float)
    pred = predictions[(predictions["level"].astype(str) == level.name)
                       & (predictions["set"] == "train")]
    comb = pred[pred["model"] == "combined"]
    rs = None
    if len(comb):
        by_id = comb.assign(patient_id=comb["patient_id"].astype(str)).set_index(
            "patient_id")["rad_score"]
        absent = [i for i in train.index if i not in by_id.index]
        if absent:
            raise ValueError(f"{level.name}: {len(absent)} training patient(s) have no "
                             f"combined row in predictions.csv, e.g. {absent[:5]}; rerun "
                             "fit_level")
        rs = by_id.loc[train.index].to_numpy(dtype=float)
    result = optimism_bootstrap(train, y, variables, settings, int(boot["n"]), int(boot["seed"]),
                                rad_score=rs)
    for m in result.table["model"].unique():
        saved = pred[pred["model"] == m]
        if len(saved):
            ref = auc(saved.set_index(saved["patient_id"].astype(str)).loc[train.index, "y_true"],
                      saved.set_index(saved["patient_id"].astype(str)).loc[train.index, "p"])
            mine = float(result.table.query("model == @m and metric == 'auc'")["apparent"].iloc[0])
            if abs(ref - mine) > 1e-6:
                logger.warning("%s %s: apparent AUC %.4f here but %.4f in predictions.csv; "
                               "the config changed since fit_level ran?", level.name, m,
                               mine, ref)
    for r in result.table.itertuples():
        logger.info("%s %s %s: apparent %.3f optimism %.3f corrected %.3f (%d resamples)",
                    level.name, r.model, r.metric, r.apparent, r.optimism, r.corrected,
                    r.n_resamples)
    numbers = ["apparent", "training", "test", "optimism", "corrected"]
    table = result.table.assign(level=level.name, strategy=settings.strategy)
    table[numbers] = table[numbers].round(10)  # an apparent intercept of 5e-11 is 0
    stability = result.stability.assign(level=level.name)
    return table[BOOTSTRAP_COLUMNS], stability[STABILITY_COLUMNS]
