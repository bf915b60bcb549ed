"""The machine-learning learners compared for the radiomics model, with small tuning grids.

Each learner receives the output of the selection Pipeline (z-scored radiomic features,
typically 3-30 columns) and is tuned by the repeated stratified CV of
:mod:`alnburden.modeling.level_fit` (ROC AUC). The grids are deliberately small (2-4 points): with a
few hundred training patients, wide grids mostly tune noise, and the default study tunes
6 learners x 2 levels x 10 folds in about a minute on 2 cores.

Probabilities
-------------
Every learner has ``predict_proba``. The SVM is an RBF ``SVC`` wrapped in
:class:`~sklearn.calibration.CalibratedClassifierCV` (Platt sigmoid, 3 internal stratified
folds, ensemble of the 3 calibrated SVMs): ``SVC(probability=True)`` is deprecated in
scikit-learn 1.9 and did the same thing internally with a hidden 5-fold CV.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

__all__ = ["LEARNERS", "make_learner", "prefixed_grid", "grid_points"]

#: Learner names accepted in ``models.learners`` (same list as the config schema's enum).
LEARNERS = ("logistic", "svm", "knn", "random_forest", "lightgbm", "hist_gradient_boosting",
            "mlp")


def make_learner(name: str, random_state: int | None) -> tuple[BaseEstimator, dict[str, list]]:
    """An unfitted learner and its tuning grid.

    Parameters
    ----------
    name
        One of :data:`LEARNERS`.
    random_state
        Seed of every stochastic part (the config's ``seed``).

    Returns
    -------
    estimator, param_grid
        ``param_grid`` uses the estimator's own parameter names (no Pipeline prefix; see
        :func:`prefixed_grid`).

    Notes
    -----
    ========================  ============================================================
    logistic                  L2 ``LogisticRegression`` (lbfgs), C in {0.1, 1}
    svm                       RBF ``SVC`` + Platt calibration (3 folds), C in {0.5, 2}
    knn                       ``KNeighborsClassifier`` (distance weights), k in {15, 35}
    random_forest             200 trees, sqrt features, min_samples_leaf in {3, 10}
    lightgbm                  ``LGBMClassifier`` 150 trees, lr 0.05, subsample 0.8 (bagging
                              every tree), num_leaves in {4, 8}, min_child_samples 10,
                              verbose=-1, n_jobs=1, deterministic
    hist_gradient_boosting    150 iterations, lr 0.05, no early stopping,
                              max_leaf_nodes in {4, 8}, min_samples_leaf 10
    mlp                       one hidden layer of 16 ReLU units, adam (learning rate 0.01),
                              300 epochs max, alpha (L2) in {0.1, 1}
    ========================  ============================================================
    """
    rs = random_state
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=5000, random_state=rs), {"C": [0.1, 1.0]}
    if name == "svm":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        est = CalibratedClassifierCV(SVC(kernel="rbf", gamma="scale", random_state=rs),
                                     method="sigmoid", cv=3)
        return est, {"estimator__C": [0.5, 2.0]}
    if name == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(weights="distance"), {"n_neighbors": [15, 35]}
    if name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        est = RandomForestClassifier(n_estimators=200, max_features="sqrt", n_jobs=1,
                                     random_state=rs)
        return est, {"min_samples_leaf": [3, 10]}
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        est = LGBMClassifier(n_estimators=150, learning_rate=0.05, min_child_samples=10,
                             subsample=0.8, subsample_freq=1, colsample_bytree=1.0,
                             verbose=-1, n_jobs=1, deterministic=True, force_col_wise=True,
                             random_state=rs)
        return est, {"num_leaves": [4, 8]}
    if name == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        est = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05,
                                             min_samples_leaf=10, early_stopping=False,
                                             random_state=rs)
        return est, {"max_leaf_nodes": [4, 8]}
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier

        est = MLPClassifier(hidden_layer_sizes=(16,), solver="adam", learning_rate_init=0.01,
                            max_iter=300, random_state=rs)
        return est, {"alpha": [0.1, 1.0]}
    raise ValueError(f"unknown learner {name!r}; choose from {', '.join(LEARNERS)}")


def prefixed_grid(grid: dict[str, list], step: str) -> dict[str, list]:
    """``grid`` with every key prefixed ``<step>__`` (for a Pipeline step)."""
    return {f"{step}__{k}": v for k, v in grid.items()}


def grid_points(grid: dict[str, list]) -> list[dict]:
    """The grid's points in :class:`~sklearn.model_selection.ParameterGrid` order."""
    from sklearn.model_selection import ParameterGrid

    return list(ParameterGrid(grid))
