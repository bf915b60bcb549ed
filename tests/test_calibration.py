import numpy as np
import pytest
from scipy import stats

from alnburden.stats.calibration import (brier, calibration_curve, calibration_slope_intercept,
                                         hosmer_lemeshow, risk_groups, smoothed_calibration)


def _calibrated(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    lp = rng.normal(-0.3, 1.2, size=n)
    p = 1 / (1 + np.exp(-lp))
    y = (rng.random(n) < p).astype(int)
    return y, p


def test_hosmer_lemeshow_hand_example():
    # p = .1 .2 .3 .4 .6 .8, y = 0 0 1 0 1 1, g = 3.
    # quantile breaks (type 7): 0.1, 0.2667, 0.4667, 0.8 -> groups {.1,.2} {.3,.4} {.6,.8}
    # group 1: O1=0 E1=0.3 (0.09/0.3=0.3);      O0=2 E0=1.7 (0.09/1.7=0.052941)
    # group 2: O1=1 E1=0.7 (0.09/0.7=0.128571); O0=1 E0=1.3 (0.09/1.3=0.069231)
    # group 3: O1=2 E1=1.4 (0.36/1.4=0.257143); O0=0 E0=0.6 (0.36/0.6=0.6)
    # chi2 = 1.407886, df = 3 - 2 = 1
    y = [0, 0, 1, 0, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.6, 0.8]
    assert risk_groups(p, 3).tolist() == [0, 0, 1, 1, 2, 2]
    hl = hosmer_lemeshow(y, p, g=3)
    chi2 = 0.3 + 0.09 / 1.7 + 0.09 / 0.7 + 0.09 / 1.3 + 0.36 / 1.4 + 0.6
    assert hl["chi2"] == pytest.approx(chi2, abs=1e-12)
    assert hl["df"] == 1
    assert hl["p"] == pytest.approx(stats.chi2.sf(chi2, 1))


def test_hosmer_lemeshow_ties_reduce_groups():
    # 3 distinct predicted risks only: at most 3 groups, df = 1, never 8
    rng = np.random.default_rng(1)
    p = rng.choice([0.1, 0.3, 0.6], size=300)
    y = (rng.random(300) < p).astype(int)
    hl = hosmer_lemeshow(y, p, g=10)
    assert hl["groups"] == 3 and hl["df"] == 1
    assert np.isfinite(hl["p"])
    # a constant prediction gives one group: no test possible
    hl1 = hosmer_lemeshow([0, 1, 1, 0], [0.5] * 4)
    assert hl1["df"] == -1 and np.isnan(hl1["p"])


def test_calibrated_data_passes_and_squared_fails():
    y, p = _calibrated()
    hl = hosmer_lemeshow(y, p)
    assert hl["df"] == 8 and hl["p"] > 0.01
    cal = calibration_slope_intercept(y, p)
    assert cal["slope"] == pytest.approx(1.0, abs=0.12)
    assert cal["intercept"] == pytest.approx(0.0, abs=0.12)
    assert cal["slope_ci_low"] < 1 < cal["slope_ci_high"]
    assert cal["intercept_ci_low"] < 0 < cal["intercept_ci_high"]
    # p^2 under-predicts badly
    bad = hosmer_lemeshow(y, p ** 2)
    assert bad["p"] < 1e-6
    cal_bad = calibration_slope_intercept(y, p ** 2)
    assert cal_bad["intercept"] > 0.5           # calibration-in-the-large: under-prediction
    # overfitted predictions (logit doubled) give a slope near 1/2
    lp = np.log(p / (1 - p))
    over = calibration_slope_intercept(y, 1 / (1 + np.exp(-2 * lp)))
    assert over["slope"] == pytest.approx(0.5, abs=0.08)


def test_brier_by_hand():
    # ((0.9-1)^2 + (0.2-0)^2 + (0.6-1)^2 + (0.5-0)^2) / 4 = (0.01+0.04+0.16+0.25)/4 = 0.115
    assert brier([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.5]) == pytest.approx(0.115)


def test_calibration_curve_bins_and_wilson():
    y, p = _calibrated(n=1000, seed=3)
    cc = calibration_curve(y, p, n_bins=10)
    assert list(cc.columns) == ["bin", "p_mean", "obs_rate", "n", "events", "ci_low", "ci_high"]
    assert len(cc) == 10 and cc["n"].sum() == 1000
    assert cc["n"].min() >= 99 and cc["p_mean"].is_monotonic_increasing
    assert ((cc["ci_low"] <= cc["obs_rate"]) & (cc["obs_rate"] <= cc["ci_high"])).all()
    # calibrated: the observed rate lies inside the Wilson band in most bins
    inside = (cc["ci_low"] <= cc["p_mean"]) & (cc["p_mean"] <= cc["ci_high"])
    assert inside.sum() >= 8
    cu = calibration_curve(y, p, n_bins=5, strategy="uniform")
    assert cu["n"].sum() == 1000 and len(cu) <= 5
    # tiny hand case, uniform bins [0, .5] and (.5, 1]
    cu2 = calibration_curve([0, 1, 1, 1], [0.2, 0.4, 0.6, 0.9], n_bins=2, strategy="uniform")
    assert cu2["n"].tolist() == [2, 2] and cu2["obs_rate"].tolist() == [0.5, 1.0]
    assert cu2["p_mean"].tolist() == pytest.approx([0.3, 0.75])
    with pytest.raises(ValueError, match="strategy must be"):
        calibration_curve(y, p, strategy="kmeans")


def test_smoothed_calibration_follows_diagonal():
    y, p = _calibrated(n=600, seed=4)
    sm = smoothed_calibration(y, p, n_boot=50, random_state=0)
    assert list(sm.columns) == ["p", "obs_smooth", "ci_low", "ci_high"]
    mid = sm[(sm["p"] > 0.2) & (sm["p"] < 0.8)]
    assert np.max(np.abs(mid["obs_smooth"] - mid["p"])) < 0.1
    assert (mid["ci_low"] <= mid["obs_smooth"] + 1e-12).all()
    assert (mid["obs_smooth"] <= mid["ci_high"] + 1e-12).all()
    again = smoothed_calibration(y, p, n_boot=50, random_state=0)
    assert again.equals(sm)


def test_constant_prediction_has_no_slope():
    cal = calibration_slope_intercept([0, 0, 1, 1, 0, 1], [0.5] * 6)
    assert np.isnan(cal["slope"]) and np.isnan(cal["intercept_joint"])
    assert cal["intercept"] == pytest.approx(0.0, abs=1e-9)      # 3/6 observed = 0.5 predicted


def test_input_validation():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        hosmer_lemeshow([0, 1], [0.2, 1.3])
    with pytest.raises(ValueError, match="length mismatch"):
        brier([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="single class"):
        calibration_slope_intercept([1, 1, 1], [0.2, 0.3, 0.4])
