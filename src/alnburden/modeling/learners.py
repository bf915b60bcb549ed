"""The machine-learning learners compared for the radiomics model, with small tuning grids.

Each learner receives the output of the selection Pipeline (z-scored radiomic features,
typically 3-30 columns) and is tuned by the repeated stratified CV of
:mod:`alnburden.modeling.level_fit` (ROC AUC). The default grids are deliberately small
(2 points): with a few hundred training patients, wide grids mostly tune noise, and the
default study tunes 6 learners x 2 levels x 10 folds in about a minute on 2 cores. The config's
``models.grids`` replaces a learner's grid (:func:`learner_grids`; its schema default is the
registry's grids, a test checks they agree) and ``models.search`` chooses between the whole
grid and a seeded random subset of it (:func:`search_space`).

Small cohorts: some values cannot fit on a small training fold (k-NN's ``n_neighbors`` above
the fold's rows; leaves too large for a tree to split; more SVM calibration folds than rows
of a class). :func:`feasible_learner` drops those grid points (keeping at least one, lowered
to the limit) and lowers such fixed parameters, and the level fit logs every change.

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

__all__ = ["Learner", "Limit", "LEARNERS", "make_learner", "prefixed_grid", "grid_points",
           "learner_libraries", "learner_grids", "search_space", "feasible_learner"]


@dataclass(frozen=True)
class Limit:
    """The largest value of one parameter a learner can fit with on a small training set.

    Attributes
    ----------
    param
        The estimator's own parameter name (no Pipeline prefix).
    largest
        ``largest(n_rows, n_minority) -> int``: the largest feasible value on a training set
        of ``n_rows`` rows whose smaller class has ``n_minority`` rows.
    smallest
        The smallest value the parameter takes: a training set whose ``largest`` is below it
        cannot fit the learner at all.
    why
        What goes wrong above ``largest`` (the log line's reason).
    """

    param: str
    largest: Callable[[int, int], int]
    smallest: int
    why: str


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
    limits
        Parameters whose feasible values depend on the training set's size
        (:func:`feasible_learner`), whether they are tuned or fixed.
    """

    name: str
    label: str
    color: str
    build: Callable[[int | None], BaseEstimator]
    grid: dict[str, list] = field(default_factory=dict)
    libraries: tuple[str, ...] = ()
    limits: tuple[Limit, ...] = ()


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


#: Size limits of the learners (:class:`Limit`). A tree cannot split a node into two leaves
#: of ``min_samples_leaf`` rows unless the node holds twice as many: the random forest's
#: bootstrap sample holds about 63 % distinct rows, LightGBM's bagging 80 % of the rows.
_KNN_K = Limit("n_neighbors", lambda n, m: n, 1,
               "k-NN needs at least n_neighbors training rows")
_SVM_CV = Limit("cv", lambda n, m: min(3, m), 2,
                "the SVM's Platt calibration needs as many rows of each class as folds")
_RF_LEAF = Limit("min_samples_leaf", lambda n, m: int(0.63 * n) // 2, 1,
                 "a tree of bootstrap samples cannot split with leaves this large")
_LGBM_CHILD = Limit("min_child_samples", lambda n, m: int(0.8 * n) // 2, 1,
                    "a tree of the bagged rows cannot split with leaves this large")
_HGB_LEAF = Limit("min_samples_leaf", lambda n, m: n // 2, 1,
                  "a tree cannot split with leaves this large")

#: The learner registry, in the config schema's order (Okabe-Ito and Dark2 colours).
LEARNERS: dict[str, Learner] = {lr.name: lr for lr in (
    Learner("logistic", "Logistic regression", "#E69F00", _logistic, {"C": [0.1, 1.0]}),
    Learner("svm", "SVM", "#56B4E9", _svm, {"estimator__C": [0.5, 2.0]}, limits=(_SVM_CV,)),
    Learner("knn", "k-NN", "#CC79A7", _knn, {"n_neighbors": [15, 35]}, limits=(_KNN_K,)),
    Learner("random_forest", "Random forest", "#6A3D9A", _random_forest,
            {"min_samples_leaf": [3, 10]}, limits=(_RF_LEAF,)),
    Learner("lightgbm", "LightGBM", "#A6761D", _lightgbm, {"num_leaves": [4, 8]},
            libraries=("lightgbm",), limits=(_LGBM_CHILD,)),
    Learner("hist_gradient_boosting", "Histogram gradient boosting", "#882255",
            _hist_gradient_boosting, {"max_leaf_nodes": [4, 8]}, limits=(_HGB_LEAF,)),
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


def learner_grids(given: dict | None, names) -> dict[str, dict[str, list]]:
    """The tuning grid of each learner ``names``: ``given`` (config ``models.grids``) over
    the schema's defaults, each checked against its estimator's parameters.

    Raises
    ------
    ValueError
        A grid names an unknown learner or a parameter its estimator does not have (every
        offending learner and parameter is named, with the parameters it has), or lists no
        value for a parameter.
    """
    from alnburden.schemas import section_defaults

    grids = {**section_defaults("models")["grids"], **(given or {})}
    errors = []
    unknown = sorted(set(given or {}) - set(LEARNERS))
    if unknown:
        errors.append(f"unknown learner(s) {unknown} (learners: {', '.join(LEARNERS)})")
    out = {}
    for name in names:
        grid = grids.get(name, LEARNERS[name].grid if name in LEARNERS else {})
        if name not in LEARNERS:
            continue
        params = LEARNERS[name].build(0).get_params(deep=True)
        bad = sorted(k for k in grid if k not in params)
        if bad:
            errors.append(f"{name}: no parameter(s) {bad}; it has "
                          f"{sorted(k for k in params if not k.endswith('_'))}")
        empty = sorted(k for k, v in grid.items() if not isinstance(v, list) or not v)
        if empty:
            errors.append(f"{name}: parameter(s) {empty} need a non-empty list of values")
        out[name] = {k: list(v) for k, v in grid.items()} if isinstance(grid, dict) else {}
    if errors:
        raise ValueError("config models.grids: " + "; ".join(errors))
    return out


def search_space(grid: dict[str, list], search: dict | None,
                 random_state: int | None) -> dict[str, list] | list[dict[str, list]]:
    """The points tuning tries: the whole ``grid``, or ``n_iter`` of its points drawn without
    replacement (config ``models.search: {kind: random, n_iter: N}``, seeded).

    Returns
    -------
    dict or list of dict
        A grid for :func:`grid_points` (a list of one-point grids for a random search, in
        the drawn order; the whole grid when it has ``n_iter`` points or fewer).
    """
    from sklearn.model_selection import ParameterSampler

    from alnburden.schemas import section_defaults

    s = {**section_defaults("models")["search"], **(search or {})}
    if s["kind"] == "grid":
        return grid
    if s["kind"] != "random":
        raise ValueError(f"config models.search.kind is {s['kind']!r}; use grid or random")
    n_points = len(grid_points(grid))
    if int(s["n_iter"]) >= n_points:
        return grid
    drawn = ParameterSampler(grid, n_iter=int(s["n_iter"]), random_state=random_state)
    return [{k: [v] for k, v in point.items()} for point in drawn]


def _number(value) -> bool:
    """A count-like parameter value (not None, a string, a splitter or a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def feasible_learner(name: str, estimator: BaseEstimator, grid: dict | list,
                     n_rows: int, n_minority: int
                     ) -> tuple[BaseEstimator, dict | list, list[str]]:
    """The learner and the grid points that can fit on a training set this small.

    The registry's :class:`Limit` of each parameter bounds its value by the number of
    training rows (k-NN's ``n_neighbors``, the trees' leaf sizes) or of rows of the smaller
    class (the SVM's calibration folds). A grid point above a limit is dropped; when no point
    is left, the first one is kept with its value lowered to the limit (at least one point is
    always tuned). A fixed parameter above its limit (e.g. LightGBM's ``min_child_samples``,
    not in the default grid) is lowered to it on the estimator.

    Parameters
    ----------
    name
        A key of :data:`LEARNERS` (other names are returned unchanged).
    estimator
        The unfitted learner (:func:`make_learner`).
    grid
        Its grid or list of one-point grids (:func:`search_space`).
    n_rows, n_minority
        Rows of the smallest training set the learner is fitted on (the training part of a
        tuning or Rad-score fold) and rows of its smaller class.

    Returns
    -------
    estimator, grid, notes
        The estimator (a copy with lowered fixed parameters, or ``estimator`` itself), the
        grid (``grid`` itself when every point fits, else a list of one-point grids) and one
        sentence per change, for the log.

    Raises
    ------
    ValueError
        The training set is too small for the learner at any value (e.g. an SVM with one
        row of a class per calibration fold), naming the learner and the fix.
    """
    from sklearn.base import clone

    learner = LEARNERS.get(name)
    if learner is None or not learner.limits:
        return estimator, grid, []
    points, notes = grid_points(grid), []
    params = estimator.get_params()
    where = f"{name} on {n_rows} training rows ({n_minority} in the smaller class)"
    for limit in learner.limits:
        top = int(limit.largest(n_rows, n_minority))
        if top < limit.smallest:
            raise ValueError(
                f"{where}: {limit.why}, and {limit.param} cannot be below {limit.smallest}; "
                f"remove {name} from models.learners or use a larger cohort (or fewer "
                "models.cv_folds / models.rad_score_folds)")
        fixed = params.get(limit.param)
        if _number(fixed) and not any(limit.param in p for p in points) and fixed > top:
            notes.append(f"{where}: {limit.param} lowered from {params[limit.param]} to {top} "
                         f"({limit.why})")
            estimator = clone(estimator).set_params(**{limit.param: top})
        fits = [p for p in points if not _number(p.get(limit.param)) or p[limit.param] <= top]
        if len(fits) == len(points):
            continue
        dropped = [p for p in points if p not in fits]
        instead = ""
        if not fits:  # keep one point, lowered to the limit
            fits = [{**dropped[0], limit.param: top}]
            instead = f"; no point has {limit.param} <= {top}, tuning {fits[0]} instead"
        notes.append(f"{where}: grid point(s) {dropped} dropped ({limit.why}){instead}")
        points = fits
    if points == grid_points(grid):
        return estimator, grid, notes
    return estimator, [{k: [v] for k, v in p.items()} for p in points], notes
