"""Clinical predictors: univariable and multivariable logistic regression, three strategies.

Coding of the clinical variables (the config's ``clinical.variables``)
-------------------------------------------------------------------------
* ``continuous``: as is (odds ratio per unit, e.g. per year, per mm, per % Ki-67);
* ``binary``: 0/1 as is;
* ``ordinal``: chosen per variable by its ``coding`` (default ``linear``):

  - ``linear``: as a number (one odds ratio per step), e.g. ``grade`` (1-3) and
    ``aln_us_class`` (ALN ultrasound morphologic class 1-6): a linear trend on the logit;
  - ``categorical``: one dummy per level after the first of its ``levels`` (the first is
    the reference), term ``<name>[<level>]``: no trend assumed, one odds ratio per level;
  - ``{threshold: k}``: one 0/1 term ``<name>>=k`` (value >= k vs < k), e.g. ALN class
    5-6 (suspicious) vs 1-4 with ``{threshold: 5}``;
* ``categorical``: one-hot dummies, the FIRST level of the config's ``levels`` is the
  reference (e.g. ``subtype``: luminal_a).

Predictor strategies (config ``models.clinical_strategy``, :class:`ClinicalSettings`)
--------------------------------------------------------------------------------------
``p_value`` (the default, as the published studies did)
    1. univariable logistic regression of each variable (complete cases of that variable);
       a variable enters when its p-value < ``entry_p`` (Wald test; joint Wald chi-square
       over its terms for a variable with several terms);
    2. ONE multivariable logistic regression of all entered variables; the independent
       predictors are those with multivariable p < ``retention_p``.
    Nothing is forced in: when no variable enters (or none is retained) the strategy
    selects NO predictor, the table's ``note`` says "no predictor passed ..." and the
    clinical model is **intercept-only** (every patient gets the training prevalence:
    AUC 0.5), which the model card and the level's log say; the combined model is then
    the Rad-score alone.
``prespecified``
    Every declared variable, no selection: one multivariable logistic regression.
``penalized``
    One logistic regression of every declared variable with an L1 (``l1_ratio`` 1, the
    LASSO) or elastic-net penalty on the z-scored terms, its strength chosen by stratified
    ``cv_folds``-fold CV of the log-loss on the training rows
    (:class:`~sklearn.linear_model.LogisticRegressionCV`, saga); the predictors are the
    variables with a non-zero coefficient and the clinical model is that penalized fit
    (coefficients back on the variables' own scale, no Wald SE). The combined model is the
    unpenalized logistic regression of the Rad-score and those predictors.

Every strategy runs on numeric arrays (:class:`CodedData`, :func:`select_predictors`), so
the bootstrap of :mod:`alnburden.modeling.optimism` repeats the very same selection inside
each resample.

Warnings of the clinical table
------------------------------
* **EPV**, events per candidate parameter: ``min(events, non-events) / p`` with ``p`` the
  number of design terms of every declared variable (a categorical variable with 4 levels
  counts 3). Below 10 a warning is logged and the ``note`` column says so (Riley et al.,
  BMJ 2020;368:m441, for why 10 is a floor, not a target).
* **VIF** of each term among all candidate terms (complete cases): ``1 / (1 - R^2)`` of the
  term regressed on the others, i.e. the diagonal of the inverse correlation matrix; above 5
  a warning and a note.

Separation
----------
Logistic fits are Newton-Raphson with step halving (the same estimates as statsmodels'
``Logit``, tested). When maximum likelihood fails (perfect or quasi-complete separation,
non-convergence, a singular information matrix or a coefficient with |b| > 15), the model is
refitted by Firth's bias-reduced penalised likelihood (Firth 1993, Biometrika 80:27; Heinze
& Schemper 2002), which gives finite estimates; Wald SEs come from the penalised information
matrix. The table's ``method`` column says ``firth`` for such fits and a warning names the
variable(s).

Missing values
--------------
Univariable fits use the complete cases of each variable; multivariable fits the complete
cases of the entered variables. :class:`LogisticModel` (the persisted clinical and
combined models) fills a missing value at prediction time with the training median
(continuous, linear or threshold ordinal) or the training mode (binary, categorical,
categorical ordinal), fitted on train.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import chdtrc, expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from alnburden.formatting import fmt_ci, fmt_number, fmt_p

logger = logging.getLogger(__name__)

__all__ = ["STRATEGIES", "ClinicalSettings", "CodedData", "Selection", "coding_of",
           "variable_terms", "design_matrix", "fit_logit", "univariable_logistic",
           "multivariable_logistic", "select_predictors", "select_clinical_predictors",
           "clinical_table", "epv", "vif", "write_clinical_table", "LogisticModel"]

_Z = stats.norm.ppf(0.975)
_TYPES = ("continuous", "binary", "ordinal", "categorical")
#: The predictor strategies of ``models.clinical_strategy``.
STRATEGIES = ("p_value", "prespecified", "penalized")
_MAX_ABS_COEF = 15.0
EPV_MIN = 10.0
VIF_MAX = 5.0


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ClinicalSettings:
    """How the clinical predictors are chosen and estimated (config ``models``).

    Attributes
    ----------
    strategy
        ``p_value``, ``prespecified`` or ``penalized`` (``models.clinical_strategy``).
    entry_p, retention_p
        Univariable entry and multivariable retention p-values of ``p_value`` (0-1;
        ``models.clinical_entry_p``, ``models.clinical_retention_p``).
    l1_ratio
        Mix of the ``penalized`` strategy: 1 = L1 (LASSO), between 0 and 1 elastic net
        (``models.clinical_l1_ratio``).
    n_cs
        Penalty strengths tried by its CV (log-spaced, ``models.clinical_penalty_cs``).
    cv_folds
        Folds of its CV (``models.cv_folds``).
    random_state
        Seed of its CV folds and of saga (the config's ``seed``).
    """

    strategy: str
    entry_p: float
    retention_p: float
    l1_ratio: float
    n_cs: int
    cv_folds: int
    random_state: int

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"models.clinical_strategy is {self.strategy!r}; use one of "
                             f"{', '.join(STRATEGIES)}")

    @classmethod
    def from_config(cls, models: dict | None, seed: int | None = None) -> ClinicalSettings:
        """The settings of the config's ``models`` section over the schema's defaults."""
        from alnburden.schemas import config_default, with_defaults

        m = with_defaults("models", models)
        return cls(strategy=str(m["clinical_strategy"]), entry_p=float(m["clinical_entry_p"]),
                   retention_p=float(m["clinical_retention_p"]),
                   l1_ratio=float(m["clinical_l1_ratio"]), n_cs=int(m["clinical_penalty_cs"]),
                   cv_folds=int(m["cv_folds"]),
                   random_state=int(config_default("seed") if seed is None else seed))

    @property
    def penalty(self) -> dict | None:
        """The :class:`LogisticModel` ``penalty`` of the clinical model (None: unpenalized)."""
        if self.strategy != "penalized":
            return None
        return {"l1_ratio": self.l1_ratio, "n_cs": self.n_cs, "cv_folds": self.cv_folds,
                "random_state": self.random_state}

    def describe(self) -> str:
        """One sentence naming the strategy and its parameters."""
        if self.strategy == "p_value":
            return (f"univariable p < {self.entry_p:g} then multivariable p < "
                    f"{self.retention_p:g}")
        if self.strategy == "prespecified":
            return "every declared variable (prespecified, no selection)"
        kind = "L1 (LASSO)" if self.l1_ratio == 1 else f"elastic net (l1_ratio {self.l1_ratio:g})"
        return (f"{kind} penalized logistic regression, penalty chosen by {self.cv_folds}-fold "
                f"CV of the log-loss over {self.n_cs} strengths")


# --------------------------------------------------------------------------- coding


def _spec(variables: list[dict], name: str) -> dict:
    for v in variables:
        if v["name"] == name:
            return v
    raise ValueError(f"variable {name!r} is not declared in clinical.variables "
                     f"({[v['name'] for v in variables]}); add it to the config")


def _tick(v) -> str:
    """5 not 5.0, 2.5 as is."""
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


def coding_of(spec: dict) -> str | float:
    """The coding of a variable: ``"linear"``, ``"categorical"`` or a threshold (float).

    Only ordinal variables take a ``coding`` other than ``linear`` (the schema's default);
    the others have their type's coding (continuous and binary: the value; categorical:
    ``categorical``).

    Raises
    ------
    ValueError
        A ``coding`` on a non-ordinal variable, an unknown coding, a categorical coding
        without ``levels``, or a threshold that leaves one side of the declared levels empty.
    """
    name, typ, coding = spec["name"], spec.get("type"), spec.get("coding")
    if typ != "ordinal":
        if coding not in (None, "linear"):
            raise ValueError(f"variable {name!r} ({typ}) has coding {coding!r}, but only "
                             "ordinal variables take a coding; remove it or declare type: "
                             "ordinal")
        return "categorical" if typ == "categorical" else "linear"
    if coding is None or coding == "linear":
        return "linear"
    levels = spec.get("levels") or []
    if coding == "categorical":
        if len(levels) < 2:
            raise ValueError(f"ordinal variable {name!r} has coding: categorical but no "
                             "'levels' (>= 2, the first is the reference); add them")
        return "categorical"
    if isinstance(coding, Mapping) and set(coding) == {"threshold"}:
        k = float(coding["threshold"])
        if levels:
            num = [float(v) for v in levels]
            if not min(num) < k <= max(num):
                raise ValueError(f"ordinal variable {name!r}: threshold {coding['threshold']} "
                                 f"must lie above the lowest and at most the highest of its "
                                 f"levels {levels} (value >= threshold vs below)")
        return k
    raise ValueError(f"variable {name!r} has coding {coding!r}; use linear, categorical or "
                     "{threshold: k}")


def variable_terms(spec: dict) -> list[str]:
    """Design column names of one variable (``name``, ``name[level]`` or ``name>=k``)."""
    coding = coding_of(spec)
    if coding == "categorical":
        return [f"{spec['name']}[{lv}]" for lv in spec["levels"][1:]]
    if not isinstance(coding, str):
        return [f"{spec['name']}>={_tick(coding)}"]
    return [spec["name"]]


_terms = variable_terms


def _codes(df: pd.DataFrame, spec: dict) -> np.ndarray:
    """A variable's values as float codes: the number itself, or for a categorical variable
    the index of its level (NaN: missing)."""
    name, typ = spec["name"], spec.get("type")
    if name not in df.columns:
        raise ValueError(f"clinical variable {name!r} is not a column of the cohort "
                         f"(columns: {list(df.columns)[:12]}...)")
    if typ not in _TYPES:
        raise ValueError(f"variable {name!r} has type {typ!r}; use one of {_TYPES}")
    coding = coding_of(spec)
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
        index = {lv: float(i) for i, lv in enumerate(levels)}
        return np.array([np.nan if pd.isna(v) else index[v] for v in s], dtype=float)
    num = pd.to_numeric(x, errors="raise").astype(float).to_numpy()
    if coding == "categorical":
        levels = np.array([float(v) for v in spec["levels"]])
        ok = np.isnan(num) | np.isin(num, levels)
        if not ok.all():
            raise ValueError(f"variable {name!r} has value(s) "
                             f"{sorted(set(num[~ok].tolist()))[:10]} outside its levels "
                             f"{spec['levels']} (coding: categorical); fix the data or add "
                             "the level to the config")
    return num


def _encode(spec: dict, codes: np.ndarray) -> np.ndarray:
    """Design columns (n, n_terms) of a variable from its codes; NaN rows stay NaN."""
    coding = coding_of(spec)
    miss = np.isnan(codes)
    if coding == "categorical":
        if spec.get("type") == "categorical":
            values = np.arange(1, len(spec["levels"]), dtype=float)
        else:
            values = np.array([float(v) for v in spec["levels"][1:]])
        out = (codes[:, None] == values[None, :]).astype(float)
    elif isinstance(coding, str):
        out = codes[:, None].copy()
    else:
        out = (codes >= coding).astype(float)[:, None]
    out[miss] = np.nan
    return out


def _fill_code(spec: dict, codes: np.ndarray) -> float:
    """Training fill value of a variable: median (continuous, linear/threshold ordinal) or
    mode (binary, categorical, categorical ordinal; the smallest code on ties)."""
    c = codes[~np.isnan(codes)]
    if c.size == 0:
        return np.nan
    if spec.get("type") in ("continuous", "ordinal") and coding_of(spec) != "categorical":
        return float(np.median(c))
    values, counts = np.unique(c, return_counts=True)
    return float(values[np.argmax(counts)])


def design_matrix(df: pd.DataFrame, specs: list[dict]) -> pd.DataFrame:
    """Numeric design matrix (no intercept) of the variables ``specs`` from ``df``.

    Rows keep ``df``'s index; a missing value gives NaN in every column of its variable.

    Raises
    ------
    ValueError
        A column is absent, a type or coding is unknown, or a categorical value is not in
        the declared ``levels``.
    """
    cols = {}
    for spec in specs:
        block = _encode(spec, _codes(df, spec))
        for j, term in enumerate(variable_terms(spec)):
            cols[term] = block[:, j]
    return pd.DataFrame(cols, index=df.index)


@dataclass
class CodedData:
    """Candidate variables of some patients as numbers: what every strategy works on.

    Attributes
    ----------
    specs
        The variables (config specs), in order.
    codes
        ``(n, n_variables)`` float codes (:func:`design_matrix` coding before encoding).
    design
        ``(n, n_terms)`` encoded design (NaN where the variable is missing).
    terms
        Names of the design columns.
    blocks
        Variable name -> indices of its design columns.
    """

    specs: list[dict]
    codes: np.ndarray
    design: np.ndarray
    terms: list[str]
    blocks: dict[str, np.ndarray]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, specs: Sequence[dict]) -> CodedData:
        specs = list(specs)
        codes = (np.column_stack([_codes(df, s) for s in specs]) if specs
                 else np.empty((len(df), 0)))
        parts, terms, blocks, j = [], [], {}, 0
        for i, s in enumerate(specs):
            block = _encode(s, codes[:, i])
            parts.append(block)
            terms += variable_terms(s)
            blocks[s["name"]] = np.arange(j, j + block.shape[1])
            j += block.shape[1]
        design = np.column_stack(parts) if parts else np.empty((len(df), 0))
        return cls(specs, codes, design, terms, blocks)

    def take(self, idx: np.ndarray) -> CodedData:
        """The rows ``idx`` (e.g. a bootstrap resample, repeats allowed)."""
        return CodedData(self.specs, self.codes[idx], self.design[idx], self.terms, self.blocks)

    def __len__(self) -> int:
        return self.codes.shape[0]

    @property
    def names(self) -> list[str]:
        return [s["name"] for s in self.specs]

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """Design column indices of the variables ``names``, in that order."""
        return (np.concatenate([self.blocks[n] for n in names]) if names
                else np.array([], dtype=int))

    def filled_design(self, fill: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
        """Design of ``names`` with each missing value replaced by the code ``fill[name]``."""
        out = []
        for n in names:
            i = self.names.index(n)
            c = self.codes[:, i]
            if np.isnan(c).any():
                c = np.where(np.isnan(c), fill[n], c)
                out.append(_encode(self.specs[i], c))
            else:
                out.append(self.design[:, self.blocks[n]])
        return np.column_stack(out) if out else np.empty((len(self), 0))


# --------------------------------------------------------------------------- fitting


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


def _fit_arrays(Xc: np.ndarray, y: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``params, cov, method`` of an intercept-first design: ML, or Firth on separation."""
    try:
        with np.errstate(all="ignore"):
            params, cov, converged = _newton(Xc, y)
        if not converged:
            raise FloatingPointError("Newton-Raphson did not converge")
        if np.any(np.abs(params) > _MAX_ABS_COEF) or not np.all(np.isfinite(cov)):
            raise FloatingPointError(f"a coefficient beyond +-{_MAX_ABS_COEF:g}")
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
    params, cov, method = _fit_arrays(Xc, y, label)
    return {"terms": ["const", *X.columns], "params": params, "cov": cov, "method": method,
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


def _wald_p(params: np.ndarray, cov: np.ndarray, idx: Sequence[int]) -> float:
    """Wald p-value of the coefficients ``idx`` (joint chi-square)."""
    idx = list(idx)
    if not idx:
        return np.nan
    b = params[idx]
    V = cov[np.ix_(idx, idx)]
    stat = float(b @ np.linalg.pinv(V) @ b)
    return float(chdtrc(len(idx), stat))  # chi-square survival function (scipy.stats.chi2.sf)


def _variable_p(fit: dict, terms: list[str]) -> float:
    """Wald p-value of a variable (joint chi-square over its terms)."""
    return _wald_p(fit["params"], fit["cov"],
                   [fit["terms"].index(t) for t in terms if t in fit["terms"]])


# --------------------------------------------------------------------------- array core


def _varies(col: np.ndarray) -> bool:
    c = col[~np.isnan(col)]
    return c.size > 0 and float(c.max() - c.min()) > 0


def _complete_fit(data: CodedData, y: np.ndarray, names: Sequence[str], label: str):
    """Fit the variables ``names`` on their complete cases; constant columns dropped.

    Returns ``(params, cov, method, cols, n, events)`` with ``cols`` the design columns kept
    (intercept first in ``params``), or None when no column varies or one class is left.
    """
    cols = data.columns(names)
    D = data.design[:, cols]
    ok = ~np.isnan(D).any(axis=1) & ~np.isnan(y)
    D, yy = D[ok], y[ok]
    keep = np.array([np.ptp(D[:, j]) > 0 for j in range(D.shape[1])], dtype=bool)
    if keep.size == 0 or not keep.any() or len(np.unique(yy)) < 2:
        return None
    Xc = np.column_stack([np.ones(len(yy)), D[:, keep]])
    params, cov, method = _fit_arrays(Xc, yy, label)
    return params, cov, method, cols[keep], int(len(yy)), int(yy.sum())


@dataclass
class Selection:
    """What a strategy chose on some patients.

    Attributes
    ----------
    strategy
        The strategy.
    entered
        Variables that entered the multivariable model (``p_value``), or every variable
        examined (``prespecified``, ``penalized``).
    predictors
        The chosen predictors, in config order; may be empty (then the model is
        intercept-only).
    univariable_p
        Variable -> univariable Wald p (``p_value`` only).
    multivariable_p
        Variable -> multivariable Wald p of the entered variables (``p_value`` only).
    note
        Why no predictor was chosen ("" when some were).
    penalized
        The fitted penalized model (``penalized`` only).
    """

    strategy: str
    entered: list[str]
    predictors: list[str]
    univariable_p: dict[str, float] = field(default_factory=dict)
    multivariable_p: dict[str, float] = field(default_factory=dict)
    note: str = ""
    penalized: LogisticModel | None = None


def select_predictors(data: CodedData, y, settings: ClinicalSettings) -> Selection:
    """The strategy of ``settings`` on numeric data: which variables are predictors.

    The single implementation every caller uses: :func:`select_clinical_predictors` (the
    level fit) and the bootstrap resamples of :mod:`alnburden.modeling.optimism`.

    Parameters
    ----------
    data
        Candidate variables of the patients fitted.
    y
        Their 0/1 labels.
    settings
        The strategy and its parameters.

    Returns
    -------
    Selection
    """
    y = np.asarray(y, dtype=float)
    names = data.names
    if settings.strategy == "prespecified":
        varying = [n for n in names
                   if any(_varies(col) for col in data.design[:, data.blocks[n]].T)]
        return Selection("prespecified", names, varying,
                         note="" if varying else "no declared variable varies")
    if settings.strategy == "penalized":
        model = LogisticModel(data.specs, penalty=settings.penalty)._fit_coded(data, y)
        chosen = [n for n in names if model.variable_selected(n)]
        note = "" if chosen else "the penalty set every coefficient to 0"
        return Selection("penalized", names, chosen, note=note, penalized=model)
    uni = {}
    for n in names:
        res = _complete_fit(data, y, [n], f"univariable {n}")
        if res is not None:
            uni[n] = _wald_p(res[0], res[1], range(1, len(res[0])))
    entered = [n for n in names if uni.get(n, np.nan) < settings.entry_p]
    if not entered:
        return Selection("p_value", [], [], uni,
                         note=f"no predictor passed univariable p < {settings.entry_p:g}")
    res = _complete_fit(data, y, entered, "multivariable " + "+".join(entered))
    multi = {}
    if res is not None:
        params, cov, _, cols, _, _ = res
        for n in entered:
            idx = [1 + int(np.flatnonzero(cols == c)[0]) for c in data.blocks[n] if c in cols]
            multi[n] = _wald_p(params, cov, idx)
    predictors = [n for n in entered if multi.get(n, np.nan) < settings.retention_p]
    note = "" if predictors else (f"no predictor passed multivariable p < "
                                  f"{settings.retention_p:g}")
    return Selection("p_value", entered, predictors, uni, multi, note)


# --------------------------------------------------------------------------- tables


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
    variable_of = {t: s["name"] for s in specs for t in variable_terms(s)}
    return X, yy, variable_of


_COLUMNS = ["variable", "term", "or", "ci_low", "ci_high", "p", "coef", "se", "variable_p",
            "method", "n", "events"]


def univariable_logistic(df: pd.DataFrame, y, variables: list[dict]) -> pd.DataFrame:
    """One logistic regression per variable.

    Parameters
    ----------
    df
        Rows to fit (training patients), with one column per variable.
    y
        0/1 outcome aligned with ``df``'s rows.
    variables
        Specs from the config's ``clinical.variables`` (name, type, levels, coding).

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
    return pd.concat(out, ignore_index=True)[_COLUMNS] if out else pd.DataFrame(columns=_COLUMNS)


def multivariable_logistic(df: pd.DataFrame, y, variables: list[dict]) -> pd.DataFrame:
    """One logistic regression of all ``variables`` together (same columns as
    :func:`univariable_logistic`; ``variable_p`` is the joint Wald p of each variable)."""
    X, yy, variable_of = _prepare(df, y, variables)
    fit = fit_logit(X, yy, label="multivariable " + "+".join(v["name"] for v in variables))
    rows = _term_rows(fit, variable_of)
    rows["variable_p"] = rows["variable"].map(
        {v["name"]: _variable_p(fit, variable_terms(v)) for v in variables})
    return rows[_COLUMNS]


def _penalized_rows(model: LogisticModel, variables: list[dict]) -> pd.DataFrame:
    """Multivariable columns of a penalized model: OR = exp(coef); no SE, CI or p."""
    variable_of = {t: s["name"] for s in variables for t in variable_terms(s)}
    rows = [{"variable": variable_of[t], "term": t, "or": np.exp(b), "ci_low": np.nan,
             "ci_high": np.nan, "p": np.nan, "coef": b, "se": np.nan, "variable_p": np.nan,
             "method": "penalized", "n": model.n_, "events": model.events_}
            for t, b in zip(model.terms_[1:], model.coef_[1:])]
    return pd.DataFrame(rows, columns=_COLUMNS)


def epv(y, variables: Sequence[dict]) -> tuple[float, int]:
    """Events per candidate parameter: ``min(events, non-events) / parameters``.

    ``parameters`` counts the design terms of every candidate variable (a categorical
    variable with L levels counts L - 1). Returns ``(epv, parameters)``; ``inf`` with no
    parameter.
    """
    y = np.asarray(y, dtype=float)
    y = y[~np.isnan(y)]
    k = sum(len(variable_terms(v)) for v in variables)
    limiting = min(int(y.sum()), int(len(y) - y.sum()))
    return (limiting / k if k else float("inf")), k


def vif(design: pd.DataFrame) -> pd.Series:
    """Variance inflation factor of each column among all columns (complete cases).

    ``VIF_j = 1 / (1 - R_j^2)``, ``R_j^2`` from regressing column ``j`` on the others with
    an intercept; computed as the diagonal of the inverse correlation matrix. A constant
    column gets NaN, a column that the others determine exactly ``inf``.
    """
    D = design.dropna()
    out = pd.Series(np.nan, index=design.columns, dtype=float)
    varying = [c for c in D.columns if D[c].nunique() > 1]
    A = D[varying].to_numpy(dtype=float)
    for j, name in enumerate(varying):
        t = A[:, j]
        X = np.column_stack([np.ones(len(A)), np.delete(A, j, axis=1)])
        coef, *_ = np.linalg.lstsq(X, t, rcond=None)
        ss, tot = float(np.sum((t - X @ coef) ** 2)), float(np.sum((t - t.mean()) ** 2))
        out[name] = tot / ss if ss > 1e-10 * tot else np.inf
    return out


def clinical_table(uni: pd.DataFrame, multi: pd.DataFrame, entered: list[str],
                   predictors: list[str]) -> pd.DataFrame:
    """Merge univariable and multivariable results into the publication table.

    Columns: ``variable, term, univariable (formatted 'OR (95% CI)'), univariable_p_fmt,
    multivariable, multivariable_p_fmt, entered, independent, univariable_or, ...,
    multivariable_method, n, events``.
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
    multi_fmt = []
    for o, lo, hi in t[["multivariable_or", "multivariable_ci_low",
                        "multivariable_ci_high"]].to_numpy(float):
        multi_fmt.append(fmt_ci(o, lo, hi, missing="") if np.isfinite(lo)
                         else fmt_number(o, missing=""))
    t["multivariable"] = multi_fmt
    t["multivariable_p_fmt"] = [fmt_p(p, missing="") for p in t["multivariable_p"].to_numpy(float)]
    t["entered"] = t["variable"].isin(entered)
    t["independent"] = t["variable"].isin(predictors)
    return t[["variable", "term", "univariable", "univariable_p_fmt", "multivariable",
              "multivariable_p_fmt", "entered", "independent", "univariable_or",
              "univariable_ci_low", "univariable_ci_high", "univariable_p",
              "univariable_variable_p", "multivariable_or", "multivariable_ci_low",
              "multivariable_ci_high", "multivariable_p", "multivariable_variable_p", "method",
              "multivariable_method", "n", "events"]]


def _diagnostics(table: pd.DataFrame, df: pd.DataFrame, y, variables: list[dict],
                 settings: ClinicalSettings, selection: Selection) -> pd.DataFrame:
    """Add ``strategy, epv, candidate_parameters, vif, note``; log the warnings."""
    value, k = epv(y, variables)
    v = vif(design_matrix(df, variables))
    table = table.assign(strategy=settings.strategy, epv=value, candidate_parameters=k,
                         vif=table["term"].map(v).to_numpy(dtype=float))
    notes = []
    for row in table.itertuples():
        n = []
        if selection.note:
            n.append(selection.note)
        if value < EPV_MIN:
            n.append(f"EPV {value:.1f} < {EPV_MIN:g}")
        if np.isfinite(row.vif) and row.vif > VIF_MAX or np.isinf(row.vif):
            n.append(f"VIF {fmt_number(row.vif, 1)} > {VIF_MAX:g}")
        notes.append("; ".join(n))
    table["note"] = notes
    if value < EPV_MIN:
        logger.warning("clinical: %.1f events per candidate parameter (%d parameters, %d "
                       "events, %d non-events) is below %g: the clinical model may overfit",
                       value, k, int(np.nansum(y)), int(len(y) - np.nansum(y)), EPV_MIN)
    high = [f"{t} ({fmt_number(x, 1)})" for t, x in v.items() if np.isinf(x) or x > VIF_MAX]
    if high:
        logger.warning("clinical: variance inflation factor above %g for %s (collinear "
                       "candidate terms)", VIF_MAX, ", ".join(high))
    return table


@dataclass
class ClinicalFit:
    """The clinical arm of one level: its table, predictors, model and notes."""

    table: pd.DataFrame
    predictors: list[str]
    model: LogisticModel
    selection: Selection
    notes: list[str]


def select_clinical_predictors(df: pd.DataFrame, y, variables: list[dict],
                               settings: ClinicalSettings) -> ClinicalFit:
    """The clinical predictors of the training patients, their table and the fitted model.

    Parameters
    ----------
    df, y
        Training patients and their 0/1 labels.
    variables
        The config's ``clinical.variables``.
    settings
        The strategy (:class:`ClinicalSettings`, config ``models``).

    Returns
    -------
    ClinicalFit
        ``table`` (:func:`clinical_table` + ``strategy, epv, candidate_parameters, vif,
        note``), ``predictors`` (variable names, config order; empty when none was
        chosen), ``model`` (the fitted clinical :class:`LogisticModel`: unpenalized on the
        predictors, intercept-only when there are none, the penalized fit for
        ``penalized``), ``selection`` and ``notes`` (sentences for the table's footnote).
    """
    if not variables:
        raise ValueError("clinical.variables is empty; declare at least one clinical variable "
                         "to fit the clinical and combined models")
    y = np.asarray(y, dtype=float)
    data = CodedData.from_frame(df, variables)
    sel = select_predictors(data, y, settings)
    uni = univariable_logistic(df, y, variables)
    if uni.empty:
        raise ValueError("no clinical variable varies among the training patients")
    if settings.strategy == "penalized":
        model = sel.penalized
        multi = _penalized_rows(model, variables)
    else:
        specs = [_spec(variables, n) for n in sel.entered]
        multi = (multivariable_logistic(df, y, specs) if specs
                 else pd.DataFrame(columns=_COLUMNS))
        model = LogisticModel([_spec(variables, n) for n in sel.predictors]).fit(df, y)
    table = clinical_table(uni, multi, sel.entered, sel.predictors)
    table = _diagnostics(table, df, y, variables, settings, sel)
    notes = [f"Strategy: {settings.describe()}."]
    if sel.note:
        logger.warning("clinical: %s; the clinical model is intercept-only (every patient "
                       "gets the training prevalence %.3f, AUC 0.5) and the combined model "
                       "is the Rad-score alone", sel.note, float(np.mean(y)))
        notes.append(f"**{sel.note[0].upper() + sel.note[1:]}**: the clinical model is "
                     f"intercept-only (predicted probability = training prevalence "
                     f"{np.mean(y):.3f} for every patient, AUC 0.5) and the combined model is "
                     "the Rad-score alone.")
    value, k = table["epv"].iloc[0], int(table["candidate_parameters"].iloc[0])
    notes.append(f"Events per candidate parameter (EPV): {fmt_number(value, 1)} "
                 f"({k} candidate parameters){' - below 10' if value < EPV_MIN else ''}; "
                 f"VIF of each term among all candidate terms (warning above {VIF_MAX:g}).")
    logger.info("clinical (%s): entered %s; predictors %s", settings.strategy, sel.entered,
                sel.predictors)
    return ClinicalFit(table, list(sel.predictors), model, sel, notes)


def write_clinical_table(table: pd.DataFrame, csv_path: str | Path, title: str,
                         notes: Sequence[str] = ()) -> None:
    """Full numeric table as CSV; a compact Markdown copy (OR (95% CI), p, VIF, note) with
    the strategy, EPV and the "no predictor" sentence below it."""
    from alnburden.io import write_table

    csv_path = Path(csv_path)
    write_table(table, csv_path, title=title)
    md = table.assign(vif_fmt=[fmt_number(v, 1, missing="") for v in table["vif"]])[
        ["variable", "term", "univariable", "univariable_p_fmt", "multivariable",
         "multivariable_p_fmt", "independent", "vif_fmt", "note"]].rename(columns={
            "univariable": "Univariable OR (95% CI)", "univariable_p_fmt": "p (univariable)",
            "multivariable": "Multivariable OR (95% CI)",
            "multivariable_p_fmt": "p (multivariable)",
            "independent": "independent predictor", "vif_fmt": "VIF"})
    coding = ("Odds ratios per unit (continuous), per step (linear ordinal), vs the first "
              "level (categorical, categorical ordinal) or vs below the threshold "
              "(`name>=k`); Wald 95% CI and p.")
    text = "\n\n".join([f"# {title}", md.to_markdown(index=False), coding, *notes])
    csv_path.with_suffix(".md").write_text(text + "\n")


# --------------------------------------------------------------------------- model


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
            self.fill_codes_[spec["name"]] = _fill_code(spec, c)
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
            self.coef_, self.cov_, self.method_ = _fit_arrays(
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
                             "or": np.exp(self.coef_), "ci_low": np.exp(self.coef_ - _Z * se),
                             "ci_high": np.exp(self.coef_ + _Z * se),
                             "p": 2 * stats.norm.sf(np.abs(z))})
