"""Clinical predictors: univariable and multivariable logistic regression (statsmodels).

Coding of the clinical variables (the config's ``clinical.variables``)
-------------------------------------------------------------------------
* ``continuous``: as is (odds ratio per unit, e.g. per year, per mm, per % Ki-67);
* ``binary``: 0/1 as is;
* ``ordinal``: as a number (one odds ratio per step), e.g. ``grade`` (1-3) and
  ``aln_us_class`` (ALN ultrasound morphologic class 1-6): a linear trend on the logit;
* ``categorical``: one-hot dummies, the FIRST level of the config's ``levels`` is the
  reference (e.g. ``subtype``: luminal_a).

Selection of independent predictors (:func:`select_clinical_predictors`)
------------------------------------------------------------------------
1. univariable logistic regression of each variable (complete cases of that variable);
   a variable enters when its p-value < ``entry_p`` (Wald test; joint Wald chi-square over
   its dummies for a categorical variable);
2. ONE multivariable logistic regression of all entered variables; the independent
   predictors are those with multivariable p < ``retention_p``.
3. Fallbacks (logged): if no variable enters, the single variable with the smallest
   univariable p is used; if none is retained, the entered variable with the smallest
   multivariable p is kept. The models always have at least one predictor.

Separation
----------
When maximum likelihood fails (perfect or quasi-complete separation, non-convergence, or a
coefficient with |b| > 15), the model is refitted by Firth's bias-reduced penalised
likelihood (Firth 1993, Biometrika 80:27; Heinze & Schemper 2002), which gives finite
estimates; Wald SEs come from the penalised information matrix. The table's ``method``
column says ``firth`` for such fits and a warning names the variable(s).

Missing values
--------------
Univariable fits use the complete cases of each variable; multivariable fits the complete
cases of the entered variables. :class:`LogisticModel` (the persisted clinical and
combined models) fills a missing value at prediction time with the training median
(continuous, ordinal) or the training mode (binary, categorical), fitted on train.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from alnburden.formatting import fmt_ci, fmt_p

logger = logging.getLogger(__name__)

__all__ = ["design_matrix", "fit_logit", "univariable_logistic", "multivariable_logistic",
           "select_clinical_predictors", "clinical_table", "LogisticModel"]

_Z = stats.norm.ppf(0.975)
_TYPES = ("continuous", "binary", "ordinal", "categorical")


def _spec(variables: list[dict], name: str) -> dict:
    for v in variables:
        if v["name"] == name:
            return v
    raise ValueError(f"variable {name!r} is not declared in clinical.variables "
                     f"({[v['name'] for v in variables]}); add it to the config")


def _terms(spec: dict) -> list[str]:
    """Design column names of one variable."""
    if spec["type"] == "categorical":
        return [f"{spec['name']}[{lv}]" for lv in spec["levels"][1:]]
    return [spec["name"]]


def design_matrix(df: pd.DataFrame, specs: list[dict]) -> pd.DataFrame:
    """Numeric design matrix (no intercept) of the variables ``specs`` from ``df``.

    Rows keep ``df``'s index; a missing value gives NaN in every column of its variable.

    Raises
    ------
    ValueError
        A column is absent, a type is unknown, or a categorical value is not in the
        declared ``levels``.
    """
    cols = {}
    for spec in specs:
        name, typ = spec["name"], spec.get("type")
        if name not in df.columns:
            raise ValueError(f"clinical variable {name!r} is not a column of the cohort "
                             f"(columns: {list(df.columns)[:12]}...)")
        if typ not in _TYPES:
            raise ValueError(f"variable {name!r} has type {typ!r}; use one of {_TYPES}")
        x = df[name]
        if typ == "categorical":
            levels = [str(lv) for lv in spec.get("levels") or []]
            if len(levels) < 2:
                raise ValueError(f"categorical variable {name!r} needs >= 2 'levels' in the "
                                 "config (the first is the reference)")
            s = x.astype("string")
            bad = sorted(set(s.dropna()) - set(levels))
            if bad:
                raise ValueError(f"variable {name!r} has value(s) {bad} outside its levels "
                                 f"{levels}; fix the data or add the level to the config")
            for lv in levels[1:]:
                cols[f"{name}[{lv}]"] = np.where(s.isna(), np.nan, (s == lv).astype(float))
        else:
            cols[name] = pd.to_numeric(x, errors="raise").astype(float).to_numpy()
    return pd.DataFrame(cols, index=df.index)


# --------------------------------------------------------------------------- fitting


def _firth(X: np.ndarray, y: np.ndarray, max_iter: int = 200, tol: float = 1e-8):
    """Firth's penalised logistic regression (X includes the intercept column)."""
    beta = np.zeros(X.shape[1])

    def pen_ll(b):
        p = expit(X @ b)
        w = p * (1 - p)
        sign, logdet = np.linalg.slogdet(X.T @ (X * w[:, None]))
        ll = np.sum(y * np.log(np.clip(p, 1e-300, None)) + (1 - y) * np.log(np.clip(1 - p, 1e-300, None)))
        return ll + 0.5 * logdet

    current = pen_ll(beta)
    converged = False
    for _ in range(max_iter):
        p = expit(X @ beta)
        w = p * (1 - p)
        info = X.T @ (X * w[:, None])
        inv = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, inv, X)
        step = inv @ (X.T @ (y - p + h * (0.5 - p)))
        t = 1.0
        while t > 1e-6:
            new = beta + t * step
            val = pen_ll(new)
            if val >= current - 1e-12:
                break
            t /= 2
        beta, current = new, val
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    p = expit(X @ beta)
    cov = np.linalg.pinv(X.T @ (X * (p * (1 - p))[:, None]))
    if not converged:
        logger.warning("Firth logistic regression did not converge in %d iterations", max_iter)
    return beta, cov


def fit_logit(X: pd.DataFrame, y, label: str = "model") -> dict:
    """Unpenalised logistic regression with an intercept; Firth's fit on separation.

    Parameters
    ----------
    X
        Design matrix without intercept (complete cases only).
    y
        0/1 outcome.
    label
        Name used in the separation warning (e.g. the variable's name).

    Returns
    -------
    dict
        ``terms`` (["const", *X.columns]), ``params``, ``cov`` (covariance matrix),
        ``method`` ("mle" or "firth"), ``n``, ``events``.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (ConvergenceWarning, PerfectSeparationError,
                                                 PerfectSeparationWarning)

    y = np.asarray(y, dtype=float)
    Xc = np.column_stack([np.ones(len(X)), X.to_numpy(dtype=float)])
    terms = ["const", *X.columns]
    if len(np.unique(y)) < 2:
        raise ValueError(f"{label}: the outcome has a single class among the {len(y)} "
                         "patients fitted; a logistic model needs both classes")
    method, params, cov = "mle", None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", RuntimeWarning)
            res = sm.Logit(y, Xc).fit(disp=0, method="newton", maxiter=100)
        params, cov = np.asarray(res.params), np.asarray(res.cov_params())
        if (not res.mle_retvals.get("converged", True) or np.any(np.abs(params) > 15)
                or not np.all(np.isfinite(cov))):
            raise PerfectSeparationError("suspected separation")
    except (PerfectSeparationError, PerfectSeparationWarning, ConvergenceWarning,
            RuntimeWarning, np.linalg.LinAlgError) as exc:
        logger.warning("%s: maximum likelihood failed (%s: %s), probably (quasi-)complete "
                       "separation; refitted with Firth's penalised likelihood",
                       label, type(exc).__name__, exc)
        method = "firth"
        params, cov = _firth(Xc, y)
    return {"terms": terms, "params": params, "cov": cov, "method": method,
            "n": int(len(y)), "events": int(y.sum())}


def _term_rows(fit: dict, variable_of: dict[str, str]) -> pd.DataFrame:
    params, se = fit["params"], np.sqrt(np.clip(np.diag(fit["cov"]), 0, None))
    rows = []
    for i, term in enumerate(fit["terms"]):
        if term == "const":
            continue
        z = params[i] / se[i] if se[i] > 0 else np.nan
        rows.append({"variable": variable_of[term], "term": term, "coef": params[i], "se": se[i],
                     "or": np.exp(params[i]), "ci_low": np.exp(params[i] - _Z * se[i]),
                     "ci_high": np.exp(params[i] + _Z * se[i]),
                     "p": 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan,
                     "method": fit["method"], "n": fit["n"], "events": fit["events"]})
    return pd.DataFrame(rows)


def _variable_p(fit: dict, terms: list[str]) -> float:
    """Wald p-value of a variable (joint chi-square over its terms)."""
    idx = [fit["terms"].index(t) for t in terms if t in fit["terms"]]
    if not idx:
        return np.nan
    b = fit["params"][idx]
    V = fit["cov"][np.ix_(idx, idx)]
    stat = float(b @ np.linalg.pinv(V) @ b)
    return float(stats.chi2.sf(stat, len(idx)))


def _prepare(df: pd.DataFrame, y, specs: list[dict]):
    X = design_matrix(df, specs)
    yy = pd.Series(np.asarray(y, dtype=float), index=df.index)
    ok = X.notna().all(axis=1) & yy.notna()
    X, yy = X[ok], yy[ok]
    const = [c for c in X.columns if X[c].nunique() <= 1]
    if const:
        logger.warning("dropped constant design column(s) %s (a level absent from the "
                       "patients fitted)", const)
        X = X.drop(columns=const)
    variable_of = {t: s["name"] for s in specs for t in _terms(s)}
    return X, yy, variable_of


def univariable_logistic(df: pd.DataFrame, y, variables: list[dict]) -> pd.DataFrame:
    """One logistic regression per variable.

    Parameters
    ----------
    df
        Rows to fit (training patients), with one column per variable.
    y
        0/1 outcome aligned with ``df``'s rows.
    variables
        Specs from the config's ``clinical.variables`` (name, type, levels).

    Returns
    -------
    DataFrame
        One row per term: ``variable, term, or, ci_low, ci_high, p`` (Wald, 95 % CI), plus
        ``coef, se, variable_p`` (Wald p of the whole variable), ``method`` (mle/firth),
        ``n``, ``events``.
    """
    out = []
    for spec in variables:
        X, yy, variable_of = _prepare(df, y, [spec])
        if X.shape[1] == 0:
            logger.warning("univariable %s: no variation among fitted patients; skipped",
                           spec["name"])
            continue
        fit = fit_logit(X, yy, label=f"univariable {spec['name']}")
        rows = _term_rows(fit, variable_of)
        rows["variable_p"] = _variable_p(fit, list(X.columns))
        out.append(rows)
    cols = ["variable", "term", "or", "ci_low", "ci_high", "p", "coef", "se", "variable_p",
            "method", "n", "events"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def multivariable_logistic(df: pd.DataFrame, y, variables: list[dict]) -> pd.DataFrame:
    """One logistic regression of all ``variables`` together (same columns as
    :func:`univariable_logistic`; ``variable_p`` is the joint Wald p of each variable)."""
    X, yy, variable_of = _prepare(df, y, variables)
    fit = fit_logit(X, yy, label="multivariable " + "+".join(v["name"] for v in variables))
    rows = _term_rows(fit, variable_of)
    rows["variable_p"] = rows["variable"].map(
        {v["name"]: _variable_p(fit, _terms(v)) for v in variables})
    return rows[["variable", "term", "or", "ci_low", "ci_high", "p", "coef", "se", "variable_p",
                 "method", "n", "events"]]


def clinical_table(uni: pd.DataFrame, multi: pd.DataFrame, entered: list[str],
                   predictors: list[str]) -> pd.DataFrame:
    """Merge univariable and multivariable results into the publication table.

    Columns: ``variable, term, univariable_or, univariable_ci_low, univariable_ci_high,
    univariable_p, univariable_variable_p, univariable (formatted 'OR (95% CI)'),
    multivariable_or, ..., multivariable, entered, independent, method``.
    """
    u = uni.rename(columns={"or": "univariable_or", "ci_low": "univariable_ci_low",
                            "ci_high": "univariable_ci_high", "p": "univariable_p",
                            "variable_p": "univariable_variable_p", "method": "method"})
    m = multi.rename(columns={"or": "multivariable_or", "ci_low": "multivariable_ci_low",
                              "ci_high": "multivariable_ci_high", "p": "multivariable_p",
                              "variable_p": "multivariable_variable_p",
                              "method": "multivariable_method"})
    t = u[["variable", "term", "univariable_or", "univariable_ci_low", "univariable_ci_high",
           "univariable_p", "univariable_variable_p", "method", "n", "events"]].merge(
        m[["term", "multivariable_or", "multivariable_ci_low", "multivariable_ci_high",
           "multivariable_p", "multivariable_variable_p", "multivariable_method"]],
        on="term", how="left")
    t["univariable"] = [fmt_ci(*r, missing="") for r in t[["univariable_or", "univariable_ci_low",
                                                "univariable_ci_high"]].to_numpy(float)]
    t["univariable_p_fmt"] = [fmt_p(p, missing="") for p in t["univariable_p"].to_numpy(float)]
    t["multivariable"] = [fmt_ci(*r, missing="") for r in t[["multivariable_or", "multivariable_ci_low",
                                                  "multivariable_ci_high"]].to_numpy(float)]
    t["multivariable_p_fmt"] = [fmt_p(p, missing="") for p in t["multivariable_p"].to_numpy(float)]
    t["entered"] = t["variable"].isin(entered)
    t["independent"] = t["variable"].isin(predictors)
    return t[["variable", "term", "univariable", "univariable_p_fmt", "multivariable",
              "multivariable_p_fmt", "entered", "independent", "univariable_or",
              "univariable_ci_low", "univariable_ci_high", "univariable_p",
              "univariable_variable_p", "multivariable_or", "multivariable_ci_low",
              "multivariable_ci_high", "multivariable_p", "multivariable_variable_p", "method",
              "multivariable_method", "n", "events"]]


def select_clinical_predictors(df: pd.DataFrame, y, variables: list[dict], entry_p: float,
                               retention_p: float) -> tuple[pd.DataFrame, list[str]]:
    """Independent clinical predictors (univariable screen, then one multivariable model).

    Parameters
    ----------
    df, y
        Training patients and their 0/1 labels.
    variables
        The config's ``clinical.variables``.
    entry_p
        A variable enters the multivariable model when its univariable p < entry_p (0-1;
        the config's ``models.clinical_entry_p``).
    retention_p
        An entered variable is an independent predictor when its multivariable p <
        retention_p (0-1; the config's ``models.clinical_retention_p``).

    Returns
    -------
    table : DataFrame
        :func:`clinical_table` (one row per term, univariable and multivariable columns).
    predictors : list of str
        Variable names of the independent predictors (config order), never empty (see the
        module's fallbacks).
    """
    if not variables:
        raise ValueError("clinical.variables is empty; declare at least one clinical variable "
                         "to fit the clinical and combined models")
    uni = univariable_logistic(df, y, variables)
    if uni.empty:
        raise ValueError("no clinical variable varies among the training patients")
    vp = uni.groupby("variable", sort=False)["variable_p"].first()
    entered = [v["name"] for v in variables if v["name"] in vp.index and vp[v["name"]] < entry_p]
    if not entered:
        best = str(vp.idxmin())
        logger.warning("no clinical variable has univariable p < %g; using the best one, %s "
                       "(p = %.3g)", entry_p, best, vp[best])
        entered = [best]
    specs = [_spec(variables, name) for name in entered]
    multi = multivariable_logistic(df, y, specs)
    mp = multi.groupby("variable", sort=False)["variable_p"].first()
    predictors = [name for name in entered if mp.get(name, np.nan) < retention_p]
    if not predictors:
        best = str(mp.idxmin())
        logger.warning("no entered variable has multivariable p < %g; keeping the best one, %s "
                       "(p = %.3g)", retention_p, best, mp[best])
        predictors = [best]
    logger.info("clinical: entered %s; independent predictors %s", entered, predictors)
    return clinical_table(uni, multi, entered, predictors), predictors


# --------------------------------------------------------------------------- model


class LogisticModel(ClassifierMixin, BaseEstimator):
    """Unpenalised logistic regression on declared clinical variables (and the Rad-score).

    The persisted ``clinical`` and ``combined`` models: the column coding (see the module
    docstring) is part of the model, so it predicts from raw cohort columns.

    Parameters
    ----------
    variables : list of dict
        Specs (name, type, levels) of the model's inputs; for the combined model
        ``[{"name": "rad_score", "type": "continuous"}, *predictor specs]``.

    Attributes
    ----------
    terms_ : list of str
        ``["const", *design columns]``.
    coef_ : ndarray
        Coefficients aligned with ``terms_`` (intercept first).
    cov_ : ndarray
        Their covariance matrix.
    method_ : {"mle", "firth"}
    ranges_ : dict
        ``{variable: (min, max)}`` of every continuous variable on the training rows (the
        axis ranges of the model's nomogram).
    fill_values_ : dict
        Training median (continuous/ordinal) or mode (binary/categorical) used for missing
        values at prediction time.
    classes_ : ndarray ``[0, 1]``
    """

    def __init__(self, variables: list[dict] | None = None) -> None:
        self.variables = variables

    def fit(self, X: pd.DataFrame, y):
        """Fit on the complete cases of ``X`` (a DataFrame with the variables' columns)."""
        if not self.variables:
            raise ValueError("LogisticModel needs at least one variable")
        y = np.asarray(y, dtype=int)
        self.fill_values_ = {}
        self.ranges_ = {}
        for spec in self.variables:
            col = X[spec["name"]]
            if spec["type"] == "continuous":
                num = pd.to_numeric(col).dropna()
                self.ranges_[spec["name"]] = (float(num.min()), float(num.max()))
            if spec["type"] in ("continuous", "ordinal"):
                self.fill_values_[spec["name"]] = float(pd.to_numeric(col).median())
            else:
                self.fill_values_[spec["name"]] = col.dropna().mode().sort_values().iloc[0]
        D, yy, _ = _prepare(X, y, self.variables)
        fit = fit_logit(D, yy, label="model " + "+".join(v["name"] for v in self.variables))
        self.terms_, self.coef_, self.cov_, self.method_ = (fit["terms"], fit["params"],
                                                            fit["cov"], fit["method"])
        self.n_, self.events_ = fit["n"], fit["events"]
        self.classes_ = np.array([0, 1])
        return self

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = X[[v["name"] for v in self.variables]].copy()
        for name, val in self.fill_values_.items():
            if X[name].isna().any():
                X[name] = X[name].astype(object).where(X[name].notna(), val)
        D = design_matrix(X, self.variables)
        D.insert(0, "const", 1.0)
        return D.reindex(columns=self.terms_, fill_value=0.0).to_numpy(dtype=float)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Linear predictor (log-odds)."""
        return self._design(X) @ self.coef_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities, shape (n, 2)."""
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def summary(self) -> pd.DataFrame:
        """Terms with coefficient, SE, odds ratio, 95 % CI and Wald p."""
        check_is_fitted(self, "coef_")
        se = np.sqrt(np.clip(np.diag(self.cov_), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self.coef_ / se
        return pd.DataFrame({"term": self.terms_, "coef": self.coef_, "se": se,
                             "or": np.exp(self.coef_), "ci_low": np.exp(self.coef_ - _Z * se),
                             "ci_high": np.exp(self.coef_ + _Z * se),
                             "p": 2 * stats.norm.sf(np.abs(z))})
