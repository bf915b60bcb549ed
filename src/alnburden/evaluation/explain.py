"""What the radiomics model leans on: SHAP values of its learner and permutation importance.

The saved radiomics model (``results/<level>/models/radiomics.joblib``) is a Pipeline
``selection`` (ICC filter, imputation, z-scoring, redundancy, LASSO, ...) + ``learner``.
The SHAP values explain the LEARNER on the selection's output (the selected, z-scored
features), with the explainer that fits the learner (:func:`explainer_kind`):

==========================================  ===========================================
learner                                     explainer (output explained)
==========================================  ===========================================
random_forest, lightgbm,                    ``shap.TreeExplainer``, interventional on the
hist_gradient_boosting                      background (random forest: probability;
                                            boosting: log-odds)
logistic                                    ``shap.LinearExplainer`` on the background
                                            (log-odds)
svm, knn, mlp (any other)                   ``shap.PermutationExplainer`` of the
                                            probability, independent masker on the
                                            background
==========================================  ===========================================

The background is a seeded sample of training rows (``background`` rows, 100 by default);
the explained rows are the test set. The values are the same for the same seed.
Permutation importance (:func:`sklearn.inspection.permutation_importance`, ROC AUC, on the
test set, of the WHOLE Pipeline on the raw features it was given) is the model-agnostic
check beside them: a feature the learner leans on should lose AUC when shuffled.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

__all__ = ["readable_feature_name", "explainer_kind", "ShapResult", "shap_values",
           "permutation_table", "shap_table", "SHAP_COLUMNS", "TREE_LEARNERS"]

#: Learner classes explained by the tree explainer (class names, so no import is needed).
TREE_LEARNERS = ("RandomForestClassifier", "ExtraTreesClassifier", "LGBMClassifier",
                 "HistGradientBoostingClassifier", "GradientBoostingClassifier",
                 "DecisionTreeClassifier")
#: Learner classes explained by the linear explainer.
LINEAR_LEARNERS = ("LogisticRegression",)

#: Columns of ``results/tables/<level>_shap.csv``.
SHAP_COLUMNS = ["rank", "feature", "label", "mean_abs_shap", "mean_shap", "explainer",
                "output", "permutation_auc_drop", "permutation_auc_drop_sd",
                "permutation_rank"]

_CLASS_NAMES = {"firstorder": "first order", "shape2D": "shape", "shape": "shape",
                "glcm": "GLCM", "glrlm": "GLRLM", "glszm": "GLSZM", "gldm": "GLDM",
                "ngtdm": "NGTDM"}


def _image_type_label(image_type: str) -> str:
    """``log-sigma-1-0-mm-3D`` -> ``LoG 1.0 mm``; ``wavelet-HL`` and ``original`` unchanged."""
    if image_type.startswith("log-sigma-"):
        sigma = image_type[len("log-sigma-"):].split("-mm")[0].replace("-", ".")
        return f"LoG {sigma} mm"
    return image_type


def readable_feature_name(name: str) -> str:
    """A radiomic feature's column name as a reader reads it.

    ``peri3mm_wavelet-HL_glcm_Contrast`` -> ``peri3mm / wavelet-HL / GLCM Contrast``;
    ``intra_log-sigma-2-0-mm-3D_firstorder_Mean`` -> ``intra / LoG 2.0 mm / first order
    Mean``. A name that is not ``<region>_<image type>_<class>_<feature>`` (a clinical
    variable, ``rad_score``) is returned unchanged.
    """
    parts = str(name).split("_")
    if len(parts) < 4:
        return str(name)
    region, feature_class, feature = parts[0], parts[-2], parts[-1]
    image_type = "_".join(parts[1:-2])
    cls = _CLASS_NAMES.get(feature_class, feature_class)
    return f"{region} / {_image_type_label(image_type)} / {cls} {feature}"


def _learner(model) -> object:
    """The final estimator of a Pipeline (or ``model`` itself)."""
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def explainer_kind(learner) -> str:
    """``"tree"``, ``"linear"`` or ``"permutation"``: the explainer that fits ``learner``."""
    name = type(_learner(learner)).__name__
    if name in TREE_LEARNERS:
        return "tree"
    if name in LINEAR_LEARNERS:
        return "linear"
    return "permutation"


@dataclass(frozen=True)
class ShapResult:
    """SHAP values of the explained rows.

    Attributes
    ----------
    values
        ``(n_rows, n_features)`` SHAP values (in ``output`` units).
    data
        ``(n_rows, n_features)`` the learner's inputs (selected, z-scored features).
    features
        Feature names (columns of ``values``).
    base_value
        The expected output on the background.
    explainer
        ``tree``, ``linear`` or ``permutation``.
    output
        ``log-odds`` or ``probability``.
    index
        Row labels (patient ids) of the explained rows.
    seconds
        Time the explainer took.
    """

    values: np.ndarray
    data: np.ndarray
    features: list[str]
    base_value: float
    explainer: str
    output: str
    index: list[str]
    seconds: float

    def frame(self) -> pd.DataFrame:
        """Long table ``patient_id, feature, shap, value`` (one row per patient x feature)."""
        n, m = self.values.shape
        return pd.DataFrame({"patient_id": np.repeat(self.index, m),
                             "feature": np.tile(self.features, n),
                             "shap": self.values.ravel(), "value": self.data.ravel()})


def _positive_class(values: np.ndarray) -> np.ndarray:
    """SHAP values of the positive class: ``(n, m, 2)`` -> ``(n, m)``."""
    values = np.asarray(values, dtype=float)
    return values[..., 1] if values.ndim == 3 else values


def _scalar(x) -> float:
    x = np.asarray(x, dtype=float).ravel()
    return float(x[-1]) if x.size else float("nan")


def shap_values(model: Pipeline, X_train: pd.DataFrame, X_test: pd.DataFrame, *,
                background: int = 100, agnostic_background: int = 20,
                permutations: int = 2, random_state: int = 0) -> ShapResult:
    """SHAP values of the radiomics model's learner on the test rows.

    Parameters
    ----------
    model
        A fitted Pipeline ``selection`` + ``learner`` (``radiomics.joblib``).
    X_train, X_test
        Raw feature tables (the Pipeline's input columns) of the training and test rows;
        the training rows only give the background sample.
    background
        Training rows in the background of the tree and linear explainers (a seeded
        sample without replacement; all rows when there are fewer).
    agnostic_background
        Rows of the permutation explainer's background (the first rows of that sample):
        its cost is rows x ``permutations`` x (2 features + 1) x background predictions.
    permutations
        Forward-and-back feature permutations per explained row of the permutation
        explainer (each exact for a model without interactions).
    random_state
        Seed of the background sample and of the permutation explainer.

    Returns
    -------
    ShapResult
    """
    import shap

    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        raise ValueError("the radiomics model must be a Pipeline (selection, learner); got "
                         f"{type(model).__name__}")
    head, learner = model[:-1], model.steps[-1][1]
    features = [str(f) for f in head.get_feature_names_out()]
    rng = np.random.default_rng(random_state)
    n_bg = min(int(background), len(X_train))
    rows = np.sort(rng.choice(len(X_train), size=n_bg, replace=False))
    Z_bg = np.asarray(head.transform(X_train.iloc[rows]), dtype=float)
    Z_te = np.asarray(head.transform(X_test), dtype=float)
    kind = explainer_kind(learner)
    n_used = n_bg
    t0 = time.perf_counter()
    if kind == "tree":
        explainer = shap.TreeExplainer(learner, data=Z_bg, feature_perturbation="interventional")
        values = _positive_class(explainer.shap_values(Z_te, check_additivity=False))
        base = _scalar(explainer.expected_value)
        output = ("probability" if type(learner).__name__ in
                  ("RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier")
                  else "log-odds")
    elif kind == "linear":
        explainer = shap.LinearExplainer(learner, shap.maskers.Independent(Z_bg, max_samples=n_bg))
        values = _positive_class(explainer.shap_values(Z_te))
        base = _scalar(explainer.expected_value)
        output = "log-odds"
    else:
        def positive(z):
            return learner.predict_proba(z)[:, 1]

        evals = int(permutations) * (2 * Z_te.shape[1] + 1)
        small = Z_bg[:max(1, min(int(agnostic_background), n_bg))]
        n_used = len(small)
        explainer = shap.PermutationExplainer(
            positive, shap.maskers.Independent(small, max_samples=len(small)),
            seed=random_state)
        result = explainer(Z_te, max_evals=evals, silent=True)
        values = _positive_class(result.values)
        base = _scalar(result.base_values)
        output = "probability"
    seconds = time.perf_counter() - t0
    logger.info("SHAP (%s explainer, %d features, %d test rows, %d background rows): %.2f s",
                kind, len(features), len(Z_te), n_used, seconds)
    return ShapResult(values=values, data=Z_te, features=features, base_value=base,
                      explainer=kind, output=output, index=[str(i) for i in X_test.index],
                      seconds=seconds)


def permutation_table(model: Pipeline, X_test: pd.DataFrame, y_test, *, n_repeats: int = 10,
                      random_state: int = 0) -> pd.DataFrame:
    """Permutation importance (drop in test ROC AUC) of the learner's input features.

    :func:`sklearn.inspection.permutation_importance` (``scoring="roc_auc"``) of the
    learner on the selection's output of ``X_test``. Every step of the selection is
    column-wise (filters keep or drop raw columns; imputation and z-scoring map each
    value of a column on its own), so shuffling a selected column there is shuffling
    the raw column for the WHOLE Pipeline: the numbers are those of the Pipeline on the raw
    features (a test checks it), without scoring the ~1,500 raw columns the selection
    dropped (whose importance is exactly 0).

    Returns
    -------
    pandas.DataFrame
        ``feature, permutation_auc_drop, permutation_auc_drop_sd``.
    """
    from sklearn.inspection import permutation_importance

    head, learner = model[:-1], model.steps[-1][1]
    features = [str(f) for f in head.get_feature_names_out()]
    Z = pd.DataFrame(np.asarray(head.transform(X_test), dtype=float), columns=features,
                     index=X_test.index)
    res = permutation_importance(learner, Z.to_numpy(), np.asarray(y_test).astype(int),
                                 scoring="roc_auc", n_repeats=int(n_repeats),
                                 random_state=random_state, n_jobs=1)
    return pd.DataFrame({"feature": features, "permutation_auc_drop": res.importances_mean,
                         "permutation_auc_drop_sd": res.importances_std})


def shap_table(result: ShapResult, permutation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean |SHAP| per feature (rank 1 = most used), with the permutation importance beside it.

    Returns
    -------
    pandas.DataFrame
        :data:`SHAP_COLUMNS`, sorted by ``mean_abs_shap`` (ties: feature name).
    """
    out = pd.DataFrame({"feature": result.features,
                        "label": [readable_feature_name(f) for f in result.features],
                        "mean_abs_shap": np.abs(result.values).mean(axis=0),
                        "mean_shap": result.values.mean(axis=0),
                        "explainer": result.explainer, "output": result.output})
    if permutation is not None and not permutation.empty:
        out = out.merge(permutation, on="feature", how="left")
        order = out["permutation_auc_drop"].rank(ascending=False, method="min")
        out["permutation_rank"] = order.astype("Int64")
    out = out.sort_values(["mean_abs_shap", "feature"], ascending=[False, True],
                          kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reindex(columns=SHAP_COLUMNS)


def explain_level(model: Pipeline, features: pd.DataFrame, cohort: pd.DataFrame,
                  split: pd.DataFrame, level, table_path, values_path, *,
                  background: int = 100, agnostic_background: int = 20,
                  permutations: int = 2, n_repeats: int = 10, random_state: int = 0,
                  n_jobs: int = 1) -> pd.DataFrame:
    """SHAP values and permutation importance of one level's radiomics model, written.

    Parameters
    ----------
    model
        The level's fitted radiomics Pipeline (``radiomics.joblib``).
    features, cohort, split
        ``radiomics.parquet``, ``cohort.csv`` and ``split.csv``: the level's training rows
        give the background, its test rows are explained.
    level
        The :class:`alnburden.levels.Level`.
    table_path
        ``results/tables/<level>_shap.csv`` (and its ``.md``): :func:`shap_table`.
    values_path
        ``results/<level>/explain/shap_values.parquet``: every test patient's SHAP value
        and (z-scored) value of every feature (:meth:`ShapResult.frame`), plus the
        explainer's base value and output scale, for the figures.
    background, agnostic_background, permutations, random_state
        See :func:`shap_values`.
    n_repeats
        Shuffles per feature of the permutation importance.
    n_jobs
        Threads of the numerical libraries while explaining (the rule's ``threads``).

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    from pathlib import Path

    from threadpoolctl import threadpool_limits

    from alnburden.io import write_table
    from alnburden.modeling.level_fit import feature_matrix, level_data

    data = level_data(cohort, split, level)
    train, test = data[data["set"] == "train"], data[data["set"] == "test"]
    if test.empty:
        raise ValueError(f"{level.name}: the test set is empty; nothing to explain")
    X_tr, X_te = feature_matrix(features, train.index), feature_matrix(features, test.index)
    with threadpool_limits(limits=max(1, int(n_jobs))):
        result = shap_values(model, X_tr, X_te, background=background,
                             agnostic_background=agnostic_background,
                             permutations=permutations, random_state=random_state)
        t0 = time.perf_counter()
        perm = None
        if test["y"].nunique() == 2:
            perm = permutation_table(model, X_te, test["y"].to_numpy(), n_repeats=n_repeats,
                                     random_state=random_state)
            logger.info("permutation importance (%d repeats): %.2f s", n_repeats,
                        time.perf_counter() - t0)
        else:
            logger.warning("%s: the test set holds one class only; no permutation importance "
                           "(its AUC is undefined)", level.name)
    table = shap_table(result, perm)
    write_table(table, table_path,
                title=f"{level.name}: mean |SHAP| of the radiomics learner's features (test "
                      f"set, n = {len(test)}; {result.explainer} explainer, "
                      f"{result.output}) and permutation importance (drop in test AUC)")
    values = result.frame().assign(base_value=result.base_value, explainer=result.explainer,
                                   output=result.output)
    values_path = Path(values_path)
    values_path.parent.mkdir(parents=True, exist_ok=True)
    values.to_parquet(values_path, index=False)
    return table
