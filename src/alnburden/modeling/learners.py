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

from collections.abc import Callable
from dataclasses import dataclass, field

from sklearn.base import BaseEstimator

__all__ = ["Learner", "LEARNERS", "make_learner", "prefixed_grid", "grid_points",
           "learner_libraries"]


@dataclass(frozen=True)
class Learner:
    """One entry of the learner registry: everything the workflow knows about a learner.

    Adding a learner is one :class:`Learner` in :data:`LEARNERS`; the config schema's enum
    (``models.learners``), the figures' colours and labels and the model card's library
    versions all read it (a test checks the schema against it).

    Attributes
    ----------
    name
        Config name (``models.learners`` entry, ``model`` column of the predictions).
    label
        Display name in figures and tables.
    color
        Colour in every figure (hex), distinct from the study models' colours.
    build
        ``build(random_state) -> estimator``: an unfitted scikit-learn classifier with
        ``predict_proba``.
    grid
        Tuning grid in the estimator's own parameter names (no Pipeline prefix).
    libraries
        Distributions beyond scikit-learn the fitted model needs (their versions go into the
        model card).
    """

    name: str
    label: str
    color: str
    build: Callable[[int | None], BaseEstimator]
    grid: dict[str, list] = field(default_factory=dict)
    libraries: tuple[str, ...] = ()


def _logistic(rs):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=5000, random_state=rs)


def _svm(rs):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    return CalibratedClassifierCV(SVC(kernel="rbf", gamma="scale", random_state=rs),
                                  method="sigmoid", cv=3)


def _knn(rs):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(weights="distance")


def _random_forest(rs):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=200, max_features="sqrt", n_jobs=1,
                                  random_state=rs)


def _lightgbm(rs):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=150, learning_rate=0.05, min_child_samples=10,
                          subsample=0.8, subsample_freq=1, colsample_bytree=1.0,
                          verbose=-1, n_jobs=1, deterministic=True, force_col_wise=True,
                          random_state=rs)


def _hist_gradient_boosting(rs):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05,
                                          min_samples_leaf=10, early_stopping=False,
                                          random_state=rs)


def _mlp(rs):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(16,), solver="adam", learning_rate_init=0.01,
                         max_iter=300, random_state=rs)


#: The learner registry, in the config schema's order (Okabe-Ito and Dark2 colours).
LEARNERS: dict[str, Learner] = {lr.name: lr for lr in (
    Learner("logistic", "Logistic regression", "#E69F00", _logistic, {"C": [0.1, 1.0]}),
    Learner("svm", "SVM", "#56B4E9", _svm, {"estimator__C": [0.5, 2.0]}),
    Learner("knn", "k-NN", "#CC79A7", _knn, {"n_neighbors": [15, 35]}),
    Learner("random_forest", "Random forest", "#6A3D9A", _random_forest,
            {"min_samples_leaf": [3, 10]}),
    Learner("lightgbm", "LightGBM", "#A6761D", _lightgbm, {"num_leaves": [4, 8]},
            libraries=("lightgbm",)),
    Learner("hist_gradient_boosting", "Histogram gradient boosting", "#882255",
            _hist_gradient_boosting, {"max_leaf_nodes": [4, 8]}),
    Learner("mlp", "MLP", "#1B9E77", _mlp, {"alpha": [0.1, 1.0]}),
)}


def make_learner(name: str, random_state: int | None) -> tuple[BaseEstimator, dict[str, list]]:
    """An unfitted learner and its tuning grid.

    Parameters
    ----------
    name
        A key of :data:`LEARNERS`.
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
    if name not in LEARNERS:
        raise ValueError(f"unknown learner {name!r}; choose from {', '.join(LEARNERS)}")
    learner = LEARNERS[name]
    return learner.build(random_state), {k: list(v) for k, v in learner.grid.items()}


def learner_libraries() -> tuple[str, ...]:
    """Distributions beyond scikit-learn that some learner needs, in registry order."""
    return tuple(dict.fromkeys(lib for lr in LEARNERS.values() for lib in lr.libraries))


def prefixed_grid(grid: dict[str, list], step: str) -> dict[str, list]:
    """``grid`` with every key prefixed ``<step>__`` (for a Pipeline step)."""
    return {f"{step}__{k}": v for k, v in grid.items()}


def grid_points(grid: dict[str, list]) -> list[dict]:
    """The grid's points in :class:`~sklearn.model_selection.ParameterGrid` order."""
    from sklearn.model_selection import ParameterGrid

    return list(ParameterGrid(grid))
