"""The clinical arm's estimates against the truth (:mod:`alnburden.tools.clinical_truth`)."""

import numpy as np
import pandas as pd
import pytest
import yaml

from alnburden.simulate.cohort import simulate_tables
from alnburden.tools.clinical_truth import ESTIMATES, bias_table, main, seed_estimates
from alnburden.tools.runs import DEFAULT_CONFIG


def test_bias_table_by_hand():
    runs = pd.DataFrame({"seed": [1, 2], "level": "l", "apparent": [0.9, 0.8],
                         "nested": [0.6, 0.7], "nested_fold_mean": [0.6, 0.7],
                         "corrected": [0.7, 0.7], "test": [0.5, 0.9], "true": [0.7, 0.7]})
    t = bias_table(runs).set_index("estimate")
    assert t.loc["apparent", "bias"] == pytest.approx(0.15)
    assert t.loc["nested", "bias"] == pytest.approx(-0.05)
    # test - true: -0.2, +0.2 -> SD 0.2828, SE 0.2
    assert t.loc["test", "sd"] == pytest.approx(0.2 * np.sqrt(2))
    assert t.loc["test", "se"] == pytest.approx(0.2)
    assert list(t.index) == list(ESTIMATES)


def test_seed_one_is_the_workflows_clinical_arm():
    """Seed 1 of the default config: the level-2 training set, clinical model and nested CV
    (10 outer folds) of the workflow's run of that seed (its tables: n = 211, 91 events;
    apparent AUC 0.7768, test 0.6583; repeat_aucs.csv: nested 0.7059, fold mean 0.7193)."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    population = simulate_tables(2000, seed=987654).assign(set="test")
    rows = {r["level"]: r for r in seed_estimates(1, config, population, n_boot=10)}
    two = rows["level2"]
    assert (two["n"], two["events"]) == (211, 91)
    for key, value in [("apparent", 0.7768), ("test", 0.6583), ("nested", 0.7059),
                       ("nested_fold_mean", 0.7193)]:
        assert two[key] == pytest.approx(value, abs=1e-4), key
    for r in rows.values():
        assert all(0 < r[k] < 1 for k in (*ESTIMATES, "true"))
        assert r["apparent"] > r["nested"]           # the optimism nested CV removes


def test_main_writes_the_bias_table(tmp_path):
    import logging

    level = logging.getLogger("alnburden").level
    main(["--seeds", "3", "5", "--boot", "5", "--population", "1500", "--folds", "3",
          "--strategy", "prespecified", "--out", str(tmp_path)])
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert sorted(runs["seed"].unique()) == [3, 4]
    assert (runs["predictors"] == 9).all()           # prespecified: every declared variable
    bias = pd.read_csv(tmp_path / "bias.csv")
    assert len(bias) == 2 * len(ESTIMATES) and (bias["n_seeds"] == 2).all()
    assert logging.getLogger("alnburden").level == level       # no state left behind
