"""The learner zoo (alnburden.modeling.learners)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

from alnburden.modeling.learners import (LEARNERS, feasible_learner, grid_points, make_learner,
                                         prefixed_grid)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=240, n_features=6, n_informative=3, n_redundant=0,
                               random_state=0)
    return X[:160], y[:160], X[160:], y[160:]


@pytest.mark.parametrize("name", list(LEARNERS))
def test_every_learner_fits_predicts_and_is_seeded(name, data):
    X, y, Xv, yv = data
    est, grid = make_learner(name, random_state=3)
    points = grid_points(grid)
    assert 1 <= len(points) <= 4, "grids are kept small on purpose"
    probs = []
    for params in points[:1] * 2:  # same point twice: same seed gives the same probabilities
        with warnings.catch_warnings():  # the MLP may stop at max_iter on this toy set
            warnings.simplefilter("ignore", ConvergenceWarning)
            p = clone(est).set_params(**params).fit(X, y).predict_proba(Xv)
        assert p.shape == (len(yv), 2)
        assert np.all((p >= 0) & (p <= 1))
        probs.append(p[:, 1])
    np.testing.assert_array_equal(probs[0], probs[1])
    assert roc_auc_score(yv, probs[0]) > 0.7
    for params in points:  # every grid point names parameters of the estimator, as set
        got = clone(est).set_params(**params).get_params()
        assert {k: got[k] for k in params} == params


def test_registry_is_the_schema_enum():
    """``models.learners`` in the config schema accepts exactly the registry's learners."""
    from alnburden.schemas import CONFIG_SCHEMA, load_schema, section_defaults

    items = load_schema(CONFIG_SCHEMA)["properties"]["models"]["properties"]["learners"]["items"]
    assert list(items["enum"]) == list(LEARNERS)
    assert set(section_defaults("models")["learners"]) <= set(LEARNERS)


def test_registry_entries_are_complete():
    colors = [lr.color for lr in LEARNERS.values()]
    assert len(set(colors)) == len(colors), "every learner has its own colour"
    for name, lr in LEARNERS.items():
        assert lr.name == name and lr.label and lr.color.startswith("#")


def test_unknown_learner():
    with pytest.raises(ValueError, match="unknown learner 'xgboost'"):
        make_learner("xgboost", 0)


def test_prefixed_grid():
    assert prefixed_grid({"C": [1, 2]}, "learner") == {"learner__C": [1, 2]}
    assert grid_points({}) == [{}]


# --------------------------------------------------------------------------- small cohorts


def _tiny(n: int, minority: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(minority), np.zeros(n - minority)].astype(int)
    X = rng.normal(size=(n, 3)) + 2.0 * y[:, None]
    return X, y


@pytest.mark.parametrize("name", list(LEARNERS))
def test_every_learner_fits_and_splits_on_a_tiny_training_set(name):
    """On 10 rows (3 of a class) every learner's feasible grid fits, and the tree learners
    still split (their default leaf sizes would leave one constant leaf)."""
    X, y = _tiny(10, 3)
    est, grid = make_learner(name, random_state=0)
    est, grid, _ = feasible_learner(name, est, grid, len(y), 3)
    points = grid_points(grid)
    assert points
    for params in points:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = clone(est).set_params(**params).fit(X, y).predict_proba(X)[:, 1]
        assert np.ptp(p) > 0, f"{name} {params}: constant predictions"


def test_feasible_learner_drops_points_and_keeps_at_least_one():
    est, grid = make_learner("knn", 0)
    same_est, same, notes = feasible_learner("knn", est, grid, 200, 80)
    assert same is grid and same_est is est and notes == []   # a large set changes nothing
    _, kept, notes = feasible_learner("knn", est, grid, 20, 8)
    assert grid_points(kept) == [{"n_neighbors": 15}]
    assert notes == ["knn on 20 training rows (8 in the smaller class): grid point(s) "
                     "[{'n_neighbors': 35}] dropped (k-NN needs at least n_neighbors "
                     "training rows)"]
    _, kept, notes = feasible_learner("knn", est, grid, 6, 3)
    assert grid_points(kept) == [{"n_neighbors": 6}] and len(notes) == 1
    X, y = _tiny(6, 3)
    assert clone(est).set_params(n_neighbors=6).fit(X, y).predict_proba(X).shape == (6, 2)
    # a random search's list of one-point grids is filtered the same way
    _, kept, _ = feasible_learner("knn", est, [{"n_neighbors": [35]}, {"n_neighbors": [5]}], 20, 8)
    assert grid_points(kept) == [{"n_neighbors": 5}]


def test_a_learner_that_cannot_fit_at_all_is_named_with_the_fix():
    est, grid = make_learner("svm", 0)
    with pytest.raises(ValueError, match=r"svm on 5 training rows \(1 in the smaller class\): "
                       r"the SVM's Platt calibration needs .* remove svm from models.learners"):
        feasible_learner("svm", est, grid, 5, 1)
