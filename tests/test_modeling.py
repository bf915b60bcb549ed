"""Fitting one level: tuning, Rad-score, clinical and combined models, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from alnburden.levels import Level, add_level_labels, nodal_class
from alnburden.modeling.learners import make_learner, prefixed_grid
from alnburden.modeling.level_fit import fit_level, tune_learners
from alnburden.modeling.persistence import load_model, predict_patients, rad_score
from alnburden.modeling.predictions import PREDICTION_COLUMNS, PREDICTION_EXTRA_COLUMNS
from alnburden.modeling.selection import build_selection
from alnburden.schemas import CONFIG_SCHEMA, load_schema, section_defaults

from conftest import VARIABLES  # the default config's clinical variables

SUBTYPES = next(v["levels"] for v in VARIABLES if v["name"] == "subtype")
LEVEL1 = Level(name="level1", population="all", label="n_positive_nodes > 0")
LEVEL2 = Level(name="level2", population="n_positive_nodes > 0", label="n_positive_nodes >= 3")
#: Small but complete config (the default study's keys, fewer folds) for fast tests.
CONFIG = {
    "seed": 7,
    "selection": {"variance_threshold": 1e-8, "redundancy": "spearman",
                  "redundancy_threshold": 0.9, "mrmr_k": 0, "lasso_cv_folds": 3,
                  "lasso_one_se": False},
    "models": {"learners": ["logistic", "knn"], "cv_folds": 3, "cv_repeats": 1,
               "rad_score_folds": 3, "clinical_entry_p": 0.05, "clinical_retention_p": 0.05},
}


def synthetic_study(n: int = 300, n_features: int = 200, n_signal: int = 5, seed: int = 0,
                    signal: float = 1.0):
    """Synthetic cohort.csv, split.csv, radiomics table and icc.csv (the contract formats).

    A latent aggressiveness drives the node count (hence both levels' labels), Ki-67,
    tumour size, grade and the ALN ultrasound class, and the first ``n_signal`` features;
    features ``n_signal..2*n_signal-1`` are near copies of them (redundancy), the last
    feature is constant, the rest is noise on arbitrary scales.
    """
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    cls = np.digitize(latent + rng.normal(scale=0.8, size=n), [-0.1, 0.9])
    nodes = np.where(cls == 0, 0, np.where(cls == 1, rng.integers(1, 3, n), rng.integers(3, 12, n)))
    ids = [f"P{i:04d}" for i in range(n)]
    cohort = pd.DataFrame({
        "patient_id": ids, "n_positive_nodes": nodes,
        "age": np.clip(rng.normal(52, 11, n), 18, 100).round(0),
        "tumor_size_mm": np.clip(np.exp(rng.normal(3.0 + 0.15 * latent, 0.4)), 1, 200).round(1),
        "er": (rng.random(n) < 0.7).astype(int), "pr": (rng.random(n) < 0.6).astype(int),
        "her2": (rng.random(n) < 0.25).astype(int),
        "ki67": np.clip(np.exp(rng.normal(2.9 + 0.4 * latent, 0.6)), 0, 100).round(0),
        "grade": np.clip(np.round(2 + 0.4 * latent + rng.normal(scale=0.7, size=n)), 1, 3).astype(int),
        "subtype": rng.choice(SUBTYPES, n, p=[0.35, 0.3, 0.15, 0.2]),
        "aln_us_class": np.clip(np.round(2 + 0.8 * cls + rng.normal(scale=1.0, size=n)), 1, 6).astype(int),
    })
    cohort["nodal_class"] = nodal_class(nodes)
    cohort = add_level_labels(cohort, [LEVEL1, LEVEL2])
    F = rng.normal(size=(n, n_features))
    sev = (latent - latent.mean()) / latent.std()
    for j in range(n_signal):
        F[:, j] = signal * sev + rng.normal(size=n)
    for j in range(n_signal, min(2 * n_signal, n_features)):
        F[:, j] = F[:, j - n_signal] + rng.normal(scale=0.2, size=n)
    F[:, -1] = 0.0
    F = F * rng.uniform(0.5, 50, n_features) + rng.uniform(-10, 10, n_features)
    names = [f"{'intra_original' if j % 2 == 0 else 'peri3mm_wavelet-LH'}_glcm_F{j:04d}"
             for j in range(n_features)]
    features = pd.DataFrame(F, columns=names)
    features.insert(0, "patient_id", ids)
    icc_values = rng.uniform(0.5, 1, n_features)
    icc_values[: 2 * n_signal] = 0.95
    icc = pd.DataFrame({"feature": names, "icc": icc_values, "ci_low": icc_values - 0.1,
                        "ci_high": np.minimum(icc_values + 0.05, 1), "kept": icc_values >= 0.75})
    _, te = train_test_split(np.arange(n), test_size=0.3, stratify=cohort["nodal_class"],
                             random_state=seed)
    split = pd.DataFrame({"patient_id": ids, "set": "train", "nodal_class": cohort["nodal_class"]})
    split.loc[te, "set"] = "test"
    return cohort, split, features, icc


def _auc(y, p):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, p)


@pytest.fixture(scope="module")
def study():
    return synthetic_study(n=240, n_features=60, seed=3)


@pytest.fixture(scope="module")
def fitted(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    cohort, split, features, icc = study
    preds = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, CONFIG, out)
    return out, preds


def test_outputs_written(fitted):
    out, _ = fitted
    for rel in ["level1/selection/selected_features.csv", "level1/models/learners_cv.csv", "level1/models/radiomics.joblib",
                "level1/models/clinical.joblib", "level1/models/combined.joblib",
                "level1/models/logistic.joblib", "level1/models/knn.joblib",
                "level1/models/model_card.json", "level1/predictions.csv",
                "tables/level1_clinical_logistic.csv", "tables/level1_clinical_logistic.md"]:
        assert (out / rel).is_file(), rel
    cv = pd.read_csv(out / "level1/models/learners_cv.csv")
    assert list(cv.columns[:5]) == ["learner", "best_params", "cv_auc_mean", "cv_auc_sd", "chosen"]
    assert cv["chosen"].sum() == 1
    assert cv.loc[cv["chosen"], "cv_auc_mean"].iloc[0] == cv["cv_auc_mean"].max()
    sel = pd.read_csv(out / "level1/selection/selected_features.csv")
    assert list(sel.columns) == ["feature", "coefficient"] and len(sel) >= 1
    assert (sel["coefficient"] != 0).all()
    assert sel["feature"].str.match(r"^(intra|peri3mm)_").all()
    card = json.loads((out / "level1/models/model_card.json").read_text())
    assert card["data"]["n_train"] == 168 and card["radiomics"]["chosen_learner"] in ("logistic", "knn")
    assert "scikit-learn" in card["versions"]
    # modelling never draws: the LASSO figures come from radiomics.joblib (selection_figures)
    assert not list((out / "level1").rglob("lasso_*"))


def test_predictions_contract(fitted, study):
    _, preds = fitted
    cohort, split, _, _ = study
    assert list(preds.columns) == [*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS]
    assert set(preds["set"]) == {"train", "cv", "test"}
    assert set(preds["model"]) == {"clinical", "combined", "radiomics", "logistic", "knn"}
    train_ids = set(split.loc[split["set"] == "train", "patient_id"])
    test_ids = set(split.loc[split["set"] == "test", "patient_id"])
    for s, ids in [("train", train_ids), ("cv", train_ids), ("test", test_ids)]:
        for _, g in preds[preds["set"] == s].groupby("model"):
            assert set(g["patient_id"]) == ids
    assert preds["p"].between(0, 1).all() and preds["rad_score"].notna().all()
    merged = preds.merge(cohort[["patient_id", "n_positive_nodes", "ki67"]], on="patient_id")
    assert (merged["y_true"] == (merged["n_positive_nodes"] > 0)).all()
    assert (merged["ki67_x"] == merged["ki67_y"]).all()
    # radiomics = the chosen learner; the Rad-score is the logit of its (cv / test) probability
    cv = preds[preds["set"] == "cv"].pivot(index="patient_id", columns="model", values="p")
    rs = preds[preds["set"] == "cv"].groupby("patient_id")["rad_score"].first()
    np.testing.assert_allclose(rad_score(cv["radiomics"]), rs.loc[cv.index])
    te = preds[(preds["set"] == "test") & (preds["model"] == "radiomics")]
    np.testing.assert_allclose(rad_score(te["p"]), te["rad_score"])
    # train rows carry the out-of-fold Rad-score, not the apparent one
    tr = preds[(preds["set"] == "train")].groupby("patient_id")["rad_score"].first()
    np.testing.assert_array_equal(tr.loc[cv.index], rs.loc[cv.index])
    # signal is found: radiomics and combined beat chance on the test set
    test = preds[preds["set"] == "test"]
    for model in ["radiomics", "combined"]:
        g = test[test["model"] == model]
        assert _auc(g["y_true"], g["p"]) > 0.7


def test_saved_models_reproduce_test_predictions(fitted, study):
    out, preds = fitted
    cohort, split, features, _ = study
    test_ids = split.loc[split["set"] == "test", "patient_id"]
    rows = cohort[cohort["patient_id"].isin(test_ids)]
    again = predict_patients(out / "level1/models", rows, features)
    ref = preds[preds["set"] == "test"]
    m = ref.merge(again, on=["patient_id", "model"], suffixes=("", "_again"))
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["p_again"], m["p"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(m["p_again"].to_numpy(), m["p"].to_numpy())  # bitwise
    np.testing.assert_array_equal(m["rad_score_again"].to_numpy(), m["rad_score"].to_numpy())
    model = load_model(out / "level1/models/radiomics.joblib")
    assert isinstance(model, Pipeline) and len(model.feature_names_in_) == features.shape[1] - 1


def test_runs_are_byte_identical(fitted, study, tmp_path):
    out, preds = fitted
    cohort, split, features, icc = study
    again = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, CONFIG, tmp_path)
    pd.testing.assert_frame_equal(again, preds)
    for rel in ["level1/models/model_card.json", "level1/models/learners_cv.csv",
                "level1/selection/selected_features.csv", "level1/predictions.csv",
                "tables/level1_clinical_logistic.csv"]:
        assert (tmp_path / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_clinical_only_arm(study, tmp_path):
    cohort, split, _, _ = study
    preds = fit_level(cohort, split, None, None, LEVEL2, VARIABLES, CONFIG, tmp_path)
    assert set(preds["model"]) == {"clinical"}
    assert set(preds["set"]) == {"train", "cv", "test", "cascade"}
    assert preds["rad_score"].isna().all()
    fitted = preds[preds["set"] != "cascade"]
    assert (fitted["nodal_class"] != "N0").all()  # level 2: node-positive patients only
    # the cascade rows score every test patient, N0 included, with the same model
    casc = preds[preds["set"] == "cascade"].set_index("patient_id")
    test_ids = set(split.loc[split["set"] == "test", "patient_id"].astype(str))
    assert set(casc.index) == test_ids and (casc["nodal_class"] == "N0").any()
    test = fitted[fitted["set"] == "test"].set_index("patient_id")
    assert np.array_equal(casc.loc[test.index, "p"], test["p"])
    assert not (tmp_path / "level2/models/radiomics.joblib").exists()
    assert (tmp_path / "tables/level2_clinical_logistic.csv").is_file()
    pp = predict_patients(tmp_path / "level2/models", cohort[cohort["n_positive_nodes"] > 0])
    assert set(pp["model"]) == {"clinical"}


def test_radiomics_only_arm_without_clinical_variables(study, tmp_path):
    cohort, split, features, icc = study
    preds = fit_level(cohort, split, features, icc, LEVEL2, [], CONFIG, tmp_path)
    assert set(preds["model"]) == {"radiomics", "logistic", "knn"}
    assert preds["rad_score"].notna().all()
    card = json.loads((tmp_path / "level2/models/model_card.json").read_text())
    assert set(card["models"]) == {"radiomics", "logistic", "knn"} and "combined" not in card
    assert not (tmp_path / "tables/level2_clinical_logistic.csv").exists()
    test = cohort[(cohort["n_positive_nodes"] > 0)
                  & cohort["patient_id"].isin(split.loc[split["set"] == "test", "patient_id"])]
    pp = predict_patients(tmp_path / "level2/models", test, features)
    rad = pp[pp["model"] == "radiomics"].set_index("patient_id")["p"]
    ours = preds[(preds["set"] == "test") & (preds["model"] == "radiomics")].set_index("patient_id")
    np.testing.assert_array_equal(rad.loc[ours.index], ours["p"])


def test_no_features_and_no_clinical_variables_is_refused(study, tmp_path):
    cohort, split, _, _ = study
    with pytest.raises(ValueError, match=r"level1: no model to fit: no radiomic features .* "
                                         r"config clinical.variables is empty; give the manifest "
                                         r"image and mask columns or declare a clinical variable"):
        fit_level(cohort, split, None, None, LEVEL1, [], CONFIG, tmp_path)
    assert not any(tmp_path.iterdir())


def test_tuning_equals_gridsearchcv_on_the_pipeline(study):
    cohort, _, features, _ = study
    X = features.drop(columns="patient_id").iloc[:120, :30]
    y = (cohort["n_positive_nodes"] > 0).astype(int).to_numpy()[:120]
    selection = build_selection(CONFIG["selection"], None, random_state=0)
    est, grid = make_learner("logistic", 0)
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=0)
    table, fold_auc = tune_learners(selection, {"logistic": (est, grid)}, X, y, cv)
    gs = GridSearchCV(Pipeline([("selection", selection), ("learner", est)]),
                      prefixed_grid(grid, "learner"), cv=cv, scoring="roc_auc").fit(X, y)
    np.testing.assert_allclose(fold_auc["logistic"].mean(axis=0),
                               gs.cv_results_["mean_test_score"], rtol=1e-12)
    assert json.loads(table["best_params"].iloc[0]) == {
        k.removeprefix("learner__"): v for k, v in gs.best_params_.items()}


def test_input_errors(study, tmp_path):
    cohort, split, features, icc = study
    with pytest.raises(ValueError, match="not in split.csv"):
        fit_level(cohort, split.iloc[5:], features, icc, LEVEL1, VARIABLES, CONFIG, tmp_path)
    with pytest.raises(ValueError, match="have no radiomic features"):
        fit_level(cohort, split, features.iloc[3:], icc, LEVEL1, VARIABLES, CONFIG, tmp_path)
    cfg = {**CONFIG, "models": {**CONFIG["models"], "rad_score_folds": 500}}
    with pytest.raises(ValueError, match="every class needs at least 500"):
        fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, tmp_path)


def test_config_without_sections_takes_the_schema_defaults(tmp_path, monkeypatch):
    """No seed, selection or models in the config: the fit is the one of the schema's values.

    Every default learner is fitted as a logistic regression, for speed (its name, the
    folds and the seed still come from the schema).
    """
    import alnburden.modeling.level_fit as level_fit

    original = level_fit.make_learner
    monkeypatch.setattr(level_fit, "make_learner", lambda name, seed: original("logistic", seed))
    monkeypatch.setattr(level_fit, "learner_grids",  # and tuned on the logistic grid
                        lambda given, names: {n: original("logistic", 0)[1] for n in names})
    cohort, split, features, icc = synthetic_study(n=100, n_features=12, seed=8)
    bare = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, {}, tmp_path / "bare")
    explicit = {"seed": load_schema(CONFIG_SCHEMA)["properties"]["seed"]["default"],
                "selection": section_defaults("selection"), "models": section_defaults("models")}
    full = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, explicit,
                     tmp_path / "full")
    pd.testing.assert_frame_equal(bare, full)
    for rel in ["level1/predictions.csv", "level1/models/learners_cv.csv",
                "level1/models/model_card.json", "level1/selection/selected_features.csv"]:
        assert (tmp_path / "bare" / rel).read_bytes() == (tmp_path / "full" / rel).read_bytes()
    cv = pd.read_csv(tmp_path / "bare/level1/models/learners_cv.csv")
    assert cv["learner"].tolist() == section_defaults("models")["learners"]
    lasso = load_model(tmp_path / "bare/level1/models/radiomics.joblib")["selection"][-1]
    assert lasso.cv_scores_["deviance"].shape[0] == section_defaults("selection")["lasso_cv_folds"]
