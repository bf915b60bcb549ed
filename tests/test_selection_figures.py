"""LASSO figures drawn from a fitted selector and from a saved radiomics model
(alnburden.figures.selection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from alnburden.figures.selection import plot_lasso_cv, plot_lasso_path, plot_selection_figures
from alnburden.modeling.persistence import load_model, save_model
from alnburden.modeling.selection import LassoSelector, build_selection


def _data(n=200, p=12, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, p))
    X[:, 0] += 1.5 * y
    return pd.DataFrame(X, columns=[f"intra_f{j:02d}" for j in range(p)]), y


def test_lasso_figures(tmp_path):
    X, y = _data()
    sel = LassoSelector(cv=3, random_state=0).fit(X, y)
    p1 = plot_lasso_path(sel, tmp_path / "lasso_path", feature_names=X.columns)
    p2 = plot_lasso_cv(sel, tmp_path / "lasso_cv.pdf")
    assert p1 == [tmp_path / "lasso_path.pdf", tmp_path / "lasso_path.png"]
    assert p2 == [tmp_path / "lasso_cv.pdf", tmp_path / "lasso_cv.png"]
    for p in [*p1, *p2]:
        assert p.is_file() and p.stat().st_size > 1000


def test_figures_need_a_fitted_selector(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        plot_lasso_path(LassoSelector(), tmp_path / "lasso_path")
    with pytest.raises(ValueError, match="not fitted"):
        plot_lasso_cv(LassoSelector(), tmp_path / "lasso_cv")
    assert not list(tmp_path.iterdir())


def test_selection_figures_from_a_saved_radiomics_model(tmp_path):
    X, y = _data()
    selection = build_selection({"lasso_cv_folds": 3}, None, 0).fit(X, y)
    learner = LogisticRegression().fit(selection.transform(X), y)
    model_path = save_model(Pipeline([("selection", selection), ("learner", learner)]),
                            tmp_path / "models/radiomics.joblib")
    out = plot_selection_figures(load_model(model_path), tmp_path / "selection/lasso_path.png",
                                 tmp_path / "selection/lasso_cv.png")
    assert sorted(p.name for p in out) == ["lasso_cv.pdf", "lasso_cv.png", "lasso_path.pdf",
                                           "lasso_path.png"]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in out)
    with pytest.raises(ValueError, match="has no 'selection' step"):
        plot_selection_figures(learner, tmp_path / "a", tmp_path / "b")
