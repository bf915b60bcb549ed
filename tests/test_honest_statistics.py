"""Statistics that do not flatter: Hosmer-Lemeshow df off the training data, scaled Brier,
the integrated calibration index, and the subgroup interaction test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from alnburden.stats import calibration as cal
from alnburden.stats.interaction import interaction_lrt


def test_hosmer_lemeshow_df_is_g_off_the_training_data():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 500)
    y = (rng.random(500) < p).astype(int)
    dev = cal.hosmer_lemeshow(y, p, g=10)
    new = cal.hosmer_lemeshow(y, p, g=10, fitted=False)
    assert dev["df"] == 8 and new["df"] == 10 and dev["chi2"] == new["chi2"]
    assert new["p"] == pytest.approx(stats.chi2.sf(new["chi2"], 10))


def test_scaled_brier_against_its_definition():
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.1, 0.3, 0.6, 0.8, 0.4])
    brier = np.mean((p - y) ** 2)
    assert cal.scaled_brier(y, p) == pytest.approx(1 - brier / (0.6 * 0.4))
    assert cal.scaled_brier(y, np.full(5, 0.6)) == pytest.approx(0.0)   # prevalence model
    assert np.isnan(cal.scaled_brier(np.ones(4), np.full(4, 0.5)))


def test_ici_near_zero_when_calibrated_and_equal_to_the_known_miscalibration():
    """Outcomes drawn from q = 0.25 + p / 2 while the model says p: the true calibration
    error is |p - q| = |p / 2 - 0.25| (Austin & Steyerberg's definition), on average 1/8
    for p ~ U(0, 1); its median is 1/8 as well and its 90th percentile 0.225. (A linear
    miscalibration, which the local-linear LOWESS follows without bias.)"""
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 5000)
    good = cal.integrated_calibration_index((rng.random(p.size) < p).astype(int), p)
    bad = cal.integrated_calibration_index((rng.random(p.size) < 0.25 + p / 2).astype(int), p)
    assert good["ici"] < 0.015
    assert bad["ici"] == pytest.approx(1 / 8, abs=0.01)
    assert bad["e90"] == pytest.approx(0.225, abs=0.02)
    assert bad["e50"] <= bad["e90"] <= bad["emax"]


def test_interaction_lrt_matches_unpenalised_logistic_fits_by_sklearn():
    rng = np.random.default_rng(2)
    n = 600
    g = (rng.random(n) < 0.5).astype(int)
    lp = rng.normal(size=n)
    # the prediction is informative in group 0 only: a strong interaction
    y = (rng.random(n) < 1 / (1 + np.exp(-np.where(g == 0, 1.5 * lp, 0.0)))).astype(int)
    p = 1 / (1 + np.exp(-lp))
    res = interaction_lrt(y, p, g)

    def loglik(X):
        m = LogisticRegression(penalty=None, max_iter=1000, tol=1e-10).fit(X, y)
        q = m.predict_proba(X)[:, 1]
        return np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)), m

    ll0, _ = loglik(np.column_stack([lp, g]))
    ll1, m1 = loglik(np.column_stack([lp, g, lp * g]))
    assert res["lr"] == pytest.approx(2 * (ll1 - ll0), rel=1e-5)
    assert res["p"] < 1e-6
    assert res["slope_0"] == pytest.approx(m1.coef_[0][0], rel=1e-4)
    assert res["slope_1"] == pytest.approx(m1.coef_[0][0] + m1.coef_[0][2], abs=1e-4)


def test_interaction_lrt_is_uniform_without_interaction():
    rng = np.random.default_rng(3)
    ps = []
    for _ in range(200):
        g = (rng.random(300) < 0.4).astype(int)
        lp = rng.normal(size=300)
        y = (rng.random(300) < 1 / (1 + np.exp(-lp))).astype(int)
        ps.append(interaction_lrt(y, 1 / (1 + np.exp(-lp)), g)["p"])
    ps = np.array(ps)
    assert np.mean(ps < 0.05) < 0.10             # nominal size 5 % (binomial SD 1.5 %)
    assert stats.kstest(ps, "uniform").pvalue > 0.01


def test_interaction_lrt_undefined_cases():
    y = np.array([0, 1, 0, 1, 1, 1])
    g = np.array([0, 0, 0, 1, 1, 1])
    assert np.isnan(interaction_lrt(y, np.full(6, 0.5), g)["p"])        # group 1 all events
    with pytest.raises(ValueError, match="0/1 indicator"):
        interaction_lrt(y, np.full(6, 0.5), np.array([0, 1, 2, 0, 1, 2]))
