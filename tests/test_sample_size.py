"""Riley et al. minimum sample size (alnburden.stats.sample_size) against published examples.

Reference: Riley RD et al., Minimum sample size for developing a multivariable prediction
model: PART II - binary and time-to-event outcomes, Stat Med 2019;38:1276-1296 (its
diagnostic model for Chagas disease; the same example is the binary-outcome example of the
pmsampsize documentation, ``pmsampsize(type = "b", csrsquared = 0.288, parameters = 24,
prevalence = 0.174)``, and the paper's abstract states its EPP of 4.8). Published results:
criterion (i) 623, (ii) 662, (iii) 221 participants; minimum 662 with 115 events, EPP 4.8,
max Cox-Snell R2 0.603 and Nagelkerke R2 0.477.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alnburden.evaluation.sample_size import candidate_parameters, sample_size_table
from alnburden.stats.sample_size import (cox_snell_r2, max_cox_snell_r2, nagelkerke_r2,
                                         riley_binary)


def test_chagas_worked_example():
    ss = riley_binary(24, 0.174, 0.288)
    assert (ss.n_shrinkage, ss.n_optimism, ss.n_risk) == (623, 662, 221)
    assert ss.n_min == 662 and ss.events_min == 115 and round(ss.epp, 1) == 4.8
    assert ss.binding == "optimism"
    assert round(ss.max_r2cs, 3) == 0.603 and round(ss.nagelkerke, 3) == 0.477
    assert round(ss.shrinkage_optimism, 3) == 0.905


def test_criterion_three_is_the_wald_interval_of_a_proportion():
    # (1.96 / 0.05)^2 * 0.5 * 0.5 = 384.16 -> 385
    assert riley_binary(5, 0.5, 0.2).n_risk == 385


def test_r2_of_fitted_logistic_model_matches_its_log_likelihoods():
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = rng.random(400) < 1 / (1 + np.exp(-(0.3 + 1.2 * x)))
    fit = sm.Logit(y.astype(float), sm.add_constant(x)).fit(disp=0)
    expected = 1 - np.exp(2 * (fit.llnull - fit.llf) / len(y))
    assert cox_snell_r2(y, fit.predict()) == pytest.approx(expected, rel=1e-9)
    assert nagelkerke_r2(y, fit.predict()) == pytest.approx(
        expected / max_cox_snell_r2(y.mean()), rel=1e-9)


@pytest.mark.parametrize("args, match", [
    ((0, 0.2, 0.1), "parameters must be >= 1"),
    ((5, 1.2, 0.1), "prevalence must be in"),
    ((5, 0.1, 0.5), "largest a prevalence of 0.1 allows"),
])
def test_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        riley_binary(*args)


def test_candidate_parameters_count_the_coding():
    variables = [{"name": "age", "type": "continuous"}, {"name": "er", "type": "binary"},
                 {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]},
                 {"name": "subtype", "type": "categorical", "levels": ["a", "b", "c", "d"]}]
    assert candidate_parameters(variables) == 1 + 1 + 1 + 1 + 3
    with pytest.raises(ValueError, match="type 'spline'"):
        candidate_parameters([{"name": "x", "type": "spline"}])


def test_sample_size_table_from_predictions():
    rng = np.random.default_rng(1)
    n = 300
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.1, n), 0.01, 0.99)
    pred = pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "level": "level1",
                         "set": "train", "model": "combined", "y_true": y, "p": p})
    table = sample_size_table(pred, [{"name": "ki67", "type": "continuous"}], ["level1"])
    row = table.iloc[0]
    assert row["n"] == n and row["events"] == y.sum() and row["parameters"] == 2
    ss = riley_binary(2, y.mean(), cox_snell_r2(y, p))
    assert row["n_min"] == ss.n_min and bool(row["adequate"]) == (n >= ss.n_min)
    one_class = pred.assign(y_true=0)
    assert "not computed" in sample_size_table(one_class, [], ["level1"]).iloc[0]["note"]
