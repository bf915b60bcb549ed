"""Clinical univariable / multivariable logistic regression (alnburden.modeling.clinical)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from alnburden.modeling.clinical import (ClinicalSettings, LogisticModel, design_matrix,
                                         multivariable_logistic, select_clinical_predictors,
                                         univariable_logistic)

SUBTYPES = ["luminal_a", "luminal_b", "her2_enriched", "triple_negative"]
VARIABLES = [
    {"name": "age", "type": "continuous"},
    {"name": "er", "type": "binary"},
    {"name": "ki67", "type": "continuous"},
    {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]},
    {"name": "subtype", "type": "categorical", "levels": SUBTYPES},
    {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]},
]


def _settings(entry_p=0.05, retention_p=0.05, strategy="p_value"):
    return ClinicalSettings.from_config({"clinical_strategy": strategy,
                                         "clinical_entry_p": entry_p,
                                         "clinical_retention_p": retention_p}, seed=0)


def _cohort(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.normal(52, 10, n).round(),
        "er": rng.integers(0, 2, n),
        "ki67": rng.uniform(1, 80, n).round(),
        "grade": rng.integers(1, 4, n),
        "subtype": rng.choice(SUBTYPES, n),
        "aln_us_class": rng.integers(1, 7, n),
    })
    lp = -3 + 0.04 * df["ki67"] + 0.5 * df["aln_us_class"]
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return df, y


def test_design_matrix_coding():
    df = pd.DataFrame({"grade": [1, 3, 2], "subtype": ["luminal_a", "her2_enriched", None]})
    D = design_matrix(df, [VARIABLES[3], VARIABLES[4]])
    assert list(D.columns) == ["grade", "subtype[luminal_b]", "subtype[her2_enriched]",
                               "subtype[triple_negative]"]
    np.testing.assert_array_equal(D["grade"], [1, 3, 2])  # ordinal: numeric
    np.testing.assert_array_equal(D.iloc[0, 1:], [0, 0, 0])  # reference level: all zero
    np.testing.assert_array_equal(D.iloc[1, 1:], [0, 1, 0])
    assert D.iloc[2, 1:].isna().all()
    with pytest.raises(ValueError, match=r"value\(s\) \['basal'\] outside its levels"):
        design_matrix(pd.DataFrame({"subtype": ["basal"]}), [VARIABLES[4]])
    with pytest.raises(ValueError, match="'bmi' is not a column"):
        design_matrix(df, [{"name": "bmi", "type": "continuous"}])


def test_univariable_matches_statsmodels():
    df, y = _cohort()
    uni = univariable_logistic(df, y, VARIABLES)
    assert list(uni.columns[:6]) == ["variable", "term", "or", "ci_low", "ci_high", "p"]
    assert len(uni) == 5 + 3  # one row per term (subtype: 3 dummies)
    ref = sm.Logit(y, sm.add_constant(df[["ki67"]].astype(float))).fit(disp=0)
    row = uni.set_index("term").loc["ki67"]
    assert row["or"] == pytest.approx(np.exp(ref.params["ki67"]), rel=1e-8)
    assert row["p"] == pytest.approx(ref.pvalues["ki67"], rel=1e-6)
    lo, hi = np.exp(ref.conf_int().loc["ki67"])
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), rel=1e-6)
    assert (uni["method"] == "mle").all()


def test_select_predictors_finds_the_signal_and_builds_table():
    df, y = _cohort()
    res = select_clinical_predictors(df, y, VARIABLES, _settings())
    table, predictors = res.table, res.predictors
    assert predictors == ["ki67", "aln_us_class"]
    assert res.model.terms_ == ["const", "ki67", "aln_us_class"]
    assert {"univariable", "univariable_p", "multivariable", "multivariable_p", "independent"} \
        <= set(table.columns)
    age = table.set_index("term").loc["age"]
    assert not age["entered"] and not age["independent"] and age["multivariable"] == ""
    multi = multivariable_logistic(df, y, [VARIABLES[2], VARIABLES[5]])
    assert multi["variable"].tolist() == ["ki67", "aln_us_class"]


def test_nothing_is_forced_in_when_nothing_enters(caplog):
    """No variable passes the screen: no predictor, an intercept-only model, the table says so."""
    df, _ = _cohort()
    y = np.random.default_rng(5).integers(0, 2, len(df))
    with caplog.at_level(logging.WARNING):
        res = select_clinical_predictors(df, y, VARIABLES, _settings(entry_p=1e-12))
    assert res.predictors == []
    assert "no predictor passed univariable p < 1e-12" in caplog.text
    assert (res.table["note"].str.contains("no predictor passed univariable p < 1e-12")).all()
    assert not res.table["independent"].any() and not res.table["entered"].any()
    assert res.model.terms_ == ["const"] and res.model.method_ == "intercept"
    p = res.model.predict_proba(df)[:, 1]
    np.testing.assert_allclose(p, np.mean(y))  # the training prevalence for everyone
    assert any("intercept-only" in n for n in res.notes)


def test_nothing_is_forced_in_when_nothing_is_retained(caplog):
    df, y = _cohort()
    with caplog.at_level(logging.WARNING):
        res = select_clinical_predictors(df, y, VARIABLES, _settings(retention_p=1e-300))
    assert res.predictors == [] and set(res.selection.entered) >= {"ki67", "aln_us_class"}
    assert "no predictor passed multivariable p < 1e-300" in caplog.text


def test_separation_falls_back_to_firth(caplog):
    df, y = _cohort(200)
    df["marker"] = y  # perfect predictor
    with caplog.at_level(logging.WARNING):
        uni = univariable_logistic(df, y, [{"name": "marker", "type": "binary"}])
    assert uni["method"].iloc[0] == "firth"
    assert np.isfinite(uni["or"].iloc[0]) and uni["or"].iloc[0] > 50
    assert "separation" in caplog.text


def test_logistic_model_predicts_from_raw_columns_and_fills_missing():
    df, y = _cohort()
    specs = [VARIABLES[2], VARIABLES[4]]
    m = LogisticModel(specs).fit(df, y)
    D = sm.add_constant(design_matrix(df, specs))
    ref = sm.Logit(y, D).fit(disp=0)
    np.testing.assert_allclose(m.predict_proba(df)[:, 1], ref.predict(D), rtol=1e-8)
    assert m.terms_[0] == "const" and "subtype[luminal_b]" in m.terms_
    new = df.head(3).copy()
    new.loc[new.index[0], "ki67"] = np.nan
    p = m.predict_proba(new)[:, 1]
    assert np.isfinite(p).all()
    filled = new.copy()
    filled.loc[filled.index[0], "ki67"] = df["ki67"].median()
    np.testing.assert_allclose(p, m.predict_proba(filled)[:, 1])
