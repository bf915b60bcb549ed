"""Clinical predictor strategies, ordinal codings, EPV / VIF (alnburden.modeling.clinical)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy.special import expit
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from statsmodels.stats.outliers_influence import variance_inflation_factor

from alnburden.figures.nomogram import draw_nomograms
from alnburden.modeling.clinical import (ClinicalSettings, LogisticModel, coding_of,
                                         design_matrix, epv, select_clinical_predictors, vif)
from alnburden.modeling.nomogram import has_predictor, nomogram_from_model

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
SUBTYPES = ["luminal_a", "luminal_b", "her2_enriched", "triple_negative"]
ALN = {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]}
VARIABLES = [
    {"name": "age", "type": "continuous"},
    {"name": "er", "type": "binary"},
    {"name": "ki67", "type": "continuous"},
    {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]},
    {"name": "subtype", "type": "categorical", "levels": SUBTYPES},
    ALN,
]


def _settings(strategy, **kw):
    return ClinicalSettings.from_config({"clinical_strategy": strategy, **kw}, seed=0)


def _cohort(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.normal(52, 10, n).round(), "er": rng.integers(0, 2, n),
        "ki67": rng.uniform(1, 80, n).round(), "grade": rng.integers(1, 4, n),
        "subtype": rng.choice(SUBTYPES, n), "aln_us_class": rng.integers(1, 7, n)})
    lp = -3 + 0.04 * df["ki67"] + 1.6 * (df["aln_us_class"] >= 5)
    return df, (rng.random(n) < expit(lp)).to_numpy().astype(int)


def test_prespecified_keeps_every_variable_and_equals_statsmodels():
    df, y = _cohort()
    res = select_clinical_predictors(df, y, VARIABLES, _settings("prespecified"))
    assert res.predictors == [v["name"] for v in VARIABLES]
    assert res.table["entered"].all() and res.table["independent"].all()
    D = sm.add_constant(design_matrix(df, VARIABLES))
    ref = sm.Logit(y, D).fit(disp=0)
    np.testing.assert_allclose(res.model.coef_, ref.params.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(res.model.predict_proba(df)[:, 1], ref.predict(D), rtol=1e-7)


def test_penalized_selects_the_signal_shrinks_and_draws_a_nomogram():
    df, y = _cohort()
    res = select_clinical_predictors(df, y, VARIABLES, _settings("penalized"))
    assert {"ki67", "aln_us_class"} <= set(res.predictors)
    model = res.model
    assert model.method_ == "penalized" and np.isnan(model.cov_).all()
    mle = LogisticModel(VARIABLES).fit(df, y)
    k = model.terms_.index("ki67")
    assert 0 < model.coef_[k] <= mle.coef_[mle.terms_.index("ki67")]  # shrunken towards 0
    lp = model.decision_function(df)
    np.testing.assert_allclose(model.predict_proba(df)[:, 1], expit(lp))
    assert (res.table["multivariable_method"] == "penalized").all()
    nom = nomogram_from_model(model)
    rows = df.head(5).assign(**{t: design_matrix(df.head(5), VARIABLES)[t]
                                for t in model.terms_[1:]})
    np.testing.assert_allclose(nom.predict_proba(rows), model.predict_proba(df.head(5))[:, 1],
                               rtol=1e-9)
    # the same seed gives the same penalized model
    again = select_clinical_predictors(df, y, VARIABLES, _settings("penalized")).model
    np.testing.assert_array_equal(again.coef_, model.coef_)


@pytest.mark.parametrize("coding, terms", [
    ("linear", ["aln_us_class"]),
    ("categorical", [f"aln_us_class[{k}]" for k in range(2, 7)]),
    ({"threshold": 5}, ["aln_us_class>=5"]),
])
def test_ordinal_codings_fit_and_their_nomogram_reproduces_the_model(coding, terms, tmp_path):
    df, y = _cohort()
    spec = {**ALN, "coding": coding}
    D = design_matrix(df, [spec])
    assert list(D.columns) == terms
    if coding == {"threshold": 5}:
        np.testing.assert_array_equal(D["aln_us_class>=5"], (df["aln_us_class"] >= 5) * 1.0)
    if coding == "categorical":
        np.testing.assert_array_equal(D["aln_us_class[5]"], (df["aln_us_class"] == 5) * 1.0)
        assert (D[df["aln_us_class"] == 1] == 0).all().all()  # class 1 is the reference
    specs = [{"name": "rad_score", "type": "continuous"}, {"name": "ki67", "type": "continuous"},
             spec]
    data = df.assign(rad_score=np.random.default_rng(2).normal(size=len(df)))
    model = LogisticModel(specs).fit(data, y)
    ref = sm.Logit(y, sm.add_constant(design_matrix(data, specs))).fit(disp=0)
    np.testing.assert_allclose(model.coef_, ref.params.to_numpy(), rtol=1e-7)
    nom = nomogram_from_model(model)
    head = data.head(8)
    x = pd.concat([head[["rad_score", "ki67"]], design_matrix(head, [spec])], axis=1)
    np.testing.assert_allclose(nom.predict_proba(x), model.predict_proba(head)[:, 1], rtol=1e-9)
    joblib.dump(model, tmp_path / "combined.joblib")
    files = draw_nomograms(tmp_path, "level1", tmp_path / "nomogram.png",
                           points_csv=tmp_path / "points.csv")
    assert all(Path(f).is_file() for f in files)
    labels = set(pd.read_csv(tmp_path / "points.csv")["label"])
    assert "ALN US class" in labels or any(lb.startswith("ALN US class:") for lb in labels)


def test_coding_errors_name_the_variable_and_the_fix():
    with pytest.raises(ValueError, match="'age' .* only ordinal variables take a coding"):
        coding_of({"name": "age", "type": "continuous", "coding": "categorical"})
    with pytest.raises(ValueError, match="threshold 9 must lie above the lowest"):
        coding_of({**ALN, "coding": {"threshold": 9}})
    with pytest.raises(ValueError, match="use linear, categorical or"):
        coding_of({**ALN, "coding": "quadratic"})
    with pytest.raises(ValueError, match=r"value\(s\) \[7.0\] outside its levels"):
        design_matrix(pd.DataFrame({"aln_us_class": [1, 7]}), [{**ALN, "coding": "categorical"}])
    assert coding_of({"name": "er", "type": "binary", "coding": "linear"}) == "linear"


def _config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("coding, ok", [
    ("linear", True), ("categorical", True), ({"threshold": 5}, True),
    ("quadratic", False), ({"cut": 5}, False),
])
def test_schema_validates_the_coding(coding, ok):
    config = _config()
    aln = next(v for v in config["clinical"]["variables"] if v["name"] == "aln_us_class")
    aln["coding"] = coding
    if ok:
        validate(config, schema=SCHEMA)
    else:
        with pytest.raises(WorkflowError):
            validate(config, schema=SCHEMA)


def test_schema_refuses_a_coding_on_a_non_ordinal_variable():
    config = _config()
    config["clinical"]["variables"][0]["coding"] = {"threshold": 40}  # age, continuous
    with pytest.raises(WorkflowError):
        validate(config, schema=SCHEMA)
    config = copy.deepcopy(_config())
    config["models"]["clinical_strategy"] = "stepwise"
    with pytest.raises(WorkflowError, match="stepwise"):
        validate(config, schema=SCHEMA)


def test_vif_matches_statsmodels_and_epv_counts_parameters():
    df, y = _cohort()
    D = design_matrix(df, VARIABLES)
    ours = vif(D)
    X = sm.add_constant(D).to_numpy(float)
    for j, col in enumerate(D.columns):
        assert ours[col] == pytest.approx(variance_inflation_factor(X, j + 1), rel=1e-8)
    value, k = epv(y, VARIABLES)
    assert k == 1 + 1 + 1 + 1 + 3 + 1
    assert value == pytest.approx(min(y.sum(), len(y) - y.sum()) / 8)
    collinear = D.assign(age2=D["age"] * 2 + 1)
    assert np.isinf(vif(collinear)["age2"])


def test_low_epv_and_high_vif_are_warned_and_noted(caplog):
    df, y = _cohort(n=90, seed=4)
    rng = np.random.default_rng(1)
    df["age_copy"] = df["age"] + rng.normal(0, 1, len(df))  # VIF ~ 100
    variables = [*VARIABLES, {"name": "age_copy", "type": "continuous"}]
    with caplog.at_level(logging.WARNING):
        res = select_clinical_predictors(df, y, variables, _settings("p_value"))
    assert "events per candidate parameter" in caplog.text
    assert "variance inflation factor above 5" in caplog.text
    t = res.table.set_index("term")
    assert t.loc["age", "vif"] > 5 and "VIF" in t.loc["age", "note"]
    assert t["note"].str.contains("EPV").all() and (t["epv"] < 10).all()
    assert t.loc["er", "vif"] < 5 and "VIF" not in t.loc["er", "note"]


def test_intercept_only_model_and_its_nomogram_note(tmp_path):
    df, _ = _cohort()
    y = np.random.default_rng(5).integers(0, 2, len(df))
    res = select_clinical_predictors(df, y, VARIABLES, _settings("p_value",
                                                                 clinical_entry_p=1e-9))
    assert not has_predictor(res.model)
    joblib.dump(res.model, tmp_path / "clinical.joblib")
    files = draw_nomograms(tmp_path, "level2", tmp_path / "nom.png", model="clinical",
                           points_csv=tmp_path / "points.csv")
    assert (tmp_path / "nom.png").is_file() and (tmp_path / "nom.pdf").is_file()
    pts = pd.read_csv(tmp_path / "points.csv")
    assert pts["value"].iloc[0] == pytest.approx(np.mean(y))
    assert len(files) == 3


def test_strategy_name_is_checked():
    with pytest.raises(ValueError, match="clinical_strategy is 'stepwise'"):
        _settings("stepwise")


@pytest.mark.parametrize("models, intercept_only", [
    ({"clinical_strategy": "penalized"}, False),
    ({"clinical_strategy": "p_value", "clinical_entry_p": 1e-12}, True),
], ids=["penalized", "nothing-passes"])
def test_level_fit_with_each_strategy(models, intercept_only, tmp_path):
    """fit_level runs each strategy end to end; with nothing passing the screen the clinical
    model is intercept-only (AUC 0.5 everywhere) and the combined model the Rad-score alone;
    the bootstrap reproduces the saved models' apparent AUCs."""
    import json

    from test_modeling import CONFIG, LEVEL1, synthetic_study
    from alnburden.modeling.level_fit import fit_level
    from alnburden.modeling.optimism import auc as c_index, level_optimism
    from conftest import VARIABLES

    cohort, split, features, icc = synthetic_study(n=160, n_features=20, seed=3)
    cfg = {**CONFIG, "models": {**CONFIG["models"], "learners": ["logistic"], **models}}
    preds = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, tmp_path)
    card = json.loads((tmp_path / "level1/models/model_card.json").read_text())
    assert card["clinical_strategy"] == models["clinical_strategy"]
    clin = preds[preds["model"] == "clinical"]
    comb = joblib.load(tmp_path / "level1/models/combined.joblib")
    if intercept_only:
        assert card["predictors"] == [] and "no predictor passed" in card["clinical_note"]
        for s in ("train", "test"):  # (cv: one prevalence per fold)
            assert clin.loc[clin["set"] == s, "p"].nunique() == 1
        assert comb.terms_ == ["const", "rad_score"]
        md = (tmp_path / "tables/level1_clinical_logistic.md").read_text()
        assert "No predictor passed univariable p < 1e-12" in md
    else:
        assert card["predictors"] and card["clinical"]["method"] == "penalized"
        assert comb.terms_[1] == "rad_score" and len(comb.terms_) == 2 + sum(
            len(design_matrix(cohort.head(1), [v]).columns) for v in VARIABLES
            if v["name"] in card["predictors"])
    table, stability = level_optimism(cohort, split, preds, LEVEL1, VARIABLES, cfg["models"],
                                      cfg["seed"], {"n": 5, "seed": 1})
    train = preds[preds["set"] == "train"]
    for m in ("clinical", "combined"):
        t = train[train["model"] == m]
        row = table[(table["model"] == m) & (table["metric"] == "auc")]
        assert float(row["apparent"].iloc[0]) == pytest.approx(c_index(t["y_true"], t["p"]),
                                                               abs=1e-9)
    if intercept_only:
        assert not stability.loc[stability["variable"] != "rad_score", "selected"].any()
