import numpy as np
import pytest

from alnburden.stats.delong import delong_roc_variance
from alnburden.stats.reclassification import bootstrap_ci, idi, nri_continuous

# Tiny example used below (4 events, 4 non-events):
#   y      1    1    1    1    0    0    0    0
#   p_old .60  .50  .40  .30  .40  .30  .20  .20
#   p_new .70  .40  .50  .30  .30  .40  .10  .20
#   move   up  down  up  same down  up  down same
Y = [1, 1, 1, 1, 0, 0, 0, 0]
P_OLD = [0.6, 0.5, 0.4, 0.3, 0.4, 0.3, 0.2, 0.2]
P_NEW = [0.7, 0.4, 0.5, 0.3, 0.3, 0.4, 0.1, 0.2]


def test_nri_by_hand():
    # events: up 2/4, down 1/4 -> 0.25; non-events: down 2/4, up 1/4 -> 0.25; NRI = 0.5
    res = nri_continuous(Y, P_NEW, P_OLD)
    assert res["nri_events"] == pytest.approx(0.25)
    assert res["nri_nonevents"] == pytest.approx(0.25)
    assert res["nri"] == pytest.approx(0.5)
    # swapping the models flips every sign
    rev = nri_continuous(Y, P_OLD, P_NEW)
    assert rev["nri"] == pytest.approx(-0.5)


def test_idi_by_hand():
    # events: mean new (0.7+0.4+0.5+0.3)/4 = 0.475, mean old (0.6+0.5+0.4+0.3)/4 = 0.45
    # non-events: mean new (0.3+0.4+0.1+0.2)/4 = 0.25, mean old (0.4+0.3+0.2+0.2)/4 = 0.275
    # slope_new = 0.475 - 0.25 = 0.225, slope_old = 0.45 - 0.275 = 0.175
    # IDI = 0.225 - 0.175 = 0.05 = (0.475-0.45) - (0.25-0.275) = 0.025 + 0.025
    res = idi(Y, P_NEW, P_OLD)
    assert res["idi"] == pytest.approx(0.05)
    assert res["idi_events"] == pytest.approx(0.025)
    assert res["idi_nonevents"] == pytest.approx(0.025)
    assert res["slope_new"] == pytest.approx(0.225)
    assert res["slope_old"] == pytest.approx(0.175)
    assert res["relative_idi"] == pytest.approx(0.05 / 0.175)


def test_identical_models_give_zero():
    assert nri_continuous(Y, P_OLD, P_OLD)["nri"] == 0
    assert idi(Y, P_OLD, P_OLD)["idi"] == 0


def test_bootstrap_ci_brackets_and_is_reproducible():
    rng = np.random.default_rng(0)
    n = 300
    y = (rng.random(n) < 0.4).astype(int)
    lp_old = 0.8 * y + rng.normal(size=n) - 0.4
    lp_new = lp_old + 0.8 * y + rng.normal(scale=0.5, size=n) - 0.3
    p_old, p_new = 1 / (1 + np.exp(-lp_old)), 1 / (1 + np.exp(-lp_new))
    est = idi(y, p_new, p_old)["idi"]
    lo, hi = bootstrap_ci(idi, y, p_new, p_old, n_boot=300, key="idi")
    assert lo < est < hi and lo > 0
    assert bootstrap_ci(idi, y, p_new, p_old, n_boot=300, key="idi") == (lo, hi)
    # a float-valued statistic; the bootstrap SE of the AUC is close to DeLong's
    def auc(yy, pp):
        return delong_roc_variance(yy, pp)[0]
    lo_a, hi_a = bootstrap_ci(auc, y, p_new, n_boot=400, random_state=1)
    _, var = delong_roc_variance(y, p_new)
    assert (hi_a - lo_a) / (2 * 1.96) == pytest.approx(np.sqrt(var), rel=0.2)


def test_bootstrap_is_stratified():
    seen = []

    def record(yy, pp):
        seen.append(int(yy.sum()))
        return 0.0

    bootstrap_ci(record, Y, P_NEW, n_boot=50)
    assert set(seen) == {4}


def test_errors():
    with pytest.raises(ValueError, match="pass key="):
        bootstrap_ci(idi, Y, P_NEW, P_OLD, n_boot=5)
    with pytest.raises(ValueError, match="length mismatch"):
        nri_continuous(Y, P_NEW[:-1], P_OLD)
    with pytest.raises(ValueError, match="single class"):
        idi([1, 1], [0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"p_new must be probabilities"):
        idi([0, 1], [0.2, 1.3], [0.1, 0.2])
