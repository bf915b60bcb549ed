"""Leakage tests: nothing fitted ever sees a test row, and training Rad-scores are
out-of-fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

import alnburden.modeling.level_fit as modeling
from alnburden.modeling.level_fit import fit_level
from test_modeling import CONFIG, LEVEL1, VARIABLES, synthetic_study

N, P = 240, 80


def _null_tolerance(y) -> float:
    """3 SD of the AUC under the null (Mann-Whitney): var = (n1 + n0 + 1) / (12 n1 n0)."""
    n1 = int(np.sum(y))
    n0 = len(y) - n1
    return 3 * np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_permuted_labels_give_chance_test_auc(seed, tmp_path):
    cohort, split, features, icc = synthetic_study(N, P, seed=seed, signal=2.0)
    rng = np.random.default_rng(seed)
    cohort = cohort.assign(n_positive_nodes=rng.permutation(cohort["n_positive_nodes"].to_numpy()))
    cfg = {**CONFIG, "seed": seed,
           "models": {**CONFIG["models"], "learners": ["logistic", "knn", "lightgbm"]}}
    preds = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, tmp_path)
    test = preds[preds["set"] == "test"]
    for model, g in test.groupby("model"):
        auc = roc_auc_score(g["y_true"], g["p"])
        assert abs(auc - 0.5) < _null_tolerance(g["y_true"]), (model, auc)


#: Patient ids seen by fit() of every spied step (the test runs with n_jobs=1, in-process).
SEEN: list[tuple[str, frozenset]] = []


class Spy(TransformerMixin, BaseEstimator):
    """Identity transformer recording the patient ids (DataFrame index) it is fitted on."""

    def __init__(self, before: str = "") -> None:
        self.before = before

    def fit(self, X, y=None):
        assert isinstance(X, pd.DataFrame), "spied pipeline must run with pandas output"
        SEEN.append((self.before, frozenset(X.index)))
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        return X

    def get_feature_names_out(self, input_features=None):
        if input_features is None:
            input_features = self.feature_names_in_
        return np.asarray(input_features, dtype=object)


def test_selection_steps_never_fit_on_test_rows(tmp_path, monkeypatch):
    cohort, split, features, icc = synthetic_study(N, P, seed=4)
    original = modeling._selection.build_selection

    def spied(cfg, keep, random_state):
        steps = []
        for name, step in original(cfg, keep, random_state).steps:
            steps += [(f"spy_{name}", Spy(before=name)), (name, step)]
        return Pipeline(steps).set_output(transform="pandas")

    monkeypatch.setattr(modeling._selection, "build_selection", spied)
    SEEN.clear()
    fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, CONFIG, tmp_path)
    test_ids = set(split.loc[split["set"] == "test", "patient_id"])
    train_ids = set(split.loc[split["set"] == "train", "patient_id"])
    spied_steps = {name for name, _ in SEEN}
    assert {"icc", "scale", "variance", "redundancy", "lasso"} <= spied_steps
    # 3 tuning folds + 3 Rad-score folds + the final fit, for every step
    assert len(SEEN) == 7 * len(spied_steps)
    for name, ids in SEEN:
        assert not ids & test_ids, f"step {name} was fitted on test patients"
        assert ids <= train_ids
    assert any(ids == train_ids for _, ids in SEEN)  # the final refit uses every train row


def test_test_features_cannot_change_training(tmp_path):
    cohort, split, features, icc = synthetic_study(N, P, seed=5)
    base = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, CONFIG, tmp_path / "a")
    test_ids = split.loc[split["set"] == "test", "patient_id"]
    spoiled = features.copy()
    cols = spoiled.columns[1:]
    is_test = spoiled["patient_id"].isin(test_ids)
    spoiled.loc[is_test, cols] = np.nan
    spoiled.loc[is_test, cols[::3]] = np.inf
    other = fit_level(cohort, split, spoiled, icc, LEVEL1, VARIABLES, CONFIG, tmp_path / "b")
    for s in ["train", "cv"]:
        pd.testing.assert_frame_equal(base[base["set"] == s], other[other["set"] == s])
    assert (tmp_path / "a/level1/selection/selected_features.csv").read_bytes() == \
        (tmp_path / "b/level1/selection/selected_features.csv").read_bytes()


def test_training_rad_scores_are_out_of_fold(tmp_path):
    """A memorising learner (1-NN) is perfect on its own training rows, but its out-of-fold
    Rad-scores on pure-noise features carry no information."""
    cohort, split, features, icc = synthetic_study(N, P, seed=6, signal=0.0)
    # the grid is config: a 1-NN (distance weights) memorises its training rows
    cfg = {**CONFIG, "models": {**CONFIG["models"], "learners": ["knn"],
                                "grids": {"knn": {"n_neighbors": [1]}}}}
    preds = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, tmp_path)
    train = preds[(preds["set"] == "train") & (preds["model"] == "radiomics")]
    assert roc_auc_score(train["y_true"], train["p"]) == 1.0  # apparent: memorised
    auc_rs = roc_auc_score(train["y_true"], train["rad_score"])  # the Rad-score used downstream
    assert abs(auc_rs - 0.5) < _null_tolerance(train["y_true"])
    cv = preds[(preds["set"] == "cv") & (preds["model"] == "radiomics")]
    np.testing.assert_array_equal(cv["rad_score"].to_numpy(), train["rad_score"].to_numpy())
