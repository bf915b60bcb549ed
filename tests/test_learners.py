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


@pytest.mark.parametrize("name", LEARNERS)
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
    for params in points:  # every grid point is a valid parameter setting
        clone(est).set_params(**params)


def test_unknown_learner():
    with pytest.raises(ValueError, match="unknown learner 'xgboost'"):
        make_learner("xgboost", 0)


def test_prefixed_grid():
    assert prefixed_grid({"C": [1, 2]}, "learner") == {"learner__C": [1, 2]}
    assert grid_points({}) == [{}]
