"""Grouped inner CV folds (modeling.folds and the level fit's use of them), the
Nadeau-Bengio corrected interval and the repeated-splits table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from alnburden.evaluation.repeats import (REPEAT_AUC_COLUMNS, REPEATED_SPLITS_COLUMNS,
                                          merge_repeat_predictions, repeat_test_aucs,
                                          repeated_splits_lines, repeated_splits_table,
                                          write_repeated_splits)
from alnburden.modeling import level_fit
from alnburden.modeling.folds import RepeatedStratifiedGroupKFold, cv_splitter, stratified_folds
from alnburden.stats.resampling import corrected_resampled_ci
from test_modeling import CONFIG, LEVEL1, synthetic_study


def _grouped(n: int = 120, seed: int = 0):
    """Labels and groups of 1-3 rows (a patient's images share its label half the time)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, n)
    groups = np.repeat(np.arange(n), sizes)[:n]
    y = (rng.random(groups.max() + 1) < 0.4).astype(int)[groups]
    flip = rng.random(n) < 0.1
    return np.where(flip, 1 - y, y), groups


def _assert_partition(folds, n: int, groups) -> None:
    seen = np.concatenate([va for _, va in folds])
    assert sorted(seen) == list(range(n))  # every row validated once
    for tr, va in folds:
        assert not set(groups[tr]) & set(groups[va])  # no group on both sides


# --------------------------------------------------------------------------- folds


def test_without_groups_the_folds_are_the_previous_ones():
    y, _ = _grouped()
    ours = stratified_folds(y, 5, 7)
    ref = list(StratifiedKFold(5, shuffle=True, random_state=7).split(np.zeros(len(y)), y))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(ours, ref))
    cv = cv_splitter(5, 2, 7)
    assert isinstance(cv, RepeatedStratifiedKFold)
    ref = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=7)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(cv.split(y, y), ref.split(y, y)))


def test_grouped_folds_keep_groups_together_and_stratify():
    y, groups = _grouped()
    folds = stratified_folds(y, 5, 0, groups)
    assert len(folds) == 5
    _assert_partition(folds, len(y), groups)
    for _, va in folds:
        assert abs(y[va].mean() - y.mean()) < 0.15


def test_repeated_grouped_kfold_uses_its_groups_in_split_x_y():
    y, groups = _grouped()
    cv = cv_splitter(4, 3, 11, groups)
    assert isinstance(cv, RepeatedStratifiedGroupKFold) and cv.get_n_splits() == 12
    folds = list(cv.split(np.zeros((len(y), 2)), y))  # no groups passed: the stored ones
    assert len(folds) == 12
    for r in range(3):
        _assert_partition(folds[4 * r: 4 * r + 4], len(y), groups)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds[:4], folds[4:8]))
    again = list(cv_splitter(4, 3, 11, groups).split(np.zeros(len(y)), y))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))


def test_too_few_groups_for_the_folds_is_explained():
    y = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="2 group\\(s\\) cannot fill 3 folds"):
        stratified_folds(y, 3, 0, np.array([0, 0, 0, 1, 1, 1]))


def _grouped_study(n: int = 150):
    cohort, split, features, icc = synthetic_study(n=n, n_features=40)
    split = split.assign(group=[f"G{i // 3:03d}" for i in range(len(split))])
    # the grouped split: a group's rows on the side of its first row
    first = split.groupby("group")["set"].transform("first")
    return cohort, split.assign(set=first), features, icc


def test_level_fit_folds_and_tuning_cv_respect_the_split_groups(tmp_path, monkeypatch):
    cohort, split, features, icc = _grouped_study()
    fit = level_fit._prepare(cohort, split, LEVEL1, CONFIG, tmp_path)
    groups = split.set_index("patient_id").loc[fit.train.index, "group"].to_numpy()
    assert (fit.groups == groups).all()
    _assert_partition(fit.folds, len(fit.train), groups)
    seen = {}

    def spy(selection, learners, X, y, cv, n_jobs=1):
        seen["folds"] = list(cv.split(X, y))
        raise RuntimeError("stop after the splitter")

    monkeypatch.setattr(level_fit, "tune_learners", spy)
    fit.X_tr = level_fit.feature_matrix(features, fit.train.index)
    with pytest.raises(RuntimeError, match="stop after"):
        level_fit._tune(fit, None, 1)
    n_folds = CONFIG["models"]["cv_folds"] * CONFIG["models"]["cv_repeats"]
    assert len(seen["folds"]) == n_folds
    _assert_partition(seen["folds"], len(fit.train), groups)


def test_level_fit_without_groups_keeps_its_folds(tmp_path):
    cohort, split, _, _ = synthetic_study(n=150, n_features=40)
    fit = level_fit._prepare(cohort, split, LEVEL1, CONFIG, tmp_path)
    assert fit.groups is None
    ref = StratifiedKFold(3, shuffle=True, random_state=CONFIG["seed"]).split(fit.y, fit.y)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(fit.folds, ref))


def test_grouped_level_fit_runs_end_to_end(tmp_path):
    cohort, split, features, icc = _grouped_study()
    preds = level_fit.fit_level(cohort, split, features, icc, LEVEL1, [], CONFIG, tmp_path)
    assert set(preds["set"]) == {"train", "cv", "test"}
    cv = preds[(preds["set"] == "cv") & (preds["model"] == "radiomics")]
    assert cv["p"].notna().all()


# --------------------------------------------------------------------------- Nadeau-Bengio


def test_corrected_interval_worked_example():
    """By hand: AUCs 0.70, 0.75, 0.80, 0.72, 0.78 over J = 5 splits of 70 train / 30 test.

    mean = 3.75 / 5 = 0.75; squared deviations 0.0025, 0, 0.0025, 0.0009, 0.0009, sum
    0.0068, s^2 = 0.0068 / 4 = 0.0017; factor 1/5 + 30/70 = 0.628571; corrected variance
    0.0017 x 0.628571 = 0.00106857, SE 0.0326890; t(4, 0.975) = 2.776 (t table);
    half-width 0.090759: interval 0.6592 to 0.8408. The naive t interval would use
    factor 1/5 only (half-width 0.0512).
    """
    out = corrected_resampled_ci([0.70, 0.75, 0.80, 0.72, 0.78], n_train=70, n_test=30)
    assert out["repeats"] == 5
    assert out["mean"] == pytest.approx(0.75)
    assert out["sd"] == pytest.approx(math.sqrt(0.0017))
    assert out["se_corrected"] == pytest.approx(0.0326890, abs=1e-7)
    assert out["ci_low"] == pytest.approx(0.6592, abs=1e-4)
    assert out["ci_high"] == pytest.approx(0.8408, abs=1e-4)
    assert (out["min"], out["max"]) == (0.70, 0.80)


def test_corrected_interval_edge_cases():
    one = corrected_resampled_ci([0.7, np.nan], 70, 30)
    assert one["repeats"] == 1 and one["mean"] == 0.7 and math.isnan(one["ci_low"])
    same = corrected_resampled_ci([0.7, 0.7, 0.7], 70, 30)
    assert (same["ci_low"], same["ci_high"]) == pytest.approx((0.7, 0.7))
    with pytest.raises(ValueError, match="must both be positive"):
        corrected_resampled_ci([0.7, 0.8], 0, 30)


# --------------------------------------------------------------------------- the table


def _repeat_predictions(tmp_path, n_repeats: int = 4):
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n_repeats):
        for level, n in (("level1", 60), ("level2", 30)):
            y = rng.integers(0, 2, n)
            y[:2] = [0, 1]
            rows = []
            for model, signal in (("radiomics", 1.0), ("combined", 2.0), ("logistic", 1.0)):
                p = 1 / (1 + np.exp(-(signal * (y - 0.5) + rng.normal(size=n))))
                sets = np.where(np.arange(n) < 0.7 * n, "train", "test")
                rows.append(pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)],
                                          "level": level, "set": sets, "model": model,
                                          "y_true": y, "p": p, "rad_score": 0.0}))
            path = tmp_path / f"r{k}" / level / "predictions.csv"
            path.parent.mkdir(parents=True)
            pd.concat(rows).to_csv(path, index=False)
            paths.append(path)
    return paths


def test_repeated_splits_table_from_the_repeats(tmp_path):
    paths = _repeat_predictions(tmp_path)
    pred = merge_repeat_predictions(paths)
    assert sorted(pred["repeat"].unique()) == [0, 1, 2, 3]
    aucs = repeat_test_aucs(pred)
    assert list(aucs.columns) == REPEAT_AUC_COLUMNS and len(aucs) == 4 * 2 * 3
    table = repeated_splits_table(pred)
    assert list(table.columns) == REPEATED_SPLITS_COLUMNS
    assert table["model"].tolist() == ["radiomics", "combined", "logistic"] * 2
    row = table[(table["level"] == "level1") & (table["model"] == "combined")].iloc[0]
    sub = aucs[(aucs["level"] == "level1") & (aucs["model"] == "combined")]
    assert (row["n_train"], row["n_test"]) == (42, 18)
    ref = corrected_resampled_ci(sub["auc"], 42, 18)
    assert row["mean"] == pytest.approx(sub["auc"].mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(  # clipped to the AUC's range
        (max(ref["ci_low"], 0), min(ref["ci_high"], 1)))
    lines = repeated_splits_lines(table, {"level1": "Level 1"})
    assert lines[0] == "## Repeated random splits (test AUC)"
    assert sum(line.startswith("- Level 1, ") for line in lines) == 2  # arms only


def test_write_repeated_splits_and_its_figure(tmp_path):
    from alnburden.figures.repeats import plot_repeated_splits

    paths = _repeat_predictions(tmp_path)
    table = write_repeated_splits(paths, tmp_path / "t" / "repeated_splits.csv",
                                  tmp_path / "t" / "test_aucs.csv", title="Repeated")
    assert (tmp_path / "t" / "repeated_splits.md").read_text().startswith("# Repeated")
    aucs = pd.read_csv(tmp_path / "t" / "test_aucs.csv")
    out = plot_repeated_splits(aucs, table, "level1", tmp_path / "fig" / "level1_repeated_splits",
                               "Level 1")
    assert [p.suffix for p in out] == [".pdf", ".png"] and all(p.stat().st_size for p in out)


def test_merge_refuses_a_path_outside_a_repeat_folder(tmp_path):
    paths = _repeat_predictions(tmp_path, 1)
    bad = tmp_path / "x" / "level1" / "predictions.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(paths[0].read_text())
    with pytest.raises(ValueError, match="is not results/repeats/r<k>"):
        merge_repeat_predictions([bad])
