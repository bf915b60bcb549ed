"""Train-only radiomic feature selection, as scikit-learn transformers in one Pipeline.

The selection of one level is a single :class:`~sklearn.pipeline.Pipeline` (built by
:func:`build_selection`) so that every step that learns from data is refitted inside every
cross-validation fold and never sees a test row:

1. :class:`IccFilter` keeps the features robust to segmentation (ICC >= threshold; the list
   comes from ``results/features/icc.csv``, column ``kept``);
1b. :class:`~sklearn.impute.SimpleImputer` (training medians; a no-op on complete features);
2. :class:`~sklearn.preprocessing.StandardScaler` (z-scores with training mean and SD);
3. :class:`~sklearn.feature_selection.VarianceThreshold` drops the features that were
   (near-)constant on the training rows (variance <= ``variance_threshold``);
4. :class:`SpearmanRedundancyFilter` drops, of every pair with Spearman ``|r|`` above the
   threshold, the feature less associated with the label (skipped with
   ``redundancy: none``);
5. :class:`MRMRSelector` keeps the ``k`` minimum-redundancy maximum-relevance features
   (``mrmr-selection`` package; skipped with ``mrmr_k: 0``);
6. :class:`LassoSelector` keeps the features with a non-zero coefficient in an L1-penalised
   logistic regression whose penalty is chosen by stratified cross-validation.

Every selector is a :class:`~sklearn.feature_selection.SelectorMixin`, so
``get_feature_names_out`` and ``set_output(transform="pandas")`` work through the Pipeline.
The config's ``selection`` section is read over the schema's defaults
(:func:`alnburden.schemas.with_defaults`). The LASSO figures are drawn from a saved model by
:mod:`alnburden.figures.selection`; this module computes only.
"""

from __future__ import annotations

import logging
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin, VarianceThreshold, mutual_info_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from alnburden.modeling.harmonization import ComBatHarmonizer
from alnburden.schemas import with_defaults

logger = logging.getLogger(__name__)

__all__ = ["IccFilter", "SpearmanRedundancyFilter", "MRMRSelector", "LassoSelector",
           "build_selection", "lasso_step", "icc_keep_list"]


def icc_keep_list(icc: pd.DataFrame | None) -> list[str] | None:
    """Features kept by the robustness analysis, from the ``icc.csv`` table.

    Parameters
    ----------
    icc
        Table with columns ``feature`` and ``kept`` (bool, or the strings
        ``True``/``False``/``1``/``0`` of a CSV). ``None`` means "no ICC analysis".

    Returns
    -------
    list of str or None
        Names of the kept features, or ``None`` (keep everything) when ``icc`` is None.
    """
    if icc is None:
        return None
    missing = {"feature", "kept"} - set(icc.columns)
    if missing:
        raise ValueError(f"icc table lacks column(s) {sorted(missing)}; expected the icc.csv "
                         "contract: feature, icc, ci_low, ci_high, kept")
    kept = icc["kept"]
    if kept.dtype != bool:
        kept = kept.astype(str).str.strip().str.lower().map(
            {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False})
        if kept.isna().any():
            bad = icc.loc[kept.isna(), "kept"].unique()[:5].tolist()
            raise ValueError(f"icc.csv column 'kept' holds {bad}; write True/False")
    return icc.loc[kept.astype(bool), "feature"].astype(str).tolist()


# --------------------------------------------------------------------------- filters


class _SupportSelector(SelectorMixin, BaseEstimator):
    """A selector whose fit stores the boolean mask of kept features in ``support_``."""

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_


class IccFilter(_SupportSelector):
    """Keep the features whose segmentation-robustness ICC passed the threshold.

    Parameters
    ----------
    keep : list of str or None, default=None
        Names of the robust features (``kept`` rows of ``icc.csv``). ``None`` keeps every
        feature (no robustness analysis). Names absent from ``X`` are ignored (logged).

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features_in_,)
        Kept columns.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (required when ``keep`` is given).
    """

    def __init__(self, keep: list[str] | None = None) -> None:
        self.keep = keep

    def fit(self, X, y=None):
        """Record which columns of ``X`` are in ``keep``; ``y`` is ignored."""
        X = validate_data(self, X, ensure_all_finite=False, dtype="numeric")
        if self.keep is None:
            self.support_ = np.ones(self.n_features_in_, dtype=bool)
            return self
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            raise ValueError("IccFilter(keep=[...]) needs a DataFrame with feature names; "
                             "pass the radiomics table as a pandas DataFrame")
        keep = set(map(str, self.keep))
        self.support_ = np.isin(names.astype(str), list(keep))
        n_absent = len(keep - set(names.astype(str)))
        if n_absent:
            logger.info("IccFilter: %d kept feature name(s) are not columns of X (ignored)",
                        n_absent)
        if not self.support_.any():
            raise ValueError(
                f"IccFilter: none of the {len(keep)} robust features is a column of X "
                f"(first columns: {list(names[:3])}); check that icc.csv and "
                "radiomics.parquet come from the same extraction")
        logger.info("IccFilter: %d of %d features robust", self.support_.sum(), len(names))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of a binary 0/1 ``y`` (Mann-Whitney, ties count 1/2)."""
    r = stats.rankdata(score)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _auc_relevance(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|AUC - 0.5| of every column for a binary ``y`` (mean over one-vs-rest otherwise)."""
    ranks = stats.rankdata(X, axis=0)
    out = np.zeros(X.shape[1])
    classes = np.unique(y)
    pos_sets = classes[1:] if len(classes) == 2 else classes
    for c in pos_sets:
        pos = y == c
        n1, n0 = pos.sum(), (~pos).sum()
        auc = (ranks[pos].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)
        out += np.abs(auc - 0.5)
    return out / len(pos_sets)


class SpearmanRedundancyFilter(_SupportSelector):
    """Of every pair of features with Spearman ``|r| > threshold``, drop the less relevant.

    Features are visited from the most to the least relevant to the label; a feature is
    kept when its ``|r|`` with every feature already kept is <= ``threshold`` (the greedy
    form of "drop the less relevant member of each redundant pair"). Fitted on training
    rows only.

    Parameters
    ----------
    threshold : float, default=0.9
        Spearman ``|r|`` above which two features are redundant (0-1).
    relevance : {"auc", "mutual_info"}, default="auc"
        Association with the label: univariable ROC AUC distance from 0.5 (rank based,
        deterministic) or :func:`sklearn.feature_selection.mutual_info_classif`.
    random_state : int or None, default=None
        Seed of the mutual-information estimator (unused with ``"auc"``).

    Attributes
    ----------
    relevance_ : ndarray of shape (n_features_in_,)
        Relevance of each feature.
    support_ : ndarray of bool
        Kept features.
    """

    def __init__(self, threshold: float = 0.9, relevance: str = "auc",
                 random_state: int | None = None) -> None:
        self.threshold = threshold
        self.relevance = relevance
        self.random_state = random_state

    def fit(self, X, y):
        """Rank features by relevance to ``y`` and drop the redundant ones."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"SpearmanRedundancyFilter threshold={self.threshold} must be "
                             "in [0, 1]")
        if self.relevance == "auc":
            self.relevance_ = _auc_relevance(X, y)
        elif self.relevance == "mutual_info":
            self.relevance_ = mutual_info_classif(X, y, random_state=self.random_state)
        else:
            raise ValueError(f"relevance={self.relevance!r} is not one of 'auc', 'mutual_info'")
        n = X.shape[1]
        if n == 1:
            self.support_ = np.ones(1, dtype=bool)
            return self
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(stats.rankdata(X, axis=0), rowvar=False)
        r = np.nan_to_num(np.abs(np.atleast_2d(r)), nan=0.0)
        order = np.argsort(-self.relevance_, kind="stable")
        support = np.zeros(n, dtype=bool)
        for j in order:
            if not (r[j, support] > self.threshold).any():
                support[j] = True
        self.support_ = support
        logger.info("SpearmanRedundancyFilter: %d of %d features kept (|r| <= %g)",
                    support.sum(), n, self.threshold)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class MRMRSelector(_SupportSelector):
    """Minimum-redundancy maximum-relevance selection (``mrmr.mrmr_classif``).

    Relevance is the ANOVA F statistic, redundancy the mean absolute Pearson correlation
    with the features already selected (the package defaults "f" and "c").

    Parameters
    ----------
    k : int, default=10
        Number of features to keep (>= 1); all are kept when X has <= k columns.

    Attributes
    ----------
    selected_ : list of int
        Column indices in mRMR order.
    support_ : ndarray of bool
    """

    def __init__(self, k: int = 10) -> None:
        self.k = k

    def fit(self, X, y):
        """Run mRMR on the training rows."""
        import mrmr

        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if not isinstance(self.k, Integral) or self.k < 1:
            raise ValueError(f"MRMRSelector k={self.k!r} must be an integer >= 1 "
                             "(use mrmr_k: 0 in the config to skip mRMR)")
        n = X.shape[1]
        if self.k >= n:
            self.selected_ = list(range(n))
        else:
            cols = [f"f{j}" for j in range(n)]
            sel = mrmr.mrmr_classif(X=pd.DataFrame(X, columns=cols), y=pd.Series(y), K=int(self.k),
                                    n_jobs=1, show_progress=False)
            self.selected_ = [int(c[1:]) for c in sel]
            if not self.selected_:  # every feature irrelevant (F = 0): keep the first k
                self.selected_ = list(range(int(self.k)))
        self.support_ = np.zeros(n, dtype=bool)
        self.support_[self.selected_] = True
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class LassoSelector(_SupportSelector):
    """Keep the features with a non-zero coefficient in a cross-validated L1 logistic model.

    The penalty is chosen as in ``LogisticRegressionCV(l1_ratios=(1,), solver="liblinear",
    scoring="neg_log_loss")``, written as an explicit loop so that the same fits give, per
    fold and per C, the binomial deviance and the AUC, and the coefficient path on all
    training rows (for the figures). C is the inverse penalty (lambda = 1 / C).

    Parameters
    ----------
    cv : int, default=5
        Stratified folds of the penalty choice (shuffled with ``random_state``).
    one_se : bool, default=False
        Choose the strongest penalty (smallest C) whose mean CV deviance is within one
        standard error of the minimum, instead of the minimum.
    Cs : int or array-like, default=15
        Grid of C. An int n gives n log-spaced values from ``C_min``, the C at which the
        first feature enters the model (``1 / max_j |x_j' (y - mean(y))|``, computed on the
        training rows as glmnet's lambda_max), to ``100 * C_min`` (glmnet's
        lambda.min.ratio = 0.01); or explicit values.
    max_iter : int, default=1000
        Iterations of liblinear.
    random_state : int or None, default=None
        Seed of the folds and of liblinear.

    Attributes
    ----------
    Cs_ : ndarray of shape (n_Cs,)
        The C grid (increasing).
    cv_scores_ : dict of str -> ndarray of shape (n_folds, n_Cs)
        ``"deviance"`` (mean binomial deviance per patient, -2 log-likelihood / n) and
        ``"auc"`` of each validation fold.
    cv_mean_, cv_se_ : dict of str -> ndarray of shape (n_Cs,)
        Fold mean and standard error (SD / sqrt(n_folds)) of each score.
    C_best_, C_1se_, C_ : float
        C at the minimum mean deviance, by the 1-SE rule, and the one used.
    coef_path_ : ndarray of shape (n_Cs, n_features_in_)
        Coefficients (per SD of each input feature) fitted on all training rows at each C.
    intercept_path_ : ndarray of shape (n_Cs,)
    n_iter_ : int
        Largest number of liblinear iterations over the path fits.
    coef_ : ndarray of shape (n_features_in_,)
        Coefficients at ``C_``.
    fallback_ : bool
        True when no coefficient was non-zero at ``C_`` and the single best feature was kept
        instead: the first feature to enter the path (its ``coef_`` is its coefficient at
        the C where it enters), or, if none ever enters, the feature with the largest
        univariable ``|AUC - 0.5|`` (``coef_`` 0).
    support_ : ndarray of bool
    """

    def __init__(self, cv: int = 5, one_se: bool = False, Cs=15, max_iter: int = 1000,
                 random_state: int | None = None) -> None:
        self.cv = cv
        self.one_se = one_se
        self.Cs = Cs
        self.max_iter = max_iter
        self.random_state = random_state

    def _model(self, C: float) -> LogisticRegression:
        return LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=100.0,
                                  max_iter=self.max_iter, random_state=self.random_state)

    def fit(self, X, y):
        """Choose C by stratified CV, fit the path on all rows, keep the non-zero features."""
        X, y = self._check_binary(X, y)
        self.Cs_ = self._grid(X, y)
        self._cross_validate(X, y)
        i = self._choose_C()
        self._fit_path(X, y)
        self.coef_ = self.coef_path_[i].copy()
        self.fallback_ = not np.any(self.coef_ != 0)
        self.support_ = self._single_best(X, y) if self.fallback_ else self.coef_ != 0
        logger.info("LassoSelector: C=%.4g (best %.4g, 1-SE %.4g), %d feature(s) kept",
                    self.C_, self.C_best_, self.C_1se_, self.support_.sum())
        return self

    def _check_binary(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Validated ``X`` and ``y`` recoded to 0/1 (the larger class label is 1)."""
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        if type_of_target(y) != "binary":
            raise ValueError(f"LassoSelector needs a binary label; got {type_of_target(y)} "
                             f"with classes {np.unique(y).tolist()}")
        return X, (y == np.unique(y)[1]).astype(int)

    def _grid(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The C grid: ``Cs`` log-spaced from glmnet's lambda_max, or the given values."""
        if isinstance(self.Cs, Integral):
            grad = np.abs(X.T @ (y - y.mean())).max()
            c_min = 1.0 / grad if grad > 0 else 1.0
            return c_min * np.logspace(0, 2, int(self.Cs))
        return np.sort(np.asarray(self.Cs, dtype=float))

    def _cross_validate(self, X: np.ndarray, y: np.ndarray) -> None:
        """Deviance and AUC of every validation fold at every C (``cv_scores_``, mean, SE)."""
        n_min = int(np.bincount(y).min())
        n_folds = min(int(self.cv), n_min)
        if n_folds < 2:
            raise ValueError(f"LassoSelector: the rarer class has {n_min} patient(s); at "
                             "least 2 are needed for the penalty's cross-validation")
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state)
        dev = np.empty((n_folds, len(self.Cs_)))
        auc = np.empty_like(dev)
        for f, (tr, va) in enumerate(folds.split(X, y)):
            for c, C in enumerate(self.Cs_):
                p = self._model(C).fit(X[tr], y[tr]).predict_proba(X[va])[:, 1]
                p = np.clip(p, 1e-15, 1 - 1e-15)
                dev[f, c] = -2 * np.mean(y[va] * np.log(p) + (1 - y[va]) * np.log1p(-p))
                auc[f, c] = _auc(y[va], p)
        self.cv_scores_ = {"deviance": dev, "auc": auc}
        self.cv_mean_ = {k: v.mean(axis=0) for k, v in self.cv_scores_.items()}
        self.cv_se_ = {k: v.std(axis=0, ddof=1) / np.sqrt(n_folds)
                       for k, v in self.cv_scores_.items()}

    def _choose_C(self) -> int:
        """Set ``C_best_``, ``C_1se_`` and ``C_`` from the CV deviance; index of ``C_``."""
        mean, se = self.cv_mean_["deviance"], self.cv_se_["deviance"]
        i_best = int(np.argmin(mean))
        i_1se = int(np.flatnonzero(mean <= mean[i_best] + se[i_best])[0])
        self.C_best_, self.C_1se_ = float(self.Cs_[i_best]), float(self.Cs_[i_1se])
        i = i_1se if self.one_se else i_best
        self.C_ = float(self.Cs_[i])
        return i

    def _fit_path(self, X: np.ndarray, y: np.ndarray) -> None:
        """Coefficients and intercepts on all rows at every C (``coef_path_``, ``n_iter_``)."""
        path, icpt = np.zeros((len(self.Cs_), X.shape[1])), np.zeros(len(self.Cs_))
        n_iter = 0
        for c, C in enumerate(self.Cs_):
            m = self._model(C).fit(X, y)
            path[c], icpt[c] = m.coef_[0], m.intercept_[0]
            n_iter = max(n_iter, int(np.max(m.n_iter_)))
        self.n_iter_ = n_iter
        self.coef_path_, self.intercept_path_ = path, icpt

    def _single_best(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Support of the one feature kept when no coefficient survives (see ``fallback_``)."""
        path = self.coef_path_
        entered = np.flatnonzero((path != 0).any(axis=1))
        if entered.size:
            first = entered[0]
            j = int(np.argmax(np.abs(path[first])))
            self.coef_[j] = path[first, j]
        else:
            j = int(np.argmax(_auc_relevance(X, y)))
        support = np.zeros(X.shape[1], dtype=bool)
        support[j] = True
        logger.warning("LassoSelector: no coefficient survives at C=%.4g; kept the single "
                       "best feature (column %d)", self.C_, j)
        return support

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


# --------------------------------------------------------------------------- pipeline


def build_selection(cfg_selection: dict, icc_keep: list[str] | None,
                    random_state: int | None, batch: pd.Series | None = None) -> Pipeline:
    """The selection Pipeline of one level, unfitted.

    Parameters
    ----------
    cfg_selection
        The config's ``selection`` section (keys ``variance_threshold``, ``redundancy``,
        ``redundancy_threshold``, ``mrmr_k``, ``lasso_cv_folds``, ``lasso_one_se``; missing
        keys take the schema's defaults).
    icc_keep
        Robust feature names (:func:`icc_keep_list`), or None to skip the ICC filter.
    random_state
        Seed of the LASSO's folds (the config's ``seed``).
    batch
        Batch (scanner or centre) of every patient, indexed by patient id, to harmonise
        with ComBat (config ``harmonization``); None (default): no harmonisation.

    Returns
    -------
    Pipeline
        Steps [``harmonize``: :class:`~alnburden.modeling.harmonization.ComBatHarmonizer`],
        ``icc``, ``impute``, ``scale``, ``variance``, [``redundancy``], [``mrmr``],
        ``lasso``. ``impute`` fills a missing feature value (NaN; pyradiomics can give one
        for a degenerate ROI) with the training median and drops features missing on every
        training row; with complete features it changes nothing.
    """
    cfg = with_defaults("selection", cfg_selection)
    steps = [] if batch is None else [("harmonize", ComBatHarmonizer(batch=batch))]
    steps += [("icc", IccFilter(keep=None if icc_keep is None else list(icc_keep))),
             ("impute", SimpleImputer(strategy="median")),
             ("scale", StandardScaler()),
             ("variance", VarianceThreshold(threshold=float(cfg["variance_threshold"])))]
    if cfg["redundancy"] == "spearman":
        steps.append(("redundancy", SpearmanRedundancyFilter(
            threshold=float(cfg["redundancy_threshold"]))))
    elif cfg["redundancy"] != "none":
        raise ValueError(f"selection.redundancy={cfg['redundancy']!r}; use 'spearman' or 'none'")
    if int(cfg["mrmr_k"]) > 0:
        steps.append(("mrmr", MRMRSelector(k=int(cfg["mrmr_k"]))))
    steps.append(("lasso", LassoSelector(cv=int(cfg["lasso_cv_folds"]),
                                         one_se=bool(cfg["lasso_one_se"]),
                                         random_state=random_state)))
    return Pipeline(steps)



def lasso_step(selection: Pipeline) -> tuple[LassoSelector, np.ndarray]:
    """The fitted LASSO of a selection Pipeline and the names of the features it was given.

    Parameters
    ----------
    selection
        A fitted Pipeline of :func:`build_selection` (the ``selection`` step of a saved
        radiomics model).

    Returns
    -------
    lasso : LassoSelector
        The last step.
    names : ndarray of str, shape (lasso.n_features_in_,)
        Its input features (the output of the steps before it).
    """
    lasso = selection[-1]
    if not isinstance(lasso, LassoSelector):
        raise ValueError(f"the selection Pipeline ends in {type(lasso).__name__}, not a "
                         "LassoSelector; pass the 'selection' step of a radiomics model "
                         "written by fit_level")
    return lasso, selection[:-1].get_feature_names_out()
