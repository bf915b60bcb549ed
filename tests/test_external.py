"""External validation: the bundle, the contract, frozen predictions, drift and recalibration.

A small study (synthetic clinical cohort + synthetic radiomic features with a signal) is
fitted once per module with the study's own ``fit_level``; its bundle is written, zipped,
unpacked and applied to another synthetic cohort.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from alnburden.cohort.report import CohortValidationError
from alnburden.cohort.split import stratified_split
from alnburden.evaluation.tables import performance_table
from alnburden.external import drift as dr
from alnburden.external.apply import external_predictions, external_tables
from alnburden.external.bundle import (Bundle, BundleError, feature_summary, unpack_bundle,
                                       write_bundle)
from alnburden.external.contract import (ContractError, check_extraction, check_features,
                                         validate_external_manifest)
from alnburden.external.recalibration import recalibrate, recalibration_table
from alnburden.levels import levels_from_config
from alnburden.modeling.level_fit import fit_level
from alnburden.modeling.persistence import rad_score

from conftest import TinyCohort, make_clinical_cohort

ROOT = Path(__file__).resolve().parents[1]
LEVELS = [{"name": "level1", "population": "all", "label": "n_positive_nodes > 0"},
          {"name": "level2", "population": "n_positive_nodes > 0",
           "label": "n_positive_nodes >= 3"}]
VARIABLES = [
    {"name": "age", "type": "continuous", "min": 18, "max": 100, "unit": "years"},
    {"name": "ki67", "type": "continuous", "min": 0, "max": 100, "unit": "%"},
    {"name": "subtype", "type": "categorical",
     "levels": ["luminal_a", "luminal_b", "her2_enriched", "triple_negative"]},
    {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]},
]
CONFIG = {"seed": 3, "models": {"learners": ["logistic"], "cv_folds": 3, "cv_repeats": 1,
                                "rad_score_folds": 3, "clinical_entry_p": 0.2,
                                "clinical_retention_p": 0.2}}


def synthetic_features(cohort: pd.DataFrame, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Eight features, two carrying the node count; ``shift`` moves f0 (a scanner effect)."""
    rng = np.random.default_rng(seed)
    n = len(cohort)
    nodes = np.log1p(cohort["n_positive_nodes"].to_numpy(float))
    X = rng.normal(size=(n, 8))
    X[:, 0] += 1.2 * nodes + shift
    X[:, 1] -= 0.8 * nodes
    return pd.DataFrame(X, columns=[f"intra_f{i}" for i in range(8)]).assign(
        patient_id=cohort["patient_id"].to_numpy())[["patient_id", *[f"intra_f{i}" for i in range(8)]]]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A fitted two-level study and its bundle (folder, zip)."""
    out = tmp_path_factory.mktemp("study")
    cohort = make_clinical_cohort(150, seed=1)
    split = stratified_split(cohort, 0.3, seed=3)
    features = synthetic_features(cohort, seed=1)
    preds = []
    for level in levels_from_config({"levels": LEVELS}):
        preds.append(fit_level(cohort, split, features, None, level, VARIABLES, CONFIG, out))
    pred = pd.concat(preds, ignore_index=True)
    params = out / "radiomics.yaml"
    shutil.copyfile(ROOT / "tests/data/radiomics_fast.yaml", params)
    import hashlib

    meta = {"params_sha256": hashlib.sha256(params.read_bytes()).hexdigest(),
            "pyradiomics_version": "v3.1.4"}
    zip_path = write_bundle(
        out / "bundle", out / "bundle.zip", study="unit", levels=LEVELS, variables=VARIABLES,
        model_dirs={lv["name"]: out / lv["name"] / "models" for lv in LEVELS},
        performance=performance_table(pred), cohort=cohort, split=split, features=features,
        feature_meta=meta, icc=None, params_path=params,
        radiomics={"peritumoral_mm": [3], "components": "keep_all", "fast_glcm": True},
        evaluation={"ki67_cutoff": 20, "dca_thresholds": [0.05, 0.95, 0.05]})
    return {"out": out, "zip": zip_path, "cohort": cohort, "split": split,
            "features": features, "pred": pred}


@pytest.fixture
def bundle(study, tmp_path) -> Bundle:
    """The study's bundle zip, moved alone to a fresh folder and unpacked there."""
    moved = tmp_path / "elsewhere" / "bundle.zip"
    moved.parent.mkdir()
    shutil.copyfile(study["zip"], moved)
    return unpack_bundle(moved, tmp_path / "elsewhere" / "unpacked")


# --------------------------------------------------------------------------- bundle
def test_bundle_holds_the_contract(bundle, study):
    meta = bundle.meta
    assert [lv["name"] for lv in meta["levels"]] == ["level1", "level2"]
    assert meta["clinical_variables"] == VARIABLES
    assert set(meta["models"]["level1"]["files"]) == {"clinical", "combined", "logistic",
                                                      "radiomics"}
    assert meta["radiomics"]["feature_columns"] == [f"intra_f{i}" for i in range(8)]
    assert meta["radiomics"]["params_sha256"] == study_sha(study)
    # the cutoffs are the training-chosen ones of the study's performance table
    perf = performance_table(study["pred"])
    want = perf[(perf["level"] == "level1") & (perf["model"] == "combined")]["cutoff"].iloc[0]
    assert bundle.cutoffs("level1")["combined"] == pytest.approx(want)
    # training summaries, no patient-level data
    fs = bundle.feature_summary()
    n_train = int((study["split"]["set"] == "train").sum())
    assert (fs["n"] == n_train).all() and list(fs["feature"]) == meta["radiomics"]["feature_columns"]
    assert "patient_id" not in fs.columns
    clin = bundle.clinical_summary()
    assert sum(clin["subtype"]["counts"].values()) == n_train
    assert (bundle.root / "model_card.md").read_text().startswith("# Model bundle: unit")


def study_sha(study) -> str:
    import hashlib

    return hashlib.sha256((study["out"] / "radiomics.yaml").read_bytes()).hexdigest()


def test_bundle_zip_is_reproducible(study, tmp_path):
    from alnburden.external.bundle import zip_bundle

    again = zip_bundle(study["out"] / "bundle", tmp_path / "again.zip")
    assert again.read_bytes() == Path(study["zip"]).read_bytes()


def test_an_altered_bundle_is_refused(bundle):
    card = bundle.root / "models" / "level1" / "model_card.json"
    card.write_text(card.read_text().replace('"seed": 3', '"seed": 4'))
    (bundle.root / "stray.txt").write_text("x")
    with pytest.raises(BundleError, match=r"model_card.json was changed.*stray.txt is not listed"):
        Bundle.open(bundle.root)


def test_not_a_bundle(tmp_path):
    bad = tmp_path / "x.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(BundleError, match="not a model bundle"):
        unpack_bundle(bad, tmp_path / "u")


# --------------------------------------------------------------------------- frozen predictions
def test_external_predictions_are_the_frozen_models(bundle, study, tmp_path):
    """The study's own test rows, re-predicted from the moved bundle, are bit-identical; a
    new cohort's probabilities equal the frozen models applied by hand."""
    cohort, split, feats = study["cohort"], study["split"], study["features"]
    test_ids = set(split.loc[split["set"] == "test", "patient_id"])
    sub = cohort[cohort["patient_id"].isin(test_ids)]
    ext = external_predictions(bundle, sub, feats, labelled=True)
    assert set(ext["set"]) == {"external", "cascade"}   # cascade: level 2 scoring everyone
    mine = study["pred"][study["pred"]["set"] == "test"]
    cascade = ext[ext["set"] == "cascade"]
    ext = ext[ext["set"] == "external"]
    merged = ext.merge(mine, on=["patient_id", "level", "model"], suffixes=("", "_study"))
    assert len(merged) == len(mine) and len(merged) > 0
    np.testing.assert_array_equal(merged["p"], merged["p_study"])

    study_cascade = study["pred"][study["pred"]["set"] == "cascade"]
    if len(study_cascade):      # the study's own cascade rows, re-predicted bit for bit
        m = cascade.merge(study_cascade, on=["patient_id", "level", "model"],
                          suffixes=("", "_study"))
        assert len(m) == len(study_cascade)
        np.testing.assert_array_equal(m["p"], m["p_study"])

    new = make_clinical_cohort(60, seed=9)
    nf = synthetic_features(new, seed=9)
    ext = external_predictions(bundle, new, nf, labelled=True)
    models = bundle.models("level1")
    X = nf.set_index("patient_id").loc[new["patient_id"], list(models["radiomics"].feature_names_in_)]
    p_rad = models["radiomics"].predict_proba(X)[:, 1]
    p_comb = models["combined"].predict_proba(new.assign(rad_score=rad_score(p_rad)))[:, 1]
    got = ext[ext["level"] == "level1"].set_index(["model", "patient_id"])["p"]
    np.testing.assert_allclose(got.loc["radiomics"].loc[new["patient_id"]], p_rad, rtol=0, atol=0)
    np.testing.assert_allclose(got.loc["combined"].loc[new["patient_id"]], p_comb, rtol=0, atol=0)
    # level 2 is evaluated on its population (node-positive patients) and, for the cascade,
    # scores every external patient (set cascade), as the study's level fit does
    l2 = ext[(ext["level"] == "level2") & (ext["set"] == "external")]["patient_id"].unique()
    assert set(l2) == set(new.loc[new["n_positive_nodes"] > 0, "patient_id"])
    casc = ext[(ext["level"] == "level2") & (ext["set"] == "cascade")]
    assert set(casc["patient_id"]) == set(new["patient_id"])
    both = casc.merge(ext[(ext["level"] == "level2") & (ext["set"] == "external")],
                      on=["patient_id", "model"])
    np.testing.assert_allclose(both["p_x"], both["p_y"], rtol=1e-12, atol=1e-15)
    # the tables evaluate the external rows at the bundle's cutoffs
    tables = external_tables(ext, bundle, ["performance", "calibration", "recalibration"])
    perf = tables["performance"].set_index(["level", "model"])
    assert set(perf["set"]) == {"external"}
    y = new["level1"].astype(int).to_numpy()
    assert perf.loc[("level1", "combined"), "auc"] == pytest.approx(roc_auc_score(y, p_comb))
    assert perf.loc[("level1", "combined"), "cutoff"] == pytest.approx(
        bundle.cutoffs("level1")["combined"])
    # the hierarchical cascade routes every external patient at the bundle's cutoffs
    casc_tables = external_tables(ext, bundle, ["cascade_confusion", "cascade_metrics"])
    confusion = casc_tables["cascade_confusion"]
    assert int(confusion["total"].sum()) == len(new)
    assert 0 <= float(casc_tables["cascade_metrics"]["accuracy"].iloc[0]) <= 1
    from alnburden.external.figures import draw_cohort_figures

    draw_cohort_figures(casc_tables, {"cascade": tmp_path / "cascade.png"})
    assert (tmp_path / "cascade.png").is_file() and (tmp_path / "cascade.pdf").is_file()


def test_unlabelled_cohort_gets_predictions_only(bundle, study):
    new = make_clinical_cohort(20, seed=4).drop(columns=["n_positive_nodes", "level1", "level2"])
    ext = external_predictions(bundle, new, synthetic_features(
        make_clinical_cohort(20, seed=4), seed=4), labelled=False)
    assert ext["y_true"].isna().all()
    assert ext.groupby("level")["patient_id"].nunique().to_dict() == {"level1": 20, "level2": 20}


# --------------------------------------------------------------------------- contract
@pytest.fixture
def tiny(tmp_path) -> TinyCohort:
    return TinyCohort(tmp_path / "ext")


def test_manifest_contract_accepts_a_valid_cohort(tiny, bundle):
    cohort, labelled = validate_external_manifest(tiny.manifest, bundle)
    assert labelled and len(cohort) == 6 and cohort["level1"].notna().all()


def test_unknown_category_is_named(tiny, bundle):
    tiny.set(2, "subtype", "basal_like")
    with pytest.raises(CohortValidationError, match=r"subtype is 'basal_like', not one of"):
        validate_external_manifest(tiny.manifest, bundle)


def test_missing_clinical_predictor_is_named(tiny, bundle):
    predictors = bundle.meta["models"]["level1"]["predictors"]
    assert predictors, "the fixture study must select a clinical predictor"
    tiny.save(tiny.table().drop(columns=[predictors[0]]))
    with pytest.raises(ContractError, match=rf"\['{predictors[0]}'\] are predictors of the frozen"):
        validate_external_manifest(tiny.manifest, bundle)


def test_manifest_without_labels_is_predictions_only(tiny, bundle):
    tiny.save(tiny.table().drop(columns=["n_positive_nodes"]))
    cohort, labelled = validate_external_manifest(tiny.manifest, bundle)
    assert not labelled and "level1" not in cohort.columns


def test_changed_params_file_is_refused(bundle, tmp_path):
    assert check_extraction(bundle.params_path, bundle, pyradiomics_version="v3.1.4") == []
    other = tmp_path / "other.yaml"
    other.write_text(bundle.params_path.read_text().replace("binWidth: 10", "binWidth: 5"))
    with pytest.raises(ContractError, match=r"params file .*other.yaml has sha256.*\[params\]"):
        check_extraction(other, bundle, pyradiomics_version="v3.1.4")
    accepted = check_extraction(other, bundle, ["params"], pyradiomics_version="v3.1.4")
    assert len(accepted) == 1 and "accepted by external.allow_mismatch" in accepted[0]


def test_other_pyradiomics_version_is_refused(bundle):
    with pytest.raises(ContractError, match=r"pyradiomics v9.9 is installed.*v3.1.4"):
        check_extraction(bundle.params_path, bundle, pyradiomics_version="v9.9")


def test_dropped_feature_column_is_refused(bundle):
    cols = bundle.meta["radiomics"]["feature_columns"]
    prov = {"params_sha256": bundle.meta["radiomics"]["params_sha256"],
            "pyradiomics_version": "v3.1.4"}
    assert check_features(cols, prov, bundle) == []
    with pytest.raises(ContractError, match=r"1 feature column\(s\).*\['intra_f3'\]"):
        check_features([c for c in cols if c != "intra_f3"], prov, bundle)
    with pytest.raises(ContractError, match=r"allow_mismatch names \['everything'\]"):
        check_features(cols, prov, bundle, ["everything"])
    assert check_features([c for c in cols if c != "intra_f3"], prov, bundle, ["feature_columns"])


# --------------------------------------------------------------------------- drift
def test_training_sample_reproduces_the_ks_statistic():
    """The KS test against the percentile-rebuilt training sample matches the real one."""
    from scipy import stats

    rng = np.random.default_rng(0)
    train = rng.gamma(2.0, 1.0, 300)
    ext = rng.gamma(2.0, 1.2, 80)
    summary = feature_summary(pd.DataFrame({"f": train})).iloc[0]
    rebuilt = dr.training_sample([summary[f"q{q:03d}"] for q in range(101)], 300)
    real = stats.ks_2samp(train, ext).statistic
    assert stats.ks_2samp(rebuilt, ext).statistic == pytest.approx(real, abs=0.02)
    d = dr.numeric_drift(summary, ext)
    pooled = np.sqrt((train.std(ddof=1) ** 2 + ext.std(ddof=1) ** 2) / 2)
    assert d["smd"] == pytest.approx((ext.mean() - train.mean()) / pooled)
    assert d["outside_range"] == pytest.approx(np.mean((ext < train.min()) | (ext > train.max())))


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan, 0.001])
    ok = np.isfinite(p)
    np.testing.assert_allclose(dr.holm(p)[ok], multipletests(p[ok], method="holm")[1])
    assert np.isnan(dr.holm(p)[4])


def test_drift_table_flags_the_shifted_feature(bundle, study):
    new = make_clinical_cohort(80, seed=2)
    shifted = synthetic_features(new, seed=2, shift=2.0)
    table = dr.drift_table(bundle.feature_summary(), bundle.clinical_summary(), shifted, new)
    rows = table.set_index("name")
    assert rows.loc["intra_f0", "drifted"] and rows.loc["intra_f0", "smd"] > 1
    assert not rows.loc["intra_f5", "drifted"]
    assert rows.loc["subtype", "test"] == "chi-square"
    used = bundle.used_inputs()["level1"]
    hit = dr.drifted_model_features(table, used)
    assert "intra_f0" in used  # the LASSO keeps the feature that carries the signal
    assert "intra_f0" in set(hit["name"]) and set(hit["name"]) <= set(used)


def test_categorical_drift_is_scipy_chi_square():
    from scipy import stats

    d = dr.categorical_drift({"a": 30, "b": 10, "c": 0}, ["a"] * 5 + ["b"] * 10 + ["z"] * 2)
    ref = stats.chi2_contingency(np.array([[30, 10, 0], [5, 10, 2]]), correction=False)
    assert d["statistic"] == pytest.approx(ref[0]) and d["p"] == pytest.approx(ref[1])
    assert d["outside_range"] == pytest.approx(2 / 17)


# --------------------------------------------------------------------------- recalibration
def test_recalibration_against_references():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, 400)
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.7 + 0.5 * np.log(p / (1 - p)))))).astype(int)
    a, b = recalibrate(y, p, "logistic")
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(np.log(p / (1 - p))[:, None], y)
    assert (a, b) == pytest.approx((lr.intercept_[0], lr.coef_[0, 0]), abs=1e-5)
    a1, b1 = recalibrate(y, p, "intercept")
    q = 1 / (1 + np.exp(-(a1 + np.log(p / (1 - p)))))
    assert b1 == 1.0 and q.mean() == pytest.approx(y.mean(), abs=1e-8)


def test_recalibration_table_keeps_the_frozen_row():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.1, 0.9, 100)
    pred = pd.DataFrame({"level": "level1", "model": "combined", "set": "external",
                         "y_true": (rng.random(100) < p).astype(int), "p": p})
    t = recalibration_table(pred)
    assert list(t["update"]) == ["frozen", "intercept", "logistic"]
    frozen = t.iloc[0]
    assert (frozen["a"], frozen["b"]) == (0.0, 1.0)
    assert frozen["brier"] == pytest.approx(np.mean((p - pred["y_true"]) ** 2))
    assert t["note"].str.contains("external labels").tolist() == [False, True, True]


# --------------------------------------------------------------------------- ComBat bundle
def test_combat_bundle_estimates_the_external_centre_from_its_own_features(tmp_path, tiny):
    """With ComBat, an external centre's scanner effect (any per-feature offset and positive
    scale) is removed from its own features: the frozen predictions do not change."""
    cohort = make_clinical_cohort(150, seed=1)
    cohort["scanner"] = np.where(np.arange(150) % 2 == 0, "A", "B")
    split = stratified_split(cohort, 0.3, seed=3)
    features = synthetic_features(cohort, seed=1)
    b = (cohort["scanner"] == "B").to_numpy()
    features.loc[b, "intra_f0"] += 1.5
    harm = {"method": "combat", "batch": "scanner"}
    (level,) = levels_from_config({"levels": LEVELS[:1]})
    pred = fit_level(cohort, split, features, None, level, VARIABLES,
                     {**CONFIG, "harmonization": harm}, tmp_path)
    params = tmp_path / "radiomics.yaml"
    params.write_text("setting: {}\n")
    write_bundle(tmp_path / "bundle", tmp_path / "bundle.zip", study="combat", levels=LEVELS[:1],
                 variables=VARIABLES, model_dirs={"level1": tmp_path / "level1/models"},
                 performance=performance_table(pred), cohort=cohort, split=split,
                 features=features, feature_meta={}, params_path=params, harmonization=harm)
    bundle = unpack_bundle(tmp_path / "bundle.zip", tmp_path / "unpacked")
    assert bundle.meta["harmonization"] == harm
    new = make_clinical_cohort(60, seed=9).assign(scanner="centre_c")
    nf = synthetic_features(new, seed=9)
    cols = [c for c in nf.columns if c != "patient_id"]
    shifted = nf.copy()
    shifted[cols] = shifted[cols] * np.linspace(0.5, 3, len(cols)) + np.arange(len(cols))
    p0 = external_predictions(bundle, new, nf)
    p1 = external_predictions(bundle, new, shifted)
    rad = p0["model"] == "radiomics"
    np.testing.assert_allclose(p1.loc[rad, "p"], p0.loc[rad, "p"], rtol=1e-9, atol=1e-12)
    # without the batch column the external manifest breaks the contract
    with pytest.raises(ContractError, match="harmonise features by 'scanner'"):
        validate_external_manifest(tiny.manifest, bundle)


# --------------------------------------------------------------------------- config
def test_external_config_validates_and_refuses_unknown_mismatch():
    import yaml
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    schema = str(ROOT / "workflow/schemas/config.schema.yaml")
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    ext = yaml.safe_load((ROOT / "config/external.yaml").read_text())
    config = {**base, **ext}
    validate(config, schema=schema)
    assert config["external"]["drift"]["smd_threshold"] == 0.5
    bad = {**base, "external": {**ext["external"], "allow_mismatch": ["everything"]}}
    with pytest.raises(WorkflowError, match="everything"):
        validate(bad, schema=schema)
    bad = {**base, "harmonization": {"method": "quantile"}}
    with pytest.raises(WorkflowError, match="quantile"):
        validate(bad, schema=schema)


def test_clinical_only_bundle(tmp_path):
    """A study without images bundles and applies its clinical model alone (no params file)."""
    cohort = make_clinical_cohort(120, seed=3)
    split = stratified_split(cohort, 0.3, seed=3)
    (level,) = levels_from_config({"levels": LEVELS[:1]})
    pred = fit_level(cohort, split, None, None, level, VARIABLES, CONFIG, tmp_path)
    write_bundle(tmp_path / "bundle", tmp_path / "bundle.zip", study="clinical", levels=LEVELS[:1],
                 variables=VARIABLES, model_dirs={"level1": tmp_path / "level1/models"},
                 performance=performance_table(pred), cohort=cohort, split=split)
    bundle = unpack_bundle(tmp_path / "bundle.zip", tmp_path / "unpacked")
    assert not bundle.has_images and not (bundle.root / "radiomics.yaml").exists()
    new = make_clinical_cohort(40, seed=8)
    ext = external_predictions(bundle, new, None)
    assert set(ext["model"]) == {"clinical"} and ext["rad_score"].isna().all()
    want = bundle.models("level1")["clinical"].predict_proba(new)[:, 1]
    np.testing.assert_array_equal(ext["p"].to_numpy(), want[np.argsort(new["patient_id"])])
    drift = dr.drift_table(None, bundle.clinical_summary(), None, new)
    assert set(drift["kind"]) == {"clinical"}
