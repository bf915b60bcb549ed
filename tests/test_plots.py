"""Tests of alnburden.figures.plots: every figure kind is written as PDF + 300 dpi PNG."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_evaluation import make_predictions

from alnburden.evaluation import cascade as cs
from alnburden.evaluation import tables as ev
from alnburden.figures import plots as pl


@pytest.fixture(scope="module")
def pred():
    return make_predictions(cascade=True)


def _check(paths, tmp_path, stem):
    pdf, png = tmp_path / f"{stem}.pdf", tmp_path / f"{stem}.png"
    assert pdf in paths and png in paths
    assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:5] == b"%PDF-"
    with Image.open(png) as im:
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert min(im.size) > 600


def test_roc_figures(tmp_path, pred):
    _check(pl.plot_roc(pred, "level1", tmp_path / "level1_roc"), tmp_path, "level1_roc")
    _check(pl.plot_roc_learners(pred, "level2", tmp_path / "level2_roc_learners.png"), tmp_path,
           "level2_roc_learners")
    with pytest.raises(ValueError, match="no predictions for level 'level9'"):
        pl.plot_roc(pred, "level9", tmp_path / "x")


def test_calibration_dca_impact(tmp_path, pred):
    _check(pl.plot_calibration(pred, "level2", tmp_path / "cal"), tmp_path, "cal")
    dca = ev.dca_table(pred, ev.dca_thresholds())
    _check(pl.plot_dca(dca, "level1", tmp_path / "dca"), tmp_path, "dca")
    _check(pl.plot_clinical_impact(pred, "level1", tmp_path / "cic"), tmp_path, "cic")


def test_forest_and_cascade(tmp_path, pred):
    sub = ev.subgroup_table(pred)
    # a single-class subgroup must still draw (n/a row, no point)
    one = pred.copy()
    m = (one["level"] == "level2") & (one["set"] == "test") & (one["ki67"] < 20)
    one.loc[m, "y_true"] = 1
    sub1 = ev.subgroup_table(one)
    _check(pl.plot_subgroups_forest(sub, tmp_path / "forest"), tmp_path, "forest")
    _check(pl.plot_subgroups_forest(sub1, tmp_path / "forest1"), tmp_path, "forest1")
    conf, met = cs.cascade_table(cs.cascade_predictions(pred))
    _check(pl.plot_cascade(conf, tmp_path / "cascade", met), tmp_path, "cascade")


def test_figures_are_deterministic(tmp_path, pred):
    a = pl.plot_roc(pred, "level1", tmp_path / "a" / "roc")
    b = pl.plot_roc(pred, "level1", tmp_path / "b" / "roc")
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_palette_is_consistent():
    assert pl.model_color("combined") == pl.MODEL_COLORS["combined"]
    assert len({pl.model_color(m) for m in ("radiomics", "clinical", "combined")}) == 3
    assert pl.model_color("my_learner") == pl.model_color("my_learner")
    assert pl.level_title("level2") == "Level 2"


def _fit_data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"rad_score": rng.normal(size=n), "ki67": rng.uniform(1, 90, n),
                      "aln_us_class": rng.integers(1, 7, n).astype(float),
                      "er": rng.integers(0, 2, n).astype(float)})
    lp = -2 + 1.2 * X["rad_score"] + 0.02 * X["ki67"] + 0.4 * X["aln_us_class"] - 0.3 * X["er"]
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    ranges = {"rad_score": (-3.0, 3.0), "ki67": (1, 90), "aln_us_class": [1, 2, 3, 4, 5, 6],
              "er": [0, 1]}
    return X, y, ranges


def test_nomogram_adapter_forms(tmp_path):
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, ranges = _fit_data()
    res = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    coefs = dict(zip(X.columns, res.params[1:]))
    forms = {
        "dict": {"coefficients": coefs, "intercept": float(res.params["const"]),
                 "ranges": ranges},
        "statsmodels": {"model": res, "ranges": ranges},
        "sklearn": {"model": make_pipeline(StandardScaler(),
                                           LogisticRegression(C=1e6, max_iter=1000)).fit(X, y),
                    "ranges": ranges},
    }
    x0 = X.iloc[:5]
    p_ref = res.predict(sm.add_constant(x0, has_constant="add")).to_numpy()
    for name, obj in forms.items():
        nom = pl.nomogram_from_model(obj)
        assert nom.predictors == list(X.columns), name
        assert np.allclose(nom.predict_proba(x0), p_ref, atol=1e-3), name
    d = tmp_path / "models"
    d.mkdir()
    joblib.dump(forms["statsmodels"], d / "combined.joblib")
    out = pl.draw_nomograms(d, "level1", tmp_path / "nomo", points_csv=tmp_path / "nomo.csv")
    _check(out, tmp_path, "nomo")
    assert (tmp_path / "nomo.csv").exists()
    with pytest.raises(FileNotFoundError, match="clinical.joblib not found"):
        pl.draw_nomograms(d, "level1", tmp_path / "x", model="clinical")
    with pytest.raises(ValueError, match="carries no predictor ranges"):
        pl.nomogram_from_model({"model": res})
    with pytest.raises(ValueError, match="cannot read coefficients from a list"):
        pl.nomogram_from_model([1, 2])


def test_nomogram_from_modelling_stage_logistic_model(tmp_path):
    """The modelling stage's combined.joblib: alnburden.modeling.clinical.LogisticModel."""
    from alnburden.modeling.clinical import LogisticModel

    X, y, _ = _fit_data(seed=1)
    X["subtype"] = np.where(X["ki67"] > 40, "luminal_b", "luminal_a")
    variables = [{"name": "rad_score", "type": "continuous"},
                 {"name": "ki67", "type": "continuous"},
                 {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]},
                 {"name": "er", "type": "binary"},
                 {"name": "subtype", "type": "categorical", "levels": ["luminal_a", "luminal_b"]}]
    model = LogisticModel(variables).fit(X, y)
    # The fitted model carries its training ranges, so the nomogram needs nothing else ...
    assert model.ranges_["rad_score"] == (X["rad_score"].min(), X["rad_score"].max())
    assert pl.nomogram_from_model(model).predictors[0] == "rad_score"
    # ... and a model without them asks for the training data by name.
    del model.ranges_
    with pytest.raises(ValueError, match="no range for continuous predictor 'rad_score'"):
        pl.nomogram_from_model(model)
    nom = pl.nomogram_from_model(model, training_data=X)
    assert nom.predictors == ["rad_score", "ki67", "aln_us_class", "er", "subtype[luminal_b]"]
    assert nom.labels["subtype[luminal_b]"] == "Subtype: luminal B"
    design = X.assign(**{"subtype[luminal_b]": (X["subtype"] == "luminal_b").astype(float)})
    assert np.allclose(nom.predict_proba(design.iloc[:7]), model.predict_proba(X.iloc[:7])[:, 1])
    d = tmp_path / "models"
    d.mkdir()
    joblib.dump(model, d / "combined.joblib")
    _check(pl.draw_nomograms(d, "level2", tmp_path / "nomo2", training_data=X), tmp_path, "nomo2")


def test_nomogram_training_data_merges_rad_score():
    X, _, _ = _fit_data(seed=2, n=20)
    ids = [f"P{i:02d}" for i in range(20)]
    cohort = X.drop(columns="rad_score").assign(patient_id=ids)
    pred = pd.DataFrame({"patient_id": ids[:12], "level": "level1", "set": "train",
                         "model": "combined", "y_true": 0, "p": 0.5,
                         "rad_score": X["rad_score"].to_numpy()[:12]})
    pred = pd.concat([pred, pred.assign(set="test")], ignore_index=True)
    data = pl.nomogram_training_data(cohort, pred, "level1")
    assert len(data) == 12 and np.allclose(data["rad_score"], X["rad_score"][:12])
    with pytest.raises(ValueError, match="no 'combined' training predictions for level 'level2'"):
        pl.nomogram_training_data(cohort, pred, "level2")
