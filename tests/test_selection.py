"""Train-only feature selection transformers (alnburden.modeling.selection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import VarianceThreshold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from alnburden.modeling.selection import (IccFilter, LassoSelector, MRMRSelector,
                                          SpearmanRedundancyFilter, build_selection,
                                          icc_keep_list, lasso_step)
from alnburden.schemas import section_defaults

#: LassoSelector is a binary-outcome selector (it raises on multiclass y, by design): the
#: generic checks that fit it on 3-class blobs are expected to fail.
_LASSO_MULTICLASS = {name: "LassoSelector is binary-only (multiclass y raises ValueError)"
                     for name in ["check_fit_score_takes_y", "check_estimators_overwrite_params",
                                  "check_dont_overwrite_parameters",
                                  "check_estimators_fit_returns_self",
                                  "check_readonly_memmap_input",
                                  "check_n_features_in_after_fitting",
                                  "check_positive_only_tag_during_fit", "check_dtype_object",
                                  "check_f_contiguous_array_estimator",
                                  "check_methods_sample_order_invariance",
                                  "check_methods_subset_invariance", "check_dict_unchanged",
                                  "check_fit2d_predict1d"]}


def _expected_failures(estimator):
    return _LASSO_MULTICLASS if isinstance(estimator, LassoSelector) else {}


@parametrize_with_checks([IccFilter(), SpearmanRedundancyFilter(), MRMRSelector(k=2),
                          LassoSelector(cv=3, Cs=5, random_state=0)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=200, p=30, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, p))
    X[:, 0] += 1.5 * y
    X[:, 1] += 1.0 * y
    cols = [f"intra_f{j:02d}" for j in range(p)]
    return pd.DataFrame(X, columns=cols, index=[f"P{i}" for i in range(n)]), y


def test_icc_filter_keeps_listed_columns_and_pandas_output():
    X, y = _data()
    f = IccFilter(keep=["intra_f03", "intra_f01", "not_a_feature"]).set_output(transform="pandas")
    out = f.fit_transform(X, y)
    assert list(out.columns) == ["intra_f01", "intra_f03"]
    assert out.index.equals(X.index)
    assert IccFilter(keep=None).fit(X).get_support().all()


def test_icc_filter_errors():
    X, y = _data()
    with pytest.raises(ValueError, match="needs a DataFrame with feature names"):
        IccFilter(keep=["a"]).fit(X.to_numpy())
    with pytest.raises(ValueError, match="none of the 1 robust features"):
        IccFilter(keep=["zzz"]).fit(X)


def test_icc_keep_list_parses_csv_strings():
    icc = pd.DataFrame({"feature": ["a", "b", "c"], "kept": ["True", "False", "1"]})
    assert icc_keep_list(icc) == ["a", "c"]
    assert icc_keep_list(None) is None
    with pytest.raises(ValueError, match="holds"):
        icc_keep_list(pd.DataFrame({"feature": ["a"], "kept": ["maybe"]}))


def test_variance_step_drops_the_features_constant_on_training_rows():
    X, y = _data()
    X["intra_f05"] = 7.0
    to_variance = build_selection({"redundancy": "none"}, None, 0)[:4]  # icc .. variance
    step = to_variance.named_steps["variance"]
    assert isinstance(step, VarianceThreshold)
    assert step.threshold == section_defaults("selection")["variance_threshold"]
    out = to_variance.fit(X, y).transform(X)
    scaled = StandardScaler().fit_transform(X)
    keep = scaled.var(axis=0) > step.threshold
    assert keep.sum() == X.shape[1] - 1 and not keep[5]
    assert list(to_variance.get_feature_names_out()) == list(X.columns[keep])
    np.testing.assert_array_equal(out, scaled[:, keep])  # the kept columns, unchanged
    with pytest.raises(ValueError, match="No feature in X meets the variance threshold"):
        to_variance.fit(pd.DataFrame(np.ones((10, 3)), columns=["a", "b", "c"]), y[:10])


def test_spearman_filter_drops_less_relevant_of_pair_whatever_the_order():
    rng = np.random.default_rng(1)
    n = 300
    y = rng.integers(0, 2, n)
    strong = y + rng.normal(scale=0.7, size=n)
    weak = strong + rng.normal(scale=0.15, size=n)  # |r| > 0.9 with strong, less relevant
    other = rng.normal(size=n)
    for cols in (["strong", "weak", "other"], ["weak", "other", "strong"]):
        X = pd.DataFrame({"strong": strong, "weak": weak, "other": other})[cols]
        f = SpearmanRedundancyFilter(threshold=0.9).fit(X, y)
        assert sorted(f.get_feature_names_out()) == ["other", "strong"]
    # a threshold above the pair's |r| keeps both
    assert SpearmanRedundancyFilter(threshold=0.999).fit(X, y).get_support().all()
    f = SpearmanRedundancyFilter(threshold=0.9, relevance="mutual_info", random_state=0).fit(X, y)
    assert "other" in f.get_feature_names_out()
    with pytest.raises(ValueError, match="relevance='x'"):
        SpearmanRedundancyFilter(relevance="x").fit(X, y)


def test_mrmr_keeps_k_including_the_signal():
    X, y = _data()
    f = MRMRSelector(k=3).fit(X, y)
    assert f.get_support().sum() == 3
    assert "intra_f00" in f.get_feature_names_out()
    assert MRMRSelector(k=100).fit(X, y).get_support().all()
    with pytest.raises(ValueError, match="k=0"):
        MRMRSelector(k=0).fit(X, y)


def test_lasso_selects_signal_and_exposes_path():
    X, y = _data(n=300, p=30)
    sel = LassoSelector(cv=5, random_state=0).fit(X, y)
    names = sel.get_feature_names_out()
    assert {"intra_f00", "intra_f01"} <= set(names)
    assert sel.coef_path_.shape == (len(sel.Cs_), 30)
    assert sel.cv_scores_["deviance"].shape == (5, len(sel.Cs_))
    assert sel.C_ == sel.C_best_
    assert np.all(sel.coef_[sel.get_support()] != 0)
    one_se = LassoSelector(cv=5, one_se=True, random_state=0).fit(X, y)
    assert one_se.C_ == one_se.C_1se_ <= one_se.C_best_
    assert one_se.get_support().sum() <= sel.get_support().sum()
    # deterministic under a seed
    again = LassoSelector(cv=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.coef_path_, sel.coef_path_)


def test_lasso_fallback_keeps_single_best():
    X, y = _data()
    sel = LassoSelector(cv=3, Cs=[1e-7], random_state=0).fit(X, y)
    assert sel.fallback_
    assert sel.get_support().sum() == 1
    assert sel.get_feature_names_out().tolist() == ["intra_f00"]
    with pytest.raises(ValueError, match="binary label"):
        LassoSelector().fit(X, np.arange(len(y)) % 3)


def test_build_selection_pipeline_and_pandas_output():
    X, y = _data(n=200, p=30)
    X["intra_const"] = 1.0
    cfg = {"variance_threshold": 1e-8, "redundancy": "spearman", "redundancy_threshold": 0.9,
           "mrmr_k": 10, "lasso_cv_folds": 3, "lasso_one_se": False}
    keep = [c for c in X.columns if c != "intra_f29"]
    pipe = build_selection(cfg, keep, random_state=0)
    assert [n for n, _ in pipe.steps] == ["icc", "impute", "scale", "variance", "redundancy",
                                          "mrmr", "lasso"]
    pipe.set_output(transform="pandas").fit(X, y)
    out = pipe.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(pipe.get_feature_names_out())
    assert "intra_f00" in out.columns and "intra_f29" not in out.columns
    assert "intra_const" not in pipe[:4].get_feature_names_out()
    assert len(pipe[:6].get_feature_names_out()) == 10
    bare = build_selection({"redundancy": "none", "mrmr_k": 0}, None, 0)
    assert [n for n, _ in bare.steps] == ["icc", "impute", "scale", "variance", "lasso"]
    # keys the section lacks take the schema's defaults
    assert bare.named_steps["lasso"].cv == section_defaults("selection")["lasso_cv_folds"]
    assert bare.named_steps["lasso"].one_se == section_defaults("selection")["lasso_one_se"]
    with pytest.raises(ValueError, match="redundancy='pearson'"):
        build_selection({"redundancy": "pearson"}, None, 0)


def test_lasso_step_returns_the_fitted_lasso_and_its_input_names():
    X, y = _data()
    pipe = build_selection({"lasso_cv_folds": 3}, None, 0).fit(X, y)
    lasso, names = lasso_step(pipe)
    assert lasso is pipe.named_steps["lasso"]
    assert list(names) == list(pipe[:-1].get_feature_names_out())
    assert set(names[lasso.get_support()]) == set(pipe.get_feature_names_out())
    with pytest.raises(ValueError, match="ends in StandardScaler, not a LassoSelector"):
        lasso_step(pipe[:3])
