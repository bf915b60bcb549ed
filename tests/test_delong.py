import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from alnburden.stats.delong import (auc_ci, auc_difference_test, delong_paired_test,
                                    delong_roc_covariance, delong_roc_variance)


def _sim(n=300, shift=1.0, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    s = rng.normal(size=n) + shift * y
    if ties:
        s = np.round(s, 1)       # many tied scores across and within classes
    return y, s


def _naive_delong(y, *scores):
    """O(m n) textbook DeLong (1988): psi kernel, structural components, covariances."""
    y = np.asarray(y)
    v10s, v01s, aucs = [], [], []
    for s in scores:
        x, w = s[y == 1], s[y == 0]
        psi = (x[:, None] > w[None, :]) + 0.5 * (x[:, None] == w[None, :])
        aucs.append(psi.mean())
        v10s.append(psi.mean(axis=1))
        v01s.append(psi.mean(axis=0))
    m, n = (y == 1).sum(), (y == 0).sum()
    cov = np.atleast_2d(np.cov(np.array(v10s))) / m + np.atleast_2d(np.cov(np.array(v01s))) / n
    return np.array(aucs), cov


@pytest.mark.parametrize("ties", [False, True])
def test_auc_equals_sklearn(ties):
    y, s = _sim(ties=ties)
    auc, _ = delong_roc_variance(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_hand_checked_tiny_example_with_tie():
    # events X = [0.8, 0.5, 0.4], non-events Y = [0.5, 0.3]
    # psi(x, y): 0.8 beats both (1, 1); 0.5 ties 0.5 and beats 0.3 (0.5, 1); 0.4 loses to 0.5,
    # beats 0.3 (0, 1)  -> AUC = (2 + 1.5 + 1) / 6 = 0.75
    # V10 (per event)     = [1, 0.75, 0.5]  -> sample var = (0.0625 + 0 + 0.0625) / 2 = 1/16
    # V01 (per non-event) = [(1 + 0.5 + 0)/3, 1] = [0.5, 1] -> sample var = 0.125 / 1 = 1/8
    # Var = (1/16) / 3 + (1/8) / 2 = 1/48 + 3/48 = 1/12
    y = [1, 1, 1, 0, 0]
    s = [0.8, 0.5, 0.4, 0.5, 0.3]
    auc, var = delong_roc_variance(y, s)
    assert auc == pytest.approx(0.75, abs=1e-15)
    assert var == pytest.approx(1 / 12, abs=1e-15)


def test_fast_equals_naive_covariance_two_models_with_ties():
    y, s1 = _sim(n=120, seed=3, ties=True)
    rng = np.random.default_rng(4)
    s2 = np.round(s1 + rng.normal(scale=0.8, size=y.size), 1)
    aucs, cov = delong_roc_covariance(y, s1, s2)
    aucs0, cov0 = _naive_delong(y, s1, s2)
    np.testing.assert_allclose(aucs, aucs0, atol=1e-12)
    np.testing.assert_allclose(cov, cov0, atol=1e-14)


def test_variance_agrees_with_bootstrap():
    y, s = _sim(n=300, seed=11)
    auc, var = delong_roc_variance(y, s)
    rng = np.random.default_rng(5)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    boot = []
    for _ in range(2000):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        boot.append(stats.mannwhitneyu(s[idx][y[idx] == 1], s[idx][y[idx] == 0]).statistic
                    / (pos.size * neg.size))
    var_boot = np.var(boot, ddof=1)
    assert abs(var / var_boot - 1) < 0.15, (var, var_boot)


def test_ci_contains_auc_and_is_clipped():
    y, s = _sim(n=200, seed=2)
    auc, lo, hi = auc_ci(y, s)
    _, var = delong_roc_variance(y, s)
    assert lo < auc < hi
    assert hi - lo == pytest.approx(2 * 1.959963984540054 * np.sqrt(var), rel=1e-9)
    # a nearly perfect classifier: normal interval clipped at 1, logit interval inside (0, 1)
    y2 = np.r_[np.ones(20), np.zeros(20)]
    s2 = np.r_[np.linspace(0.5, 2.0, 20), np.linspace(-1.0, 0.55, 20)]
    auc2, lo2, hi2 = auc_ci(y2, s2)
    assert hi2 == 1.0 and lo2 < auc2
    auc3, lo3, hi3 = auc_ci(y2, s2, method="logit")
    assert auc3 == auc2 and lo3 < auc3 < hi3 < 1.0
    # a 99 % interval is wider than a 95 % one
    _, lo99, hi99 = auc_ci(y, s, alpha=0.01)
    assert lo99 < lo and hi99 > hi


def test_paired_test_sign_and_p():
    y, s = _sim(n=300, seed=7, shift=1.5)
    rng = np.random.default_rng(8)
    noisy = s + rng.normal(scale=2.0, size=s.size)     # much worse model
    res = delong_paired_test(y, s, noisy)
    assert res["auc_a"] > res["auc_b"]
    assert res["z"] > 0 and res["p"] < 0.001
    flipped = delong_paired_test(y, noisy, s)
    assert flipped["z"] == pytest.approx(-res["z"])
    assert flipped["p"] == pytest.approx(res["p"])
    # identical rankings (monotone transform): no difference at all
    same = delong_paired_test(y, s, np.exp(s))
    assert same["z"] == 0.0 and same["p"] == 1.0
    # two similar models: not significant
    close = delong_paired_test(y, s, s + rng.normal(scale=0.05, size=s.size))
    assert close["p"] > 0.05
    # p agrees with the z by the normal law
    assert res["p"] == pytest.approx(2 * stats.norm.sf(abs(res["z"])))


def test_independent_groups_test():
    z, p = auc_difference_test(0.82, 0.004, 0.68, 0.005)
    assert z == pytest.approx(0.14 / np.sqrt(0.009))
    assert p == pytest.approx(2 * stats.norm.sf(z))
    assert np.isnan(auc_difference_test(0.8, np.nan, 0.7, 0.01)[0])
    with pytest.raises(ValueError, match="var1 must be a variance"):
        auc_difference_test(0.8, -0.1, 0.7, 0.01)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="single class"):
        delong_roc_variance([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="length mismatch"):
        delong_roc_variance([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="coded 0/1"):
        auc_ci([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="missing"):
        delong_paired_test([0, 1, 1], [0.1, np.nan, 0.3], [0.1, 0.2, 0.3])


def test_one_event_gives_nan_variance_not_crash():
    auc, var = delong_roc_variance([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3])
    assert auc == 1.0 and np.isnan(var)
    _, lo, hi = auc_ci([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3])
    assert np.isnan(lo) and np.isnan(hi)
