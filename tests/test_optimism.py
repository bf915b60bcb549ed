"""Bootstrap optimism correction (alnburden.modeling.optimism) against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.metrics import brier_score_loss, roc_auc_score

from alnburden.modeling.clinical import ClinicalSettings
from alnburden.modeling.optimism import (auc, bootstrap_settings, calibration_line,
                                         optimism_bootstrap, performance_indices)
from alnburden.schemas import load_schema

VARS = [{"name": "a", "type": "continuous"}, {"name": "b", "type": "binary"},
        {"name": "c", "type": "continuous"}]


def _settings(strategy="p_value", entry_p=0.05, retention_p=0.05):
    return ClinicalSettings.from_config({"clinical_strategy": strategy,
                                         "clinical_entry_p": entry_p,
                                         "clinical_retention_p": retention_p}, seed=0)


def _data(n=60, seed=0, signal=1.2):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 2, n),
                       "c": rng.normal(size=n)})
    y = (rng.random(n) < expit(-0.3 + signal * df["a"] + 0.8 * df["b"])).to_numpy().astype(int)
    return df, y


def _mle(X: np.ndarray, y: np.ndarray):
    """statsmodels fit with an intercept; its coefficients and Wald p-values."""
    res = sm.Logit(y, sm.add_constant(X, has_constant="add")).fit(disp=0)
    return np.asarray(res.params), np.asarray(res.pvalues)


def _reference_indices(y, lp):
    """The four indices computed with sklearn and statsmodels directly."""
    p = expit(lp)
    cal = sm.Logit(y, sm.add_constant(lp, has_constant="add")).fit(disp=0).params
    return {"auc": roc_auc_score(y, lp), "slope": cal[1], "intercept": cal[0],
            "brier": brier_score_loss(y, p)}


def _select_by_hand(df, y, entry_p=0.05, retention_p=0.05):
    """The p_value strategy written out with statsmodels (univariable, then multivariable)."""
    entered = [v for v in ("a", "b", "c")
               if _mle(df[[v]].to_numpy(float), y)[1][1] < entry_p]
    if not entered:
        return []
    p = _mle(df[entered].to_numpy(float), y)[1][1:]
    return [v for v, pv in zip(entered, p) if pv < retention_p]


def _lp_by_hand(df_fit, y_fit, predictors, df_eval):
    if not predictors:
        return np.full(len(df_eval), np.log(y_fit.mean() / (1 - y_fit.mean())))
    b, _ = _mle(df_fit[predictors].to_numpy(float), y_fit)
    return b[0] + df_eval[predictors].to_numpy(float) @ b[1:]


def test_auc_and_calibration_line_match_the_libraries():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    score = np.round(rng.normal(size=200) + y, 1)  # ties
    assert auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    a, b = calibration_line(y, score)
    ref = sm.Logit(y, sm.add_constant(score)).fit(disp=0).params
    assert (a, b) == pytest.approx(tuple(ref), rel=1e-7)
    assert np.isnan(calibration_line(y, np.zeros(200))).all()  # constant lp: no slope


def test_optimism_on_fixed_resamples_equals_the_hand_computation():
    """Three fixed resamples: the selection, the fits and the four indices done by hand."""
    df, y = _data()
    rng = np.random.default_rng(7)
    indices = [rng.integers(0, len(y), len(y)) for _ in range(3)]
    res = optimism_bootstrap(df, y, VARS, _settings(), n_boot=0, seed=0, indices=indices)
    preds0 = _select_by_hand(df, y)
    apparent = _reference_indices(y, _lp_by_hand(df, y, preds0, df))
    diffs = {m: [] for m in apparent}
    chosen = []
    for idx in indices:
        d_b, y_b = df.iloc[idx].reset_index(drop=True), y[idx]
        preds = _select_by_hand(d_b, y_b)
        chosen.append(preds)
        on_b = _reference_indices(y_b, _lp_by_hand(d_b, y_b, preds, d_b))
        on_orig = _reference_indices(y, _lp_by_hand(d_b, y_b, preds, df))
        for m in apparent:
            diffs[m].append(on_b[m] - on_orig[m])
    table = res.table[res.table["model"] == "clinical"].set_index("metric")
    for m in ("auc", "slope", "intercept", "brier"):
        optimism = np.mean(diffs[m])
        assert table.loc[m, "apparent"] == pytest.approx(apparent[m], abs=1e-7), m
        assert table.loc[m, "optimism"] == pytest.approx(optimism, abs=1e-7), m
        assert table.loc[m, "corrected"] == pytest.approx(apparent[m] - optimism, abs=1e-7), m
    assert table.loc["slope", "apparent"] == pytest.approx(1.0, abs=1e-8)  # rms: apparent 1, 0
    assert table.loc["intercept", "apparent"] == pytest.approx(0.0, abs=1e-8)
    assert (table["n_resamples"] == 3).all()
    stab = res.stability[res.stability["model"] == "clinical"].set_index("variable")
    for v in ("a", "b", "c"):
        assert stab.loc[v, "n_selected"] == sum(v in c for c in chosen)
        assert stab.loc[v, "selected"] == (v in preds0)


def test_combined_keeps_the_rad_score_and_matches_a_hand_fit():
    df, y = _data(n=80, seed=3, signal=0.6)
    rs = np.random.default_rng(4).normal(size=80) + 1.5 * (y - 0.5)
    idx = [np.random.default_rng(9).integers(0, 80, 80)]
    res = optimism_bootstrap(df, y, VARS, _settings(), n_boot=0, seed=0, rad_score=rs,
                             indices=idx)
    d = df.assign(rad_score=rs)
    preds0 = _select_by_hand(df, y)
    app = _reference_indices(y, _lp_by_hand(d, y, ["rad_score", *preds0], d))
    d_b, y_b = d.iloc[idx[0]].reset_index(drop=True), y[idx[0]]
    cols = ["rad_score", *_select_by_hand(d_b[["a", "b", "c"]], y_b)]
    on_b = _reference_indices(y_b, _lp_by_hand(d_b, y_b, cols, d_b))
    on_orig = _reference_indices(y, _lp_by_hand(d_b, y_b, cols, d))
    t = res.table[res.table["model"] == "combined"].set_index("metric")
    assert t.loc["auc", "apparent"] == pytest.approx(app["auc"], abs=1e-9)
    assert t.loc["auc", "optimism"] == pytest.approx(on_b["auc"] - on_orig["auc"], abs=1e-9)
    assert t.loc["brier", "optimism"] == pytest.approx(on_b["brier"] - on_orig["brier"],
                                                       abs=1e-9)
    stab = res.stability[res.stability["model"] == "combined"].set_index("variable")
    assert stab.loc["rad_score", "frequency"] == 1.0


def test_null_data_corrected_auc_falls_to_chance():
    """Labels independent of the variables: apparent AUC above 0.5, corrected near 0.5."""
    rng = np.random.default_rng(11)
    n = 150
    df = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(8)})
    y = rng.integers(0, 2, n)
    variables = [{"name": c, "type": "continuous"} for c in df.columns]
    res = optimism_bootstrap(df, y, variables, _settings("prespecified"), n_boot=60, seed=2)
    t = res.table.set_index("metric")
    assert t.loc["auc", "apparent"] > 0.6  # 8 noise variables fitted on 150 patients
    assert abs(t.loc["auc", "corrected"] - 0.5) < abs(t.loc["auc", "apparent"] - 0.5) / 2
    assert t.loc["slope", "corrected"] < 0.8  # the shrinkage a noise model needs
    assert t.loc["brier", "optimism"] < 0


def test_performance_indices_of_an_intercept_only_model():
    y = np.array([0, 1, 1, 0, 1])
    ind = performance_indices(y, np.zeros(5))
    assert ind["auc"] == 0.5 and np.isnan(ind["slope"])
    assert ind["brier"] == pytest.approx(0.25)


def test_bootstrap_defaults_come_from_the_schema():
    props = (load_schema("config.schema.yaml")["properties"]["internal_validation"]
             ["properties"]["bootstrap"]["properties"])
    assert bootstrap_settings(None) == {"n": props["n"]["default"],
                                        "seed": props["seed"]["default"]}
    assert bootstrap_settings({"n": 5})["n"] == 5
    assert props["n"]["default"] == 200


def test_missing_rad_score_is_an_error():
    df, y = _data()
    with pytest.raises(ValueError, match="1 training row"):
        optimism_bootstrap(df, y, VARS, _settings(), 2, 0,
                           rad_score=np.r_[np.nan, np.zeros(len(y) - 1)])


@pytest.mark.workflow
def test_bootstrap_rule_writes_its_tables_and_the_summary_line(tmp_path):
    """A tiny clinical-only cohort (no extraction, so the test stays cheap; the combined
    model's bootstrap is tested above): the rule per level, the table, the summary lines."""
    import yaml

    from conftest import run_workflow
    from test_partial_designs import Cell, write_cohort

    cell = Cell(images=False, ki67=True, two_levels=True, node_counts=True, clinical=True)
    manifest = write_cohort(cell, tmp_path / "cohort", n=60)
    config = cell.config(manifest)
    config["internal_validation"] = {"bootstrap": {"n": 25, "seed": 3}}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    work = tmp_path / "work"
    work.mkdir()
    run_workflow(configfile, work)
    results = work / "results"
    for level in ("level1", "level2"):
        boot = pd.read_csv(results / level / "internal_validation_bootstrap.csv")
        assert set(boot["model"]) == {"clinical"}
        assert set(boot["metric"]) == {"auc", "slope", "intercept", "brier"}
        assert (boot["n_resamples"] <= 25).all()
        assert (boot.loc[boot["metric"] == "auc", "n_resamples"] > 0).all()
        stab = pd.read_csv(results / level / "internal_validation_selection_stability.csv")
        assert stab["frequency"].between(0, 1).all()
    table = pd.read_csv(results / "tables" / "internal_validation.csv")
    assert list(table.columns[:8]) == ["level", "model", "metric", "apparent", "optimism",
                                       "corrected", "nested", "test"]
    auc_rows = table[table["metric"] == "auc"]
    assert auc_rows["test"].notna().all() and auc_rows["corrected"].notna().all()
    pred = pd.read_csv(results / "predictions.csv")
    if not (pred["set"] == "nested").any():
        assert table["nested"].isna().all()
    summary = (results / "summary.md").read_text()
    assert "## Internal validation (bootstrap optimism correction)" in summary
    assert "level1 clinical: apparent AUC" in summary
