import numpy as np
import pandas as pd
import pytest

from alnburden.stats.dca import clinical_impact, decision_curve, default_thresholds, net_benefit

dcurves = pytest.importorskip("dcurves")


def _sim(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    lp = rng.normal(size=n) + 1.5 * y - 1.2
    p_good = 1 / (1 + np.exp(-lp))
    p_weak = 1 / (1 + np.exp(-(0.3 * lp + rng.normal(scale=0.8, size=n) - 0.5)))
    return y, {"combined": np.round(p_good, 2), "radiomics": p_weak}   # rounding: ties at pt


def test_equals_dcurves_everywhere():
    y, preds = _sim()
    thresholds = default_thresholds()          # 0.00 .. 0.99, hits the rounded scores exactly
    ours = decision_curve(y, preds, thresholds)
    data = pd.DataFrame({"y": y, **preds})
    ref = dcurves.dca(data=data, outcome="y", modelnames=list(preds), thresholds=thresholds)
    ref = ref.replace({"model": {"all": "treat_all", "none": "treat_none"}})
    merged = ours.merge(ref[["model", "threshold", "net_benefit"]], on=["model", "threshold"],
                        suffixes=("", "_ref"), validate="one_to_one")
    assert len(merged) == len(ours) == 4 * thresholds.size
    assert set(merged["model"]) == {"combined", "radiomics", "treat_all", "treat_none"}
    np.testing.assert_allclose(merged["net_benefit"], merged["net_benefit_ref"].astype(float),
                               rtol=0, atol=1e-10)


def test_net_benefit_by_hand():
    # y = 1 1 0 0 0, p = .8 .4 .6 .2 .1 at pt = 0.5: TP = 1 (0.8), FP = 1 (0.6)
    # NB = 1/5 - 1/5 * 0.5/0.5 = 0; at pt = 0.25: TP 2, FP 1 -> 2/5 - 1/5 * 1/3 = 1/3
    nb = net_benefit([1, 1, 0, 0, 0], [0.8, 0.4, 0.6, 0.2, 0.1], [0.5, 0.25])
    np.testing.assert_allclose(nb, [0.0, 1 / 3], atol=1e-15)
    # p == pt counts as treated
    assert net_benefit([1, 0], [0.3, 0.1], [0.3])[0] == pytest.approx(0.5)


def test_reference_strategies():
    y = np.array([1, 0, 0, 0])
    dc = decision_curve(y, {"m": [0.9, 0.1, 0.2, 0.3]}, [0.0, 0.2])
    all_nb = dc.loc[dc["model"] == "treat_all", "net_benefit"].to_numpy()
    np.testing.assert_allclose(all_nb, [0.25, 0.25 - 0.75 * 0.25])
    assert (dc.loc[dc["model"] == "treat_none", "net_benefit"] == 0).all()
    assert dc["model"].tolist()[:2] == ["m", "m"]


def test_clinical_impact():
    # 5 patients, pt = 0.35: high risk = p >= .35 -> .8, .4, .6 (3 of 5), events among them 2
    ci = clinical_impact([1, 1, 0, 0, 0], [0.8, 0.4, 0.6, 0.2, 0.1], [0.35], population=1000)
    assert ci["n_high_risk"].tolist() == [600.0]
    assert ci["n_high_risk_events"].tolist() == [400.0]
    y, preds = _sim()
    ci = clinical_impact(y, preds["combined"])
    assert ci["n_high_risk"].is_monotonic_decreasing
    assert (ci["n_high_risk_events"] <= ci["n_high_risk"]).all()


def test_errors():
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        net_benefit([0, 1], [0.2, 0.4], [0.5, 1.0])
    with pytest.raises(ValueError, match="reserved"):
        decision_curve([0, 1], {"treat_all": [0.2, 0.4]}, [0.1])
    with pytest.raises(ValueError, match="model 'x'.*length mismatch"):
        decision_curve([0, 1], {"x": [0.2, 0.4, 0.5]}, [0.1])
