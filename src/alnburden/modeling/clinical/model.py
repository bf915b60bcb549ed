"""The persisted clinical and combined model: :class:`LogisticModel`, a scikit-learn
classifier whose column coding is part of the model."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from alnburden.modeling.clinical.coding import CodedData, fill_code, variable_terms
from alnburden.modeling.clinical.logit import Z95, fit_arrays

logger = logging.getLogger(__name__)


class LogisticModel(ClassifierMixin, BaseEstimator):
    """Logistic regression on declared clinical variables (and the Rad-score).

    The persisted ``clinical`` and ``combined`` models: the column coding (see the module
    docstring) is part of the model, so it predicts from raw cohort columns.

    Parameters
    ----------
    variables : list of dict
        Specs (name, type, levels, coding) of the model's inputs; for the combined model
        ``[{"name": "rad_score", "type": "continuous"}, *predictor specs]``. Empty: an
        intercept-only model (every patient gets the training prevalence).
    penalty : dict or None
        None (default): unpenalized maximum likelihood (Firth on separation). A dict
        ``{l1_ratio, n_cs, cv_folds, random_state}``: elastic-net (L1 when ``l1_ratio`` is
        1) logistic regression of the z-scored terms, the strength chosen by stratified CV
        of the log-loss (:class:`~sklearn.linear_model.LogisticRegressionCV`, saga);
        ``coef_`` are on the variables' own scale, ``cov_`` is NaN.

    Attributes
    ----------
    terms_ : list of str
        ``["const", *design columns]``.
    coef_ : ndarray
        Coefficients aligned with ``terms_`` (intercept first).
    cov_ : ndarray
        Their covariance matrix (NaN for a penalized fit).
    method_ : {"mle", "firth", "intercept", "penalized"}
    ranges_ : dict
        ``{variable: (min, max)}`` of every continuous variable on the training rows (the
        axis ranges of the model's nomogram).
    fill_values_ : dict
        Training median or mode (see the module docstring) used for missing values at
        prediction time.
    classes_ : ndarray ``[0, 1]``
    """

    def __init__(self, variables: list[dict] | None = None, penalty: dict | None = None) -> None:
        self.variables = variables
        self.penalty = penalty

    def fit(self, X: pd.DataFrame, y):
        """Fit on the complete cases of ``X`` (a DataFrame with the variables' columns)."""
        specs = list(self.variables or [])
        data = CodedData.from_frame(X, specs)
        self._fit_coded(data, np.asarray(y, dtype=float))
        for spec in specs:
            if spec["type"] == "categorical":  # back to the level's name
                code = int(self.fill_codes_[spec["name"]])
                self.fill_values_[spec["name"]] = spec["levels"][code]
        return self

    def _fit_coded(self, data: CodedData, y: np.ndarray) -> LogisticModel:
        """Fit on numeric data (the bootstrap's fast path; same estimates as :meth:`fit`)."""
        specs = list(self.variables or [])
        names = [s["name"] for s in specs]
        if len(np.unique(y[~np.isnan(y)])) < 2:
            raise ValueError(f"model {'+'.join(names) or 'intercept'}: the outcome has a "
                             f"single class among the {len(y)} patients fitted; a logistic "
                             "model needs both classes")
        self.fill_codes_, self.fill_values_, self.ranges_ = {}, {}, {}
        for i, spec in enumerate(specs):
            j = data.names.index(spec["name"])
            c = data.codes[:, j]
            self.fill_codes_[spec["name"]] = fill_code(spec, c)
            self.fill_values_[spec["name"]] = self.fill_codes_[spec["name"]]
            if spec["type"] == "continuous":
                self.ranges_[spec["name"]] = (float(np.nanmin(c)), float(np.nanmax(c)))
        cols = data.columns(names)
        D = data.design[:, cols]
        ok = ~np.isnan(D).any(axis=1) & ~np.isnan(y)
        D, yy = D[ok], y[ok]
        terms = [data.terms[c] for c in cols]
        keep = [j for j in range(D.shape[1]) if np.ptp(D[:, j]) > 0]
        dropped = [terms[j] for j in range(len(terms)) if j not in keep]
        if dropped:
            logger.warning("dropped constant design column(s) %s (a level absent from the "
                           "patients fitted)", dropped)
        D, terms = D[:, keep], [terms[j] for j in keep]
        self.terms_ = ["const", *terms]
        self.n_, self.events_ = int(len(yy)), int(yy.sum())
        self.classes_ = np.array([0, 1])
        if not terms:
            prev = float(yy.mean())
            self.coef_ = np.array([np.log(prev) - np.log1p(-prev)])
            self.cov_ = np.array([[1.0 / (len(yy) * prev * (1 - prev))]])
            self.method_ = "intercept"
        elif self.penalty is not None:
            self._fit_penalized(D, yy)
        else:
            Xc = np.column_stack([np.ones(len(yy)), D])
            self.coef_, self.cov_, self.method_ = fit_arrays(
                Xc, yy, "model " + "+".join(names))
        return self

    def _fit_penalized(self, D: np.ndarray, y: np.ndarray) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold

        pen = dict(self.penalty)
        mu, sd = D.mean(axis=0), D.std(axis=0)
        Z = (D - mu) / sd
        cv = StratifiedKFold(int(pen["cv_folds"]), shuffle=True,
                             random_state=int(pen["random_state"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = LogisticRegressionCV(Cs=int(pen["n_cs"]), l1_ratios=(float(pen["l1_ratio"]),),
                                       cv=cv, solver="saga", scoring="neg_log_loss",
                                       max_iter=5000, tol=1e-6, use_legacy_attributes=False,
                                       random_state=int(pen["random_state"])).fit(Z, y)
        b = np.asarray(est.coef_, dtype=float).ravel() / sd
        self.coef_ = np.concatenate([[float(np.ravel(est.intercept_)[0]) - b @ mu], b])
        self.cov_ = np.full((len(self.coef_), len(self.coef_)), np.nan)
        self.method_ = "penalized"
        self.C_ = float(np.ravel(est.C_)[0])

    def variable_selected(self, name: str) -> bool:
        """The variable has a non-zero coefficient."""
        check_is_fitted(self, "coef_")
        spec = next(s for s in self.variables if s["name"] == name)
        terms = set(variable_terms(spec))
        return any(b != 0 for t, b in zip(self.terms_[1:], self.coef_[1:]) if t in terms)

    def _coded_design(self, data: CodedData) -> np.ndarray:
        names = [s["name"] for s in (self.variables or [])]
        D = data.filled_design(self.fill_codes_, names)
        terms = [t for n in names for t in (data.terms[c] for c in data.blocks[n])]
        idx = [terms.index(t) for t in self.terms_[1:]]
        return np.column_stack([np.ones(len(data)), D[:, idx]])

    def _coded_lp(self, data: CodedData) -> np.ndarray:
        """Linear predictor of numeric data (the bootstrap's fast path)."""
        return self._coded_design(data) @ self.coef_

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Linear predictor (log-odds)."""
        check_is_fitted(self, "coef_")
        return self._coded_lp(CodedData.from_frame(X, list(self.variables or [])))

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
                             "or": np.exp(self.coef_), "ci_low": np.exp(self.coef_ - Z95 * se),
                             "ci_high": np.exp(self.coef_ + Z95 * se),
                             "p": 2 * stats.norm.sf(np.abs(z))})
