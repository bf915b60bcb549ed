"""Tests of alnburden.evaluation.tables (tables built from predictions.csv).

``make_predictions`` builds a small synthetic predictions table in the contract's format
(2 levels; radiomics/clinical/combined + 2 learners; sets train/cv/test; ki67 and
nodal_class); the other evaluation test files import it from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alnburden.evaluation import tables as ev
from alnburden.evaluation.registry import evaluation_tables, write_tables

LEARNERS = ("logistic", "random_forest")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def make_predictions(n: int = 240, seed: int = 0, cascade: bool = False) -> pd.DataFrame:
    """Synthetic predictions.csv: level1 (all patients) and level2 (N+ patients only).

    ``cascade=True`` adds the level-2 model's scores of EVERY test patient under set
    ``cascade`` (y_true empty for N0 patients), as requested from the modelling stage.
    """
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    nodes = np.where(latent + rng.normal(scale=0.8, size=n) < 0.0, 0,
                     np.clip(np.round(np.exp(0.8 * latent + rng.normal(scale=0.5, size=n)) + 1),
                             1, 12)).astype(int)
    ncls = np.where(nodes == 0, "N0", np.where(nodes <= 2, "N1-2", "N>=3"))
    ki67 = np.clip(np.round(22 + 3 * latent + rng.normal(scale=10, size=n)), 1, 95)
    pid = np.array([f"P{i:04d}" for i in range(n)])
    is_test = rng.random(n) < 0.3
    rows = []
    for level, pop, lab in (("level1", np.ones(n, bool), nodes > 0),
                            ("level2", nodes > 0, nodes >= 3)):
        y = lab.astype(int)
        noise = {m: rng.normal(size=n) for m in ("radiomics", "clinical", "combined", *LEARNERS)}
        strength = {"radiomics": 1.2, "clinical": 0.8, "combined": 1.6, "logistic": 1.1,
                    "random_forest": 1.0}
        for set_ in ("train", "cv", "test", "cascade"):
            if set_ == "cascade" and not (cascade and level == "level2"):
                continue
            mask = is_test.copy() if set_ in ("test", "cascade") else ~is_test
            if set_ != "cascade":
                mask &= pop
            shrink = 1.0 if set_ == "train" else 0.8
            rad = None
            for m, s in strength.items():
                lp = s * shrink * (2 * y - 1) * 0.8 + noise[m] * (0.9 if set_ == "train" else 1.0)
                p = _sigmoid(lp - 0.3)
                if m == "radiomics":
                    rad = np.log(p / (1 - p))
                rows.append(pd.DataFrame({
                    "patient_id": pid[mask], "level": level, "set": set_, "model": m,
                    "y_true": np.where(pop[mask], y[mask], np.nan), "p": p[mask],
                    "rad_score": rad[mask], "nodal_class": ncls[mask], "ki67": ki67[mask]}))
    out = pd.concat(rows, ignore_index=True)
    out["y_true"] = out["y_true"].astype("Int64")
    return out


@pytest.fixture(scope="module")
def pred():
    return make_predictions()


def test_performance_columns_exactly_as_design(pred):
    perf = ev.performance_table(pred)
    design = ["level", "model", "set", "n", "events", "auc", "auc_ci_low", "auc_ci_high", "cutoff",
              "sensitivity", "sensitivity_ci_low", "sensitivity_ci_high",
              "specificity", "specificity_ci_low", "specificity_ci_high",
              "accuracy", "accuracy_ci_low", "accuracy_ci_high",
              "ppv", "ppv_ci_low", "ppv_ci_high", "npv", "npv_ci_low", "npv_ci_high"]
    assert list(perf.columns[: len(design)]) == design
    assert list(perf.columns[len(design):]) == ["tp", "fp", "tn", "fn", "cutoff_source"]  # documented additions
    assert len(perf) == 2 * 5 * 3
    assert perf["auc"].notna().all()
    assert perf["model"].tolist()[:5] == ["radiomics"] * 3 + ["clinical"] * 2
    assert perf["set"].tolist()[:3] == ["train", "cv", "test"]
    assert (perf["auc_ci_low"] < perf["auc"]).all() and (perf["auc"] < perf["auc_ci_high"]).all()
    assert ((perf["tp"] + perf["fn"]) == perf["events"]).all()
    assert ((perf["tp"] + perf["fp"] + perf["tn"] + perf["fn"]) == perf["n"]).all()


def test_cutoff_is_chosen_out_of_fold_and_reused(pred):
    perf = ev.performance_table(pred).set_index(["level", "model", "set"])
    for (level, model), g in perf.groupby(level=[0, 1]):
        assert g["cutoff"].nunique() == 1, (level, model)
    # scramble the test predictions: cutoffs must not move, test metrics must
    scrambled = pred.copy()
    is_test = scrambled["set"] == "test"
    scrambled.loc[is_test, "p"] = np.random.default_rng(1).random(int(is_test.sum()))
    perf2 = ev.performance_table(scrambled).set_index(["level", "model", "set"])
    pd.testing.assert_series_equal(perf["cutoff"], perf2["cutoff"])
    t = perf.xs("test", level="set")
    t2 = perf2.xs("test", level="set")
    assert not np.allclose(t["auc"], t2["auc"])
    # ...scrambling the apparent train predictions does not move it either (no nested rows
    # here: the cutoff is chosen on the out-of-fold cv predictions)...
    assert set(perf["cutoff_source"]) == {"cv"}
    scrambled = pred.copy()
    tr = scrambled["set"] == "train"
    scrambled.loc[tr, "p"] = np.random.default_rng(2).random(int(tr.sum()))
    perf3 = ev.performance_table(scrambled).set_index(["level", "model", "set"])
    pd.testing.assert_series_equal(perf["cutoff"], perf3["cutoff"])
    # ...and scrambling cv does
    scrambled = pred.copy()
    cv = scrambled["set"] == "cv"
    scrambled.loc[cv, "p"] = np.random.default_rng(2).random(int(cv.sum()))
    perf4 = ev.performance_table(scrambled).set_index(["level", "model", "set"])
    assert not np.allclose(perf["cutoff"], perf4["cutoff"])


def test_fixed_cutoff_and_bad_cutoff(pred):
    perf = ev.performance_table(pred, cutoff=0.52)
    assert (perf["cutoff"] == 0.52).all()
    with pytest.raises(ValueError, match="'youden' or a probability"):
        ev.performance_table(pred, cutoff="best")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        ev.performance_table(pred, cutoff=1.5)


def test_missing_column_and_bad_probability(pred):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['rad_score'\]"):
        ev.performance_table(pred.drop(columns="rad_score"))
    bad = pred.copy()
    bad.loc[0, "p"] = 2.3
    with pytest.raises(ValueError, match="outside \\[0, 1\\]; write probabilities"):
        ev.performance_table(bad)


def test_delong_table(pred):
    d = ev.delong_table(pred)
    assert list(d.columns[:8]) == ["level", "set", "model_a", "model_b", "auc_a", "auc_b", "z", "p"]
    assert len(d) == 2 * 2 * 3          # levels x (cv, test: never the apparent train) x pairs
    assert set(d["set"]) == {"cv", "test"}
    assert set(d["predictions"]) == {ev.SET_KINDS["cv"], ev.SET_KINDS["test"]}
    assert set(zip(d["model_a"], d["model_b"])) == set(ev.DELONG_PAIRS)
    perf = ev.performance_table(pred).set_index(["level", "model", "set"])
    row = d[(d["level"] == "level1") & (d["set"] == "test") & (d["model_b"] == "radiomics")].iloc[0]
    assert row["auc_a"] == pytest.approx(perf.loc[("level1", "combined", "test"), "auc"])
    assert 0 <= row["p"] <= 1


def test_calibration_table(pred):
    c = ev.calibration_table(pred)
    assert list(c.columns[:9]) == ["level", "model", "set", "brier", "hl_chi2", "hl_df", "hl_p",
                                   "slope", "intercept"]
    assert len(c) == 30
    assert c["brier"].between(0, 1).all()


def test_dca_table(pred):
    thr = ev.dca_thresholds(0.01, 0.99, 0.01)
    assert len(thr) == 99 and thr[-1] == 0.99
    d = ev.dca_table(pred, thr)
    assert list(d.columns) == ["level", "model", "set", "threshold", "net_benefit"]
    assert {"treat_all", "treat_none"} <= set(d["model"])
    none = d[d["model"] == "treat_none"]
    assert (none["net_benefit"] == 0).all()
    # treat-all at threshold t: prevalence - (1 - prevalence) t / (1 - t)
    lv = pred[(pred["level"] == "level1") & (pred["set"] == "test") & (pred["model"] == "combined")]
    prev = lv["y_true"].astype(float).mean()
    ta = d[(d["model"] == "treat_all") & (d["level"] == "level1") & (d["set"] == "test")]
    t = ta["threshold"].to_numpy()
    assert np.allclose(ta["net_benefit"], prev - (1 - prev) * t / (1 - t))
    with pytest.raises(ValueError, match="0 < start <= stop < 1"):
        ev.dca_thresholds(0.0, 1.0, 0.01)


def test_reclassification_table(pred):
    r = ev.reclassification_table(pred, n_boot=50, seed=1)
    assert list(r.columns[:10]) == ["level", "set", "model_new", "model_old", "nri", "nri_ci_low",
                                    "nri_ci_high", "idi", "idi_ci_low", "idi_ci_high"]
    assert len(r) == 2 * 1 * 2          # levels x test (no nested rows here) x pairs
    assert set(r["set"]) == {"test"}
    assert (r["nri_ci_low"] <= r["nri"]).all() and (r["nri"] <= r["nri_ci_high"]).all()
    r2 = ev.reclassification_table(pred, n_boot=50, seed=1)
    pd.testing.assert_frame_equal(r, r2)


def test_subgroup_table(pred):
    s = ev.subgroup_table(pred, ki67_cutoff=20)
    assert list(s.columns) == ["level", "model", "subgroup", "n", "events", "auc", "auc_ci_low",
                               "auc_ci_high", "p_difference", "note", "set", "p_interaction",
                               "calibration_slope", "calibration_intercept", "brier"]
    assert set(s["set"]) == {"test"} and s["p_interaction"].between(0, 1).all()
    assert len(s) == 2 * 2 * 2
    assert s["subgroup"].tolist()[:2] == ["Ki-67 < 20%", "Ki-67 >= 20%"]
    for _, g in s.groupby(["level", "model"]):
        assert g["p_difference"].nunique() == 1
        test = pred[(pred["set"] == "test") & (pred["level"] == g["level"].iloc[0])
                    & (pred["model"] == g["model"].iloc[0])]
        assert g["n"].sum() == len(test)
    assert ev.subgroup_labels(14) == ("Ki-67 < 14%", "Ki-67 >= 14%")
    assert ev.subgroup_kind("Ki-67 >= 14%") == "high"


def test_single_class_subgroup_gets_note_not_error(pred):
    one = pred.copy()
    # every low-Ki-67 test patient of level 2 is made an event: single class
    m = (one["level"] == "level2") & (one["set"] == "test") & (one["ki67"] < 20)
    one.loc[m, "y_true"] = 1
    s = ev.subgroup_table(one, ki67_cutoff=20)
    low = s[(s["level"] == "level2") & (s["subgroup"] == "Ki-67 < 20%")]
    assert low["auc"].isna().all()
    assert low["note"].str.contains("AUC undefined: all").all()
    assert s[s["level"] == "level2"]["p_difference"].isna().all()
    assert s[s["level"] == "level1"]["auc"].notna().all()


def test_extra_sets_are_ignored():
    with_cascade = make_predictions(cascade=True)
    pd.testing.assert_frame_equal(ev.performance_table(with_cascade),
                                  ev.performance_table(make_predictions()))


def test_evaluable_keeps_labelled_rows_of_the_evaluated_sets():
    df = make_predictions(n=60, cascade=True)
    df.loc[df.index[0], "p"] = np.nan           # an unscored row is left out
    out = ev.evaluable(df)
    assert set(out["set"]) == set(ev.SETS) & set(df["set"])
    assert out["y_true"].dtype == int and out["p"].notna().all()
    assert len(out) == int(df["set"].isin(ev.SETS).sum()) - 1
    bad = df.assign(y_true=df["y_true"].astype(float) * 2)
    with pytest.raises(ValueError, match=r"y_true must be 0/1, got \[2\]"):
        ev.evaluable(bad)


def test_tables_are_deterministic(tmp_path, pred):
    tabs = evaluation_tables(pred, n_boot=20, seed=3)
    write_tables(tabs, tmp_path / "a")
    write_tables(evaluation_tables(pred.sample(frac=1, random_state=4), n_boot=20, seed=3),
                 tmp_path / "b")
    assert set(tabs) == {"performance", "auc_delong", "calibration", "dca", "reclassification",
                         "subgroups", "internal_validation"}
    for name in tabs:
        a = (tmp_path / "a" / f"{name}.csv").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.csv").read_bytes(), name
        assert (tmp_path / "a" / f"{name}.md").exists()
