"""The internal-validation table: bootstrap optimism correction beside the nested CV and test.

``results/tables/internal_validation.csv`` has one row per level, model (``clinical``,
``combined``) and metric (``auc``, ``slope``, ``intercept``, ``brier``): the bootstrap's
``apparent``, ``optimism`` and ``corrected`` values (from each level's
``internal_validation_bootstrap.csv``, :func:`alnburden.modeling.optimism.level_optimism`)
and, beside them, the same index on the ``nested`` rows (nested cross-validation, the
out-of-fold predictions pooled; empty when the run has none), its mean over the outer folds
each scored on its own held-out patients (``nested_fold_mean``, see
:func:`alnburden.modeling.nested.nested_fold_aucs`) and on the ``test`` rows of the
predictions. The indices are
those of :func:`alnburden.modeling.optimism.performance_indices` on ``logit(p)``: AUC,
calibration slope and intercept of the linear predictor, Brier score.

``procedure`` says which bootstrap a row comes from: ``bootstrap (logistic refit)`` (the
logistic models refitted, :mod:`alnburden.modeling.optimism`) or, when config
``internal_validation.bootstrap.whole_fit`` is on, ``bootstrap (whole level fit)``
(everything refitted, radiomics rows too: :mod:`alnburden.modeling.whole_fit`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alnburden.formatting import fmt_number
from alnburden.modeling.optimism import METRICS, performance_indices
from alnburden.modeling.whole_fit import WHOLE_FIT_PROCEDURE, whole_fit_summary_line

__all__ = ["INTERNAL_VALIDATION_COLUMNS", "internal_validation_table",
           "internal_validation_summary"]

#: Columns of ``results/tables/internal_validation.csv`` (DESIGN.md's first eight).
INTERNAL_VALIDATION_COLUMNS = ["level", "model", "metric", "apparent", "optimism", "corrected",
                               "nested", "test", "n_resamples", "strategy", "procedure",
                               "nested_fold_mean"]
MODELS = ("clinical", "combined")
#: ``procedure`` of the rows of :mod:`alnburden.modeling.optimism` (the logistic bootstrap).
LOGISTIC_PROCEDURE = "bootstrap (logistic refit)"
_EPS = 1e-12


def _indices(pred: pd.DataFrame, level: str, model: str, set_name: str) -> dict[str, float]:
    rows = pred[(pred["level"].astype(str) == level) & (pred["model"] == model)
                & (pred["set"] == set_name)]
    return _indices_of(rows)


def _indices_of(rows: pd.DataFrame) -> dict[str, float]:
    """:func:`performance_indices` of rows' ``y_true`` and ``logit(p)`` (NaN with one class)."""
    if rows.empty or rows["y_true"].nunique() < 2:
        return dict.fromkeys(METRICS, np.nan)
    p = np.clip(rows["p"].to_numpy(dtype=float), _EPS, 1 - _EPS)
    return performance_indices(rows["y_true"].to_numpy(dtype=float), np.log(p) - np.log1p(-p))


def _fold_mean_indices(folds: pd.DataFrame | None, level: str, model: str) -> dict[str, float]:
    """Each index's mean over the level's outer folds (and repeats), each fold scored on its
    own held-out patients; NaN without fold tables (a fold with one class is left out)."""
    if folds is None or folds.empty:
        return dict.fromkeys(METRICS, np.nan)
    rows = folds[(folds["level"].astype(str) == level) & (folds["model"] == model)]
    per_fold = pd.DataFrame([_indices_of(g) for _, g in rows.groupby(["repeat", "fold"])],
                            columns=list(METRICS))
    return {m: float(per_fold[m].mean()) for m in METRICS}  # NaN folds (one class) left out


def internal_validation_table(pred: pd.DataFrame, bootstrap: pd.DataFrame | None,
                              nested_folds: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apparent / optimism / corrected (bootstrap) beside nested and test, per level x model.

    Parameters
    ----------
    pred
        The predictions table (``results/predictions.csv``).
    bootstrap
        Every level's ``internal_validation_bootstrap.csv`` stacked (and, with the
        whole-fit bootstrap, its ``internal_validation_whole_fit.csv``: rows with a
        ``procedure``; rows without one are the logistic bootstrap's), or None: then the
        ``apparent`` column holds the ``train`` rows' index and the bootstrap columns are
        empty.
    nested_folds
        Every level's outer-fold tables stacked (``results/<level>/nested/fold_<k>.csv``),
        or None: then ``nested_fold_mean`` is empty.

    Returns
    -------
    DataFrame
        :data:`INTERNAL_VALIDATION_COLUMNS`, one row per level x model x metric; ``nested``
        is empty (NaN) when the predictions have no ``nested`` rows.
    """
    rows = []
    if bootstrap is not None and len(bootstrap):
        for r in bootstrap.itertuples():
            rows.append({"level": str(r.level), "model": r.model, "metric": r.metric,
                         "apparent": r.apparent, "optimism": r.optimism,
                         "corrected": r.corrected, "n_resamples": r.n_resamples,
                         "strategy": "" if pd.isna(r.strategy) else r.strategy,
                         "procedure": _procedure(getattr(r, "procedure", None))})
    else:
        for level in sorted(pd.unique(pred["level"].astype(str))):
            for model in MODELS:
                if not ((pred["level"].astype(str) == level) & (pred["model"] == model)).any():
                    continue
                app = _indices(pred, level, model, "train")
                rows += [{"level": level, "model": model, "metric": m, "apparent": app[m],
                          "optimism": np.nan, "corrected": np.nan, "n_resamples": 0,
                          "strategy": "", "procedure": ""} for m in METRICS]
    out = pd.DataFrame(rows, columns=[c for c in INTERNAL_VALIDATION_COLUMNS
                                      if c not in ("nested", "test", "nested_fold_mean")])
    cache: dict = {}
    for col in ("nested", "test"):
        vals = []
        for r in out.itertuples():
            key = (r.level, r.model, col)
            if key not in cache:
                cache[key] = _indices(pred, r.level, r.model, col)
            vals.append(cache[key][r.metric])
        out[col] = np.asarray(vals, dtype=float)
    fold_means = {key: _fold_mean_indices(nested_folds, *key)
                  for key in dict.fromkeys(zip(out["level"], out["model"]))}
    out["nested_fold_mean"] = np.asarray(
        [fold_means[(r.level, r.model)][r.metric] for r in out.itertuples()], dtype=float)
    return out[INTERNAL_VALIDATION_COLUMNS].reset_index(drop=True)


def _procedure(value) -> str:
    return LOGISTIC_PROCEDURE if value is None or pd.isna(value) or value == "" else str(value)


def internal_validation_summary(table: pd.DataFrame | None) -> list[str]:
    """Markdown lines of ``results/summary.md``: the optimism-corrected AUC of every level
    and model beside its nested-CV and test AUC ([] without a table)."""
    if table is None or table.empty:
        return []
    whole_fit = whole_fit_summary_line(table)
    if "procedure" in table.columns:
        table = table[table["procedure"] != WHOLE_FIT_PROCEDURE]
    auc = table[table["metric"] == "auc"]
    if auc["corrected"].isna().all():
        return (["## Internal validation (bootstrap optimism correction)", "", whole_fit, ""]
                if whole_fit else [])
    n = int(auc["n_resamples"].max())
    lines = ["## Internal validation (bootstrap optimism correction)", "",
             f"Harrell's bootstrap ({n} resamples of the training rows, the predictor "
             "selection repeated in each; `results/tables/internal_validation.csv`):", ""]
    for r in auc.itertuples():
        nested = ""
        if np.isfinite(r.nested):
            nested = f", nested CV {fmt_number(r.nested, 3)}"
            if np.isfinite(r.nested_fold_mean):
                nested += f" (mean of its folds {fmt_number(r.nested_fold_mean, 3)})"
        lines.append(f"- {r.level} {r.model}: apparent AUC {fmt_number(r.apparent, 3)}, "
                     f"optimism {fmt_number(r.optimism, 3)}, corrected "
                     f"{fmt_number(r.corrected, 3)}{nested}, test {fmt_number(r.test, 3)}")
    slope = table[(table["metric"] == "slope") & table["corrected"].notna()]
    if len(slope):
        lines.append("- optimism-corrected calibration slope (shrinkage): "
                     + ", ".join(f"{r.level} {r.model} {fmt_number(r.corrected, 2)}"
                                 for r in slope.itertuples()))
    return lines + ([whole_fit] if whole_fit else []) + [""]
