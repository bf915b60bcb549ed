"""The numbers behind the curve figures (alnburden.evaluation.curves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score, roc_curve
from test_evaluation import make_predictions

from alnburden.evaluation import curves as ec
from alnburden.evaluation import tables as ev
from alnburden.stats import brier, calibration_curve, calibration_slope_intercept, roc_band


@pytest.fixture(scope="module")
def pred():
    return make_predictions(cascade=True)


def _group(pred, level, model, set_):
    g = ev.evaluable(pred)
    g = g[(g["level"] == level) & (g["model"] == model) & (g["set"] == set_)]
    return g["y_true"].to_numpy(), g["p"].to_numpy()


def test_level_predictions_keep_the_evaluated_sets_of_one_level(pred):
    sub = ec.level_predictions(pred, "level2")
    assert set(sub["level"]) == {"level2"} and set(sub["set"]) == set(ev.SETS) & set(pred["set"])
    with pytest.raises(ValueError, match=r"no predictions for level 'level9'; levels present: "
                                         r"\['level1', 'level2'\]"):
        ec.level_predictions(pred, "level9")


def test_roc_curves_hold_sklearns_curve_delong_auc_and_the_operating_point(pred):
    cuts = ec.level_cutoffs(pred, "level1")
    roc = ec.roc_curves(pred, "level1", cutoffs=cuts, n_boot=30, random_state=4)
    assert roc.sets == ("train", "cv", "test") and roc.models == ev.PRIMARY_MODELS
    assert list(roc.summary.columns) == ec.ROC_SUMMARY_COLUMNS
    assert len(roc.summary) == 9
    y, p = _group(pred, "level1", "combined", "test")
    row = roc.summary[(roc.summary["set"] == "test") & (roc.summary["model"] == "combined")]
    row = row.iloc[0]
    assert row["auc"] == pytest.approx(roc_auc_score(y, p))
    assert row["auc_ci_low"] < row["auc"] < row["auc_ci_high"]
    assert (row["n"], row["events"]) == (len(y), y.sum())
    c = cuts["combined"]
    assert row["cutoff"] == c
    assert (row["cutoff_fpr"], row["cutoff_tpr"]) == (np.mean(p[y == 0] >= c),
                                                      np.mean(p[y == 1] >= c))
    curve = roc.curves[(roc.curves["set"] == "test") & (roc.curves["model"] == "combined")]
    fpr, tpr, _ = roc_curve(y, p)
    assert np.array_equal(curve["fpr"], fpr) and np.array_equal(curve["tpr"], tpr)
    band = roc.bands[(roc.bands["set"] == "test") & (roc.bands["model"] == "combined")]
    expected = roc_band(y, p, n_boot=30, random_state=4)    # same seed, same draws
    assert np.array_equal(band["lo"], expected["lo"]) and np.array_equal(band["hi"], expected["hi"])


def test_roc_curves_without_cutoffs_or_band_and_with_a_single_class_group(pred):
    one = pred.copy()
    sel = (one["level"] == "level1") & (one["set"] == "test") & (one["model"] == "clinical")
    one.loc[sel, "y_true"] = 1
    roc = ec.roc_curves(one, "level1", sets=("test", "nope"))
    assert roc.sets == ("test",) and roc.bands.empty
    assert roc.summary["model"].tolist() == ["radiomics", "combined"]   # clinical: one class
    assert roc.summary["cutoff_fpr"].isna().all()


def test_learners_and_the_chosen_one(pred):
    assert ec.learner_models(pred, "level1") == ["logistic", "random_forest"]
    assert ec.chosen_learner(pred, "level1", ["logistic", "random_forest"]) is None
    rad = pred[pred["model"] == "radiomics"]
    chosen = pd.concat([pred[pred["model"] != "random_forest"],
                        rad.assign(model="random_forest")], ignore_index=True)
    assert ec.chosen_learner(chosen, "level1", ["logistic", "random_forest"]) == "random_forest"
    primary = pred[pred["model"].isin(ev.PRIMARY_MODELS)]
    with pytest.raises(ValueError, match="level 'level1' has no learner predictions"):
        ec.learner_models(primary, "level1")


def test_calibration_curves_hold_the_binned_curve_brier_and_slope(pred):
    cal = ec.calibration_curves(pred, "level2")
    assert cal.sets == ("test", "train") and cal.models == ev.PRIMARY_MODELS
    assert list(cal.summary.columns) == ec.CALIBRATION_SUMMARY_COLUMNS
    y, p = _group(pred, "level2", "radiomics", "train")
    row = cal.summary[(cal.summary["set"] == "train") & (cal.summary["model"] == "radiomics")]
    row = row.iloc[0]
    assert row["brier"] == pytest.approx(brier(y, p))
    assert row["slope"] == pytest.approx(calibration_slope_intercept(y, p)["slope"])
    assert row["two_classes"] and row["n"] == len(y)
    bins = cal.bins[(cal.bins["set"] == "train") & (cal.bins["model"] == "radiomics")]
    expected = calibration_curve(y, p, n_bins=ec.auto_bins(len(y)))
    assert np.allclose(bins["obs_rate"], expected["obs_rate"])
    pts = cal.points[(cal.points["set"] == "train") & (cal.points["model"] == "radiomics")]
    assert np.array_equal(pts["p"], p)


def test_calibration_of_a_single_class_group_has_no_slope(pred):
    one = pred.copy()
    sel = (one["level"] == "level2") & (one["set"] == "test")
    one.loc[sel, "y_true"] = 0
    row = ec.calibration_curves(one, "level2", sets=("test",)).summary.iloc[0]
    assert not row["two_classes"] and np.isnan(row["slope"]) and row["events"] == 0


@pytest.mark.parametrize("n, n_bins, expected", [(20, None, 3), (130, None, 6),
                                                 (1000, None, 10), (1000, 4, 4)])
def test_auto_bins(n, n_bins, expected):
    assert ec.auto_bins(n, n_bins) == expected
