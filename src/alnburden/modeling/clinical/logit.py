"""Unpenalised logistic regression: maximum likelihood (Newton-Raphson with step halving),
Firth's penalised likelihood on separation, Wald tests and the rows of a fit's terms."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import chdtrc, expit

logger = logging.getLogger(__name__)


Z95 = stats.norm.ppf(0.975)


MAX_ABS_COEF = 15.0


def _loglik(eta: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def _newton(X: np.ndarray, y: np.ndarray, max_iter: int = 100, tol: float = 1e-10):
    """Maximum-likelihood logistic regression (X includes the intercept column).

    Newton-Raphson with step halving on the log-likelihood. Returns ``beta, cov,
    converged``; raises :class:`numpy.linalg.LinAlgError` on a singular information matrix.
    """
    beta = np.zeros(X.shape[1])
    ll = _loglik(X @ beta, y)
    converged = False
    for _ in range(max_iter):
        p = expit(X @ beta)
        w = p * (1 - p)
        info = X.T @ (X * w[:, None])
        step = np.linalg.solve(info, X.T @ (y - p))
        t = 1.0
        while True:
            new = beta + t * step
            new_ll = _loglik(X @ new, y)
            if new_ll >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2
        beta, ll_old, ll = new, ll, new_ll
        if np.max(np.abs(t * step)) < tol or abs(ll - ll_old) < tol * (abs(ll) + tol):
            converged = True
            break
    p = expit(X @ beta)
    info = X.T @ (X * (p * (1 - p))[:, None])
    cov = np.linalg.inv(info)
    return beta, cov, converged


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


def fit_arrays(Xc: np.ndarray, y: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``params, cov, method`` of an intercept-first design: ML, or Firth on separation."""
    try:
        with np.errstate(all="ignore"):
            params, cov, converged = _newton(Xc, y)
        if not converged:
            raise FloatingPointError("Newton-Raphson did not converge")
        if np.any(np.abs(params) > MAX_ABS_COEF) or not np.all(np.isfinite(cov)):
            raise FloatingPointError(f"a coefficient beyond +-{MAX_ABS_COEF:g}")
        return params, cov, "mle"
    except (FloatingPointError, np.linalg.LinAlgError) as exc:
        logger.warning("%s: maximum likelihood failed (%s: %s), probably (quasi-)complete "
                       "separation; refitted with Firth's penalised likelihood",
                       label, type(exc).__name__, exc)
        with np.errstate(all="ignore"):
            params, cov = _firth(Xc, y)
        return params, cov, "firth"


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
    y = np.asarray(y, dtype=float)
    Xc = np.column_stack([np.ones(len(X)), X.to_numpy(dtype=float)])
    if len(np.unique(y)) < 2:
        raise ValueError(f"{label}: the outcome has a single class among the {len(y)} "
                         "patients fitted; a logistic model needs both classes")
    params, cov, method = fit_arrays(Xc, y, label)
    return {"terms": ["const", *X.columns], "params": params, "cov": cov, "method": method,
            "n": int(len(y)), "events": int(y.sum())}


def term_rows(fit: dict, variable_of: dict[str, str]) -> pd.DataFrame:
    """One row per term (not the intercept): coefficient, SE, odds ratio with its Wald 95%
    CI (the limit of a near-separated term may be inf) and Wald p."""
    params, se = fit["params"], np.sqrt(np.clip(np.diag(fit["cov"]), 0, None))
    with np.errstate(over="ignore"):
        odds, low, high = (np.exp(params), np.exp(params - Z95 * se),
                           np.exp(params + Z95 * se))
    rows = []
    for i, term in enumerate(fit["terms"]):
        if term == "const":
            continue
        z = params[i] / se[i] if se[i] > 0 else np.nan
        rows.append({"variable": variable_of[term], "term": term, "coef": params[i], "se": se[i],
                     "or": odds[i], "ci_low": low[i], "ci_high": high[i],
                     "p": 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan,
                     "method": fit["method"], "n": fit["n"], "events": fit["events"]})
    return pd.DataFrame(rows)


def wald_p(params: np.ndarray, cov: np.ndarray, idx: Sequence[int]) -> float:
    """Wald p-value of the coefficients ``idx`` (joint chi-square)."""
    idx = list(idx)
    if not idx:
        return np.nan
    b = params[idx]
    V = cov[np.ix_(idx, idx)]
    stat = float(b @ np.linalg.pinv(V) @ b)
    return float(chdtrc(len(idx), stat))  # chi-square survival function (scipy.stats.chi2.sf)


def variable_p(fit: dict, terms: list[str]) -> float:
    """Wald p-value of a variable (joint chi-square over its terms)."""
    return wald_p(fit["params"], fit["cov"],
                   [fit["terms"].index(t) for t in terms if t in fit["terms"]])
