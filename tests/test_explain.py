"""SHAP of the radiomics learner, permutation importance and the feature-map helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from alnburden.evaluation.explain import (explainer_kind, permutation_table,
                                          readable_feature_name, shap_table, shap_values)
from alnburden.evaluation.feature_maps import example_patients, map_features, parse_feature
from alnburden.modeling.learners import LEARNERS, make_learner
from alnburden.modeling.selection import IccFilter

NAMES = ["intra_original_shape2D_Sphericity", "peri3mm_wavelet-HL_glcm_Contrast",
         "intra_log-sigma-1-0-mm-3D_glrlm_RunEntropy", "peri3mm_original_firstorder_Mean",
         "intra_wavelet-LH_glszm_ZoneEntropy"]


def test_readable_feature_name():
    assert readable_feature_name("peri3mm_wavelet-HL_glcm_Contrast") == \
        "peri3mm / wavelet-HL / GLCM Contrast"
    assert readable_feature_name("intra_log-sigma-2-0-mm-3D_firstorder_Mean") == \
        "intra / LoG 2.0 mm / first order Mean"
    assert readable_feature_name("intra_original_shape2D_Sphericity") == \
        "intra / original / shape Sphericity"
    assert readable_feature_name("rad_score") == "rad_score"


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(NAMES) + 2)),
                     columns=NAMES + ["intra_original_glcm_Idm", "peri3mm_original_glcm_Id"],
                     index=[f"P{i:03d}" for i in range(n)])
    logit = 1.5 * X[NAMES[0]] - 1.0 * X[NAMES[1]] + 0.5 * X[NAMES[2]]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


def _model(name, X, y):
    """A fitted Pipeline like radiomics.joblib: column selection + scaling, then the learner."""
    selection = Pipeline([("icc", IccFilter(keep=NAMES)), ("scale", StandardScaler())])
    learner, _ = make_learner(name, 0)
    return Pipeline([("selection", selection), ("learner", learner)]).fit(X, y)


@pytest.mark.parametrize("name, kind, output", [
    ("logistic", "linear", "log-odds"), ("random_forest", "tree", "probability"),
    ("lightgbm", "tree", "log-odds"), ("hist_gradient_boosting", "tree", "log-odds"),
    ("svm", "permutation", "probability"), ("knn", "permutation", "probability"),
    ("mlp", "permutation", "probability")])
def test_explainer_fits_the_learner_and_is_additive(name, kind, output):
    X, y = _data()
    tr, te = X.iloc[:80], X.iloc[80:]
    model = _model(name, tr, y[:80])
    assert explainer_kind(model) == kind
    res = shap_values(model, tr, te, background=30, agnostic_background=10, random_state=3)
    assert (res.explainer, res.output) == (kind, output)
    assert res.values.shape == (len(te), len(NAMES)) and res.features == NAMES
    # local accuracy: base value + SHAP values = the explained output of every test row
    Z = model[:-1].transform(te)
    prob = model[-1].predict_proba(Z)[:, 1]
    target = prob if output == "probability" else np.log(prob / (1 - prob))
    np.testing.assert_allclose(res.base_value + res.values.sum(axis=1), target, atol=1e-6)
    # the feature with the strongest effect is among the two of largest mean |SHAP|
    top = shap_table(res)["feature"].head(2).tolist()
    assert NAMES[0] in top or NAMES[1] in top


def test_every_registered_learner_has_an_explainer():
    for name in LEARNERS:
        assert explainer_kind(make_learner(name, 0)[0]) in ("tree", "linear", "permutation")


@pytest.mark.parametrize("name", ["svm", "random_forest"])
def test_same_seed_same_values(name):
    X, y = _data()
    tr, te = X.iloc[:80], X.iloc[80:]
    model = _model(name, tr, y[:80])
    a = shap_values(model, tr, te, background=30, agnostic_background=10, random_state=7)
    b = shap_values(model, tr, te, background=30, agnostic_background=10, random_state=7)
    np.testing.assert_array_equal(a.values, b.values)
    c = shap_values(model, tr, te, background=30, agnostic_background=10, random_state=8)
    assert not np.array_equal(a.values, c.values)  # the seed picks the background


def test_permutation_importance_equals_the_whole_pipelines():
    """Shuffling the learner's inputs equals shuffling the raw columns of the Pipeline."""
    from sklearn.inspection import permutation_importance

    X, y = _data()
    model = _model("logistic", X.iloc[:80], y[:80])
    te, y_te = X.iloc[80:], y[80:]
    ours = permutation_table(model, te, y_te, n_repeats=5, random_state=4)
    whole = permutation_importance(model, te, y_te, scoring="roc_auc", n_repeats=5,
                                   random_state=4)
    cols = list(te.columns)
    expected = [whole.importances_mean[cols.index(f)] for f in ours["feature"]]
    np.testing.assert_allclose(ours["permutation_auc_drop"], expected, atol=1e-12)
    assert ours.set_index("feature").loc[NAMES[0], "permutation_auc_drop"] > 0.05


def test_shap_table_ranks_and_names():
    X, y = _data()
    model = _model("logistic", X.iloc[:80], y[:80])
    res = shap_values(model, X.iloc[:80], X.iloc[80:], background=30)
    table = shap_table(res, permutation_table(model, X.iloc[80:], y[80:], n_repeats=3))
    assert table["rank"].tolist() == list(range(1, len(NAMES) + 1))
    assert table["mean_abs_shap"].is_monotonic_decreasing
    assert table["label"].iloc[0] == readable_feature_name(table["feature"].iloc[0])
    assert table["permutation_rank"].notna().all()


def test_parse_feature_and_map_choice():
    f = parse_feature("intra_log-sigma-1-0-mm-3D_glrlm_RunEntropy")
    assert (f.region, f.pyradiomics_type, f.feature_class, f.key) == (
        "intra", "LoG", "glrlm", "log-sigma-1-0-mm-3D_glrlm_RunEntropy")
    assert parse_feature("peri3mm_wavelet-HL_glcm_Contrast").pyradiomics_type == "Wavelet"
    with pytest.raises(ValueError, match="unknown image type"):
        parse_feature("intra_fourier_glcm_Contrast")
    table = pd.DataFrame({"rank": [1, 2, 3, 4, 5], "feature": NAMES})
    chosen = [m.column for m in map_features(table, 2)]
    assert chosen == [NAMES[1], NAMES[2]]  # shape and first order have no voxel map


def test_example_patients_low_and_high():
    pred = pd.DataFrame({"patient_id": [f"P{i}" for i in range(10)], "level": "l",
                         "set": "test", "model": "radiomics", "y_true": [0, 1] * 5,
                         "p": np.linspace(0.05, 0.95, 10)})
    ex = example_patients(pd.concat([pred, pred.assign(set="train")]), "l", 4)
    assert ex["patient_id"].tolist() == ["P0", "P1", "P8", "P9"]
    assert ex["group"].tolist() == ["low", "low", "high", "high"]


def test_voxel_map_over_lesion_and_ring(tmp_path):
    """pyradiomics' voxel-based map on a small synthetic image: values inside lesion + ring
    only, the nearest-computed fill of a stride-2 map agrees with the computed pixels, and a
    coarse-textured half of the lesion maps differently from a fine one."""
    from pathlib import Path

    from conftest import disk, write_png

    from alnburden.evaluation.feature_maps import patient_maps

    rng = np.random.default_rng(0)
    shape = (90, 90)
    img = rng.normal(120, 25, size=shape)
    coarse = np.kron(rng.normal(60, 40, size=(15, 45)), np.ones((3, 2)))[:45, :90]
    img[:45] = coarse                            # top half: blocky texture, bottom: speckle
    lesion = disk(shape, (45, 45), 18)
    image = write_png(tmp_path / "img.png", np.clip(img, 0, 255))
    mask = write_png(tmp_path / "mask.png", lesion.astype(np.uint8) * 255)
    params = Path(__file__).parent / "data" / "radiomics_fast.yaml"
    feature = parse_feature("intra_original_glszm_ZoneEntropy")
    full = patient_maps(image, mask, 0.2, [feature], params, (1,), kernel_radius=2, stride=1)
    m = full["maps"][feature.column]
    region = full["lesion"] | full["ring"]
    assert full["ring"].any() and not (full["lesion"] & full["ring"]).any()
    assert np.isfinite(m[region]).all() and np.isnan(m[~region]).all()
    top, bottom = region.copy(), region.copy()
    top[45:], bottom[:45] = False, False
    assert abs(np.nanmean(m[top]) - np.nanmean(m[bottom])) > 0.5   # 2.7 vs 3.9
    fast = patient_maps(image, mask, 0.2, [feature], params, (1,), kernel_radius=2,
                        stride=2)["maps"][feature.column]
    assert np.isfinite(fast[region]).all() and np.isnan(fast[~region]).all()
    assert np.corrcoef(m[region], fast[region])[0, 1] > 0.7       # 0.89


def test_voxel_map_of_an_image_finer_than_the_texture_grid(tmp_path):
    """A 0.1 mm export resampled to the params' 0.2 mm grid (BUS-BRA's case): the stride picks
    pixels of the resampled grid, so the map exists (a stride on the image's own grid missed
    every resampled mask pixel: "Label (1) not present in mask") and varies over the region."""
    from pathlib import Path

    from conftest import disk, write_png

    from alnburden.evaluation.feature_maps import patient_maps

    rng = np.random.default_rng(1)
    shape = (160, 160)
    img = rng.normal(120, 25, size=shape)          # bottom half: speckle; top: coarse blocks
    img[:80] = np.kron(rng.normal(60, 40, size=(14, 27)), np.ones((6, 6)))[:80, :160]
    lesion = disk(shape, (80, 80), 34)
    image = write_png(tmp_path / "img.png", np.clip(img, 0, 255))
    mask = write_png(tmp_path / "mask.png", lesion.astype(np.uint8) * 255)
    params = Path(__file__).parent / "data" / "radiomics_fast.yaml"
    feature = parse_feature("intra_original_glszm_ZoneEntropy")
    maps = {stride: patient_maps(image, mask, 0.1, [feature], params, (1,), kernel_radius=2,
                                 stride=stride) for stride in (1, 2)}
    region = maps[1]["lesion"] | maps[1]["ring"]
    for stride, m in maps.items():
        assert np.isfinite(m["maps"][feature.column][region]).all(), stride
    for m in maps.values():
        values = m["maps"][feature.column]
        assert np.isnan(values[~region]).all() and values[region].std() > 0.05
