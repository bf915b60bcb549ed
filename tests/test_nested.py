"""Nested cross-validation: every outer fold refits everything without its held-out patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import alnburden.modeling.level_fit as level_fit
import alnburden.modeling.nested as nested_mod
from alnburden.evaluation import tables as ev
from alnburden.modeling.nested import (NESTED_COLUMNS, fit_outer_fold, merge_nested,
                                       nested_fold_aucs, nested_repeat_aucs, outer_folds)
from test_leakage import Spy, _null_tolerance
from test_modeling import CONFIG, LEVEL1, LEVEL2, VARIABLES, synthetic_study

NESTED = {"folds": 3, "repeats": 1, "seed": 5, "tuning_repeats": None}


def _all_folds(cohort, split, features, level, cfg, nested=NESTED, perturbations=None,
               robustness=None):
    k = nested["folds"] * nested["repeats"]
    return [fit_outer_fold(cohort, split, features, perturbations, level, VARIABLES, cfg,
                           fold=i, nested=nested, robustness=robustness) for i in range(k)]


def test_outer_folds_hold_out_every_patient_once_per_repeat():
    y = np.r_[np.zeros(30), np.ones(20)].astype(int)
    folds = outer_folds(y, 5, 2, seed=1)
    assert len(folds) == 10
    for r in range(2):
        held = np.concatenate([h for _, h in folds[5 * r:5 * r + 5]])
        assert sorted(held) == list(range(50))
        for tr, h in folds[5 * r:5 * r + 5]:
            assert not set(tr) & set(h) and y[h].sum() == 4      # stratified: 20 / 5
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds[:5], folds[5:]))
    groups = np.repeat(np.arange(25), 2)
    for tr, h in outer_folds(y, 5, 1, seed=1, groups=groups):
        assert not set(groups[tr]) & set(groups[h])
    with pytest.raises(ValueError, match="at least 5 patients of each class"):
        outer_folds(np.r_[np.zeros(10), np.ones(3)], 5, 1, seed=0)


def test_fold_fit_never_sees_its_held_out_patients_nor_the_test_set(monkeypatch):
    cohort, split, features, _ = synthetic_study(160, 40, seed=3)
    # the perturbation table of the robustness stage: 2 raters of every training patient
    train_ids = split.loc[split["set"] == "train", "patient_id"]
    pert = features[features["patient_id"].isin(train_ids)]
    noise = np.random.default_rng(0).normal(scale=0.01, size=(len(pert), pert.shape[1] - 1))
    long = pd.concat([pert.assign(rater=0),
                      pert.assign(rater=1).assign(**{c: pert[c] * (1 + noise[:, j])
                                                     for j, c in enumerate(pert.columns[1:])})])
    seen_sel, seen_icc = [], []
    original_sel = level_fit._selection.build_selection

    def spied_selection(cfg, keep, random_state):
        from sklearn.pipeline import Pipeline

        steps = [("spy", Spy())] + original_sel(cfg, keep, random_state).steps
        return Pipeline(steps).set_output(transform="pandas")

    original_icc = nested_mod.outer_icc

    def spied_icc(perturbations, patient_ids, robustness):
        out = original_icc(perturbations, patient_ids, robustness)
        seen_icc.append(set(map(str, patient_ids)))
        return out

    from test_leakage import SEEN
    monkeypatch.setattr(level_fit._selection, "build_selection", spied_selection)
    monkeypatch.setattr(nested_mod, "outer_icc", spied_icc)
    SEEN.clear()
    rows = fit_outer_fold(cohort, split, features, {"perturbation": long}, LEVEL1, VARIABLES,
                          CONFIG, fold=1,
                          nested=NESTED, robustness={"icc": "ICC2", "threshold": 0.5})
    held = set(rows["patient_id"])
    test = set(split.loc[split["set"] == "test", "patient_id"])
    assert held and held <= set(train_ids)
    seen_sel = [ids for _, ids in SEEN]
    assert seen_sel and all(not (ids & held) and not (ids & test) for ids in seen_sel)
    assert seen_icc and not (seen_icc[0] & held) and not (seen_icc[0] & test)
    assert list(rows.columns) == NESTED_COLUMNS
    assert set(rows["set"]) == {"nested"} and set(rows["model"]) == {"radiomics", "clinical",
                                                                     "combined"}
    assert rows["cutoff"].between(0, 1).all()


def test_nested_rows_cover_every_training_patient_and_merge():
    cohort, split, features, _ = synthetic_study(300, 30, seed=8, signal=1.5)
    folds = _all_folds(cohort, split, features, LEVEL2, CONFIG)
    merged = merge_nested(folds)
    train2 = set(cohort.loc[cohort["n_positive_nodes"] > 0, "patient_id"]) & set(
        split.loc[split["set"] == "train", "patient_id"])
    for model, g in merged.groupby("model"):
        assert set(g["patient_id"]) == train2, model
    assert (merged["n_repeats"] == 1).all()
    aucs = nested_repeat_aucs(folds)
    assert set(aucs["model"]) == {"radiomics", "clinical", "combined"}
    assert aucs["learners_chosen"].str.count(",").eq(2).all()      # one learner per outer fold
    assert aucs["auc_fold_mean"].between(0, 1).all()
    with pytest.raises(ValueError, match="missing from some of the 2 repeats"):
        merge_nested([*folds, folds[0].assign(repeat=1)])
    with pytest.raises(ValueError, match="held out twice"):
        merge_nested([folds[0], folds[0]])


def test_fold_mean_auc_does_not_rank_one_folds_patients_against_anothers():
    """Two intercept-only folds: each gives its held-out patients its own training
    prevalence. The fold holding more events (3 of 5) has the lower one (4/10 vs 5/10), so
    the pooled AUC ranks every one of its events below the other fold's non-events: by hand,
    pairs (event, non-event) = 5 x 5 = 25; event in fold 0 (3) vs non-event in fold 1 (3):
    9 pairs lost; event in fold 1 (2) vs non-event in fold 0 (2): 4 pairs won; the 12 pairs
    inside a fold tie (1/2 each): pooled AUC (4 + 6) / 25 = 0.4. Each fold's own AUC is 0.5."""
    y = np.array([1, 1, 1, 0, 0, 1, 1, 0, 0, 0])
    fold = np.repeat([0, 1], 5)
    p = np.where(fold == 0, 0.4, 0.5)
    rows = pd.DataFrame({"patient_id": [f"p{i}" for i in range(10)], "level": "l",
                         "set": "nested", "model": "clinical", "y_true": y, "p": p,
                         "rad_score": 0.0, "nodal_class": np.nan, "ki67": np.nan,
                         "cutoff": 0.5, "repeat": 0, "fold": fold, "learner": ""})
    per_fold = nested_fold_aucs([rows])
    assert per_fold["auc"].tolist() == [0.5, 0.5] and per_fold["events"].tolist() == [3, 2]
    rep = nested_repeat_aucs([rows]).iloc[0]
    assert rep["auc"] == pytest.approx(0.4) and rep["auc_fold_mean"] == pytest.approx(0.5)
    one_class = rows.assign(y_true=np.where(fold == 0, 1, y))
    assert np.isnan(nested_fold_aucs([one_class])["auc"].iloc[0])


def test_a_levels_own_nested_folds_split_its_patients():
    """LEVEL2 with ``nested_folds = 4`` under a config of 3 folds: outer folds 0-3 hold out
    every training patient once, a fifth does not exist."""
    import dataclasses

    cohort, split, _, _ = synthetic_study(300, 10, seed=8, signal=1.5)
    level = dataclasses.replace(LEVEL2, nested_folds=4)
    held = []
    for fold in range(4):
        _, sub_split, ids_tr = nested_mod._outer_fold_data(cohort, split, level, CONFIG, fold,
                                                           NESTED)
        this_fold = sub_split.loc[sub_split["set"] == "test", "patient_id"].tolist()
        assert not set(ids_tr) & set(this_fold)
        held += this_fold
    train2 = set(cohort.loc[cohort["n_positive_nodes"] > 0, "patient_id"]) & set(
        split.loc[split["set"] == "train", "patient_id"])
    assert sorted(held) == sorted(train2)
    with pytest.raises(ValueError, match=r"outer fold 4 does not exist \(4 folds"):
        fit_outer_fold(cohort, split, None, None, level, VARIABLES, CONFIG, fold=4,
                       nested=NESTED)


def test_internal_validation_table_has_the_fold_mean_beside_the_pooled_index():
    from alnburden.evaluation.internal_validation import internal_validation_table

    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    p = np.array([0.2, 0.9, 0.1, 0.8, 0.6, 0.4, 0.3, 0.5])     # fold 0 AUC 1.0, fold 1 0.5
    folds = pd.DataFrame({"patient_id": [f"p{i}" for i in range(8)], "level": "l",
                          "model": "clinical", "y_true": y, "p": p, "repeat": 0,
                          "fold": np.repeat([0, 1], 4)})
    pred = pd.concat([folds.drop(columns=["repeat", "fold"]).assign(set=s)
                      for s in ("train", "nested", "test")], ignore_index=True)
    table = internal_validation_table(pred, None, folds).set_index("metric")
    assert table.loc["auc", "nested_fold_mean"] == pytest.approx(0.75)
    assert table.loc["auc", "nested"] == pytest.approx(roc_auc_score(y, p))
    brier = [np.mean((p[k:k + 4] - y[k:k + 4]) ** 2) for k in (0, 4)]
    assert table.loc["brier", "nested_fold_mean"] == pytest.approx(np.mean(brier))
    assert internal_validation_table(pred, None)["nested_fold_mean"].isna().all()


def test_repeats_average_probabilities():
    base = pd.DataFrame({"patient_id": ["a", "b"], "level": "l", "set": "nested",
                         "model": "m", "y_true": [0, 1], "p": [0.2, 0.6],
                         "rad_score": [0.0, 1.0], "nodal_class": np.nan, "ki67": np.nan,
                         "cutoff": [0.3, 0.3], "repeat": 0, "fold": [0, 1], "learner": "knn"})
    again = base.assign(p=[0.4, 0.8], cutoff=[0.5, 0.5], repeat=1)
    out = merge_nested([base, again]).set_index("patient_id")
    assert out.loc["a", "p"] == pytest.approx(0.3) and out.loc["b", "p"] == pytest.approx(0.7)
    assert out.loc["a", "cutoff"] == pytest.approx(0.4) and (out["n_repeats"] == 2).all()


@pytest.mark.parametrize("seed", [21, 22, 23, 24, 25])
def test_permuted_labels_give_chance_nested_auc(seed):
    """Labels independent of features and clinical values: every nested AUC is at chance
    (3 SD of the null), while the non-nested cv rows are where optimism shows."""
    cohort, split, features, _ = synthetic_study(240, 60, seed=seed, signal=2.0)
    rng = np.random.default_rng(seed)
    cohort = cohort.assign(n_positive_nodes=rng.permutation(cohort["n_positive_nodes"]))
    cfg = {**CONFIG, "seed": seed}
    merged = merge_nested(_all_folds(cohort, split, features, LEVEL1, cfg))
    for model, g in merged.groupby("model"):
        auc = roc_auc_score(g["y_true"], g["p"])
        assert abs(auc - 0.5) < _null_tolerance(g["y_true"]), (model, auc)


def test_performance_uses_each_nested_rows_own_cutoff():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.5 * y + rng.uniform(0, 0.5, 200), 0, 1)
    rows = lambda s, **kw: pd.DataFrame({"patient_id": [f"P{i}" for i in range(200)],  # noqa: E731
                                         "level": "l1", "set": s, "model": "radiomics",
                                         "y_true": y, "p": p, "rad_score": 0.0, **kw})
    # half the rows' folds chose 0.45, half 0.55; the test set gets the Youden cutoff of nested
    own = np.where(np.arange(200) % 2 == 0, 0.45, 0.55)
    pred = pd.concat([rows("train"), rows("nested", cutoff=own), rows("test")])
    perf = ev.performance_table(pred).set_index("set")
    assert perf.loc["nested", "cutoff_source"] == "each outer fold"
    assert perf.loc["nested", "cutoff"] == pytest.approx(0.5)
    called = (p >= own).astype(int)
    assert perf.loc["nested", "tp"] == int(((called == 1) & (y == 1)).sum())
    assert perf.loc["test", "cutoff_source"] == "nested"
    cut = ev.choose_cutoffs(pred).iloc[0]
    assert cut["cutoff_source"] == "nested"


def test_a_fold_with_fewer_than_two_perturbed_patients_runs_without_the_icc_filter(caplog):
    """A small study: one of the fold's training patients was perturbed; no ICC can be
    computed, so the fold keeps every feature (None) and logs why, instead of failing."""
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "f_a": rng.normal(size=3),
                         "f_b": rng.normal(size=3)})
    long = pd.concat([base.assign(rater=r, f_a=base["f_a"] + 0.01 * r,
                                  f_b=base["f_b"] - 0.01 * r) for r in range(3)],
                     ignore_index=True)
    robustness = {"source": "perturbation", "threshold": 0.75, "keep_on": "ci_low"}
    with caplog.at_level("WARNING", logger="alnburden.modeling.nested"):
        assert nested_mod.outer_icc({"perturbation": long}, ["P1", "P9"], robustness) is None
    assert "ICC (perturbation): 1 of this fold's 2 training patient(s) have robustness " \
           "features, an ICC needs 2; the fold runs without the ICC filter" in caplog.text
    table = nested_mod.outer_icc({"perturbation": long}, ["P1", "P2", "P3"], robustness)
    assert sorted(table["feature"]) == ["f_a", "f_b"]   # two or more: the ICC is computed
