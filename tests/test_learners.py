"""The learner zoo (alnburden.modeling.learners)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

from alnburden.modeling.learners import LEARNERS, grid_points, make_learner, prefixed_grid


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
