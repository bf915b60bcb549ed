import numpy as np
import pytest
from sklearn.metrics import roc_curve
from statsmodels.stats.proportion import proportion_confint

from alnburden.stats.rates import operating_point, wilson_ci, youden_cutoff


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 10), (10, 10), (37, 92), (52, 131), (1, 1)])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_wilson_equals_statsmodels(k, n, alpha):
    lo, hi = wilson_ci(k, n, alpha=alpha)
    lo0, hi0 = proportion_confint(k, n, alpha=alpha, method="wilson")
    assert lo == pytest.approx(lo0, abs=1e-12)
    assert hi == pytest.approx(hi0, abs=1e-12)


def test_wilson_vectorised_and_empty():
    lo, hi = wilson_ci(np.array([0, 3, 7]), np.array([0, 10, 7]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    lo0, hi0 = proportion_confint(np.array([3, 7]), np.array([10, 7]), method="wilson")
    np.testing.assert_allclose(lo[1:], lo0, atol=1e-12)
    np.testing.assert_allclose(hi[1:], hi0, atol=1e-12)
    assert wilson_ci(0, 0) == (pytest.approx(np.nan, nan_ok=True),
                               pytest.approx(np.nan, nan_ok=True))
    # hand value: k=5, n=10, z=1.96: centre 0.5, half = 1.96/13.8416*sqrt(2.5+0.9604) = 0.2634
    lo, hi = wilson_ci(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson_ci(11, 10)


def test_operating_point_by_hand():
    # cutoff 0.5 (positive if p >= 0.5):
    #   y=1: p 0.9, 0.6, 0.5 -> TP (0.5 counts as positive), 0.2 -> FN       : TP 3, FN 1
    #   y=0: p 0.7 -> FP; 0.4, 0.3, 0.1, 0.45 -> TN                          : FP 1, TN 4
    y = [1, 1, 1, 1, 0, 0, 0, 0, 0]
    p = [0.9, 0.6, 0.5, 0.2, 0.7, 0.4, 0.3, 0.1, 0.45]
    op = operating_point(y, p, 0.5)
    assert (op["tp"], op["fn"], op["fp"], op["tn"]) == (3, 1, 1, 4)
    assert (op["n"], op["events"]) == (9, 4)
    assert op["sensitivity"] == pytest.approx(3 / 4)
    assert op["specificity"] == pytest.approx(4 / 5)
    assert op["accuracy"] == pytest.approx(7 / 9)
    assert op["ppv"] == pytest.approx(3 / 4)
    assert op["npv"] == pytest.approx(4 / 5)
    lo, hi = proportion_confint(7, 9, method="wilson")
    assert op["accuracy_ci_low"] == pytest.approx(lo)
    assert op["accuracy_ci_high"] == pytest.approx(hi)
    for rate in ("sensitivity", "specificity", "accuracy", "ppv", "npv"):
        assert op[f"{rate}_ci_low"] <= op[rate] <= op[f"{rate}_ci_high"]


def test_operating_point_no_predicted_positive_gives_nan_ppv():
    op = operating_point([0, 1, 0], [0.1, 0.2, 0.3], cutoff=0.9)
    assert op["tp"] == 0 and op["fp"] == 0
    assert np.isnan(op["ppv"]) and np.isnan(op["ppv_ci_low"])
    assert op["npv"] == pytest.approx(2 / 3)


def test_youden_matches_exhaustive_search_and_roc_curve():
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.35).astype(int)
    p = np.round(1 / (1 + np.exp(-(rng.normal(size=200) + 1.2 * y - 0.5))), 2)   # ties
    c = youden_cutoff(y, p)
    op = operating_point(y, p, c)
    j = op["sensitivity"] + op["specificity"] - 1
    fpr, tpr, _ = roc_curve(y, p)
    assert j == pytest.approx(np.max(tpr - fpr), abs=1e-12)
    # the cutoff is a midpoint between two observed scores, not a training score itself
    assert not np.isclose(p, c).any()


def test_youden_hand_example():
    # scores 0.1 0.2 0.3 | 0.35 0.6 0.8 with y 0 0 1 | 0 1 1
    # cutoff s = 0.3 -> TP 3/3, TN 2/3: J = 0.667; s = 0.6 -> TP 2/3, TN 3/3: J = 0.667 (tie)
    # tie broken towards the highest cutoff: s = 0.6 -> midpoint with 0.35 -> 0.475
    y = [0, 0, 1, 0, 1, 1]
    p = [0.1, 0.2, 0.3, 0.35, 0.6, 0.8]
    assert youden_cutoff(y, p) == pytest.approx(0.475)


def test_errors():
    with pytest.raises(ValueError, match="single class"):
        youden_cutoff([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="length mismatch"):
        operating_point([1, 0], [0.2, 0.3, 0.4], 0.5)
    with pytest.raises(ValueError, match="cutoff must be a finite"):
        operating_point([1, 0], [0.2, 0.3], np.nan)
