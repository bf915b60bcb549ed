"""Figures of alnburden.figures: every figure kind is written as PDF + 300 dpi PNG from the
numbers the evaluation computed; the style helpers give every model one colour and name."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_evaluation import make_predictions

from alnburden.evaluation import cascade as cs
from alnburden.evaluation import curves as ec
from alnburden.evaluation import tables as ev
from alnburden.figures import forest, style
from alnburden.figures.cascade import plot_cascade
from alnburden.figures.curves import plot_calibration, plot_clinical_impact, plot_dca, plot_roc
from alnburden.figures.nomogram import draw_nomograms
from alnburden.figures.registry import draw_level_figures
from alnburden.modeling.clinical import LogisticModel
from alnburden.modeling.learners import LEARNERS
from alnburden.modeling.nomogram import nomogram_from_model


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
    roc = ec.roc_curves(pred, "level1", cutoffs=ec.level_cutoffs(pred, "level1"), n_boot=20)
    _check(plot_roc(roc, tmp_path / "level1_roc", "Level 1"), tmp_path, "level1_roc")
    learners = ec.roc_curves(pred, "level2", sets=("cv", "test"),
                             models=ec.learner_models(pred, "level2"))
    _check(plot_roc(learners, tmp_path / "level2_roc_learners.png", "Level 2: learners"),
           tmp_path, "level2_roc_learners")


def test_calibration_dca_impact(tmp_path, pred):
    cal = ec.calibration_curves(pred, "level2")
    _check(plot_calibration(cal, tmp_path / "cal", "Level 2"), tmp_path, "cal")
    dca = ev.dca_table(pred, ev.dca_thresholds())
    _check(plot_dca(dca, "level1", tmp_path / "dca", "Level 1"), tmp_path, "dca")
    with pytest.raises(ValueError, match="no decision-curve rows for level 'level9'"):
        plot_dca(dca, "level9", tmp_path / "x", "Level 9")
    impact = ev.clinical_impact_table(pred, "level1", ev.dca_thresholds())
    _check(plot_clinical_impact(impact, tmp_path / "cic", "Level 1"), tmp_path, "cic")


def test_level_figures_are_named_by_kind_and_refuse_unknown_kinds(tmp_path, pred):
    dca = ev.dca_table(pred, ev.dca_thresholds())
    kinds = ("roc", "roc_learners", "calibration", "dca", "clinical_impact")
    draw_level_figures(pred, dca, "level1", {k: tmp_path / f"level1_{k}.png" for k in kinds},
                       level_label="N0 vs N+", n_boot=10)
    for k in kinds:
        _check([tmp_path / f"level1_{k}.{e}" for e in ("pdf", "png")], tmp_path, f"level1_{k}")
    with pytest.raises(ValueError, match=r"figure kind\(s\) \['nomogram'\] are not level figures"):
        draw_level_figures(pred, dca, "level1", {"nomogram": tmp_path / "n.png"})


def test_forest_and_cascade(tmp_path, pred):
    sub = ev.subgroup_table(pred)
    # a single-class subgroup must still draw (n/a row, no point)
    one = pred.copy()
    m = (one["level"] == "level2") & (one["set"] == "test") & (one["ki67"] < 20)
    one.loc[m, "y_true"] = 1
    sub1 = ev.subgroup_table(one)
    _check(forest.plot_subgroups_forest(sub, tmp_path / "forest"), tmp_path, "forest")
    _check(forest.plot_subgroups_forest(sub1, tmp_path / "forest1"), tmp_path, "forest1")
    with pytest.raises(ValueError, match="subgroup table has no test-set row"):
        forest.plot_subgroups_forest(sub.iloc[:0], tmp_path / "x")
    conf, met = cs.cascade_table(cs.cascade_predictions(pred))
    _check(plot_cascade(conf, tmp_path / "cascade", met), tmp_path, "cascade")


def test_forest_names_levels_by_their_description(pred):
    rows = forest._rows(ev.subgroup_table(pred), {"level1": "N0 vs N+ (all patients)"})
    heads = [r.text for r in rows if r.r is None]
    assert heads[0] == "N0 vs N+ (all patients), radiomics"
    assert any(h.startswith("Level 2, ") for h in heads)  # no description: "Level 2"


def test_figures_are_deterministic(tmp_path, pred):
    roc = ec.roc_curves(pred, "level1", n_boot=20, random_state=3)
    a = plot_roc(roc, tmp_path / "a" / "roc", "Level 1")
    b = plot_roc(ec.roc_curves(pred, "level1", n_boot=20, random_state=3),
                 tmp_path / "b" / "roc", "Level 1")
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_palette_and_names():
    assert style.model_color("combined") == style.MODEL_COLORS["combined"]
    assert len({style.model_color(m) for m in ("radiomics", "clinical", "combined")}) == 3
    # a model outside the registry gets a fallback colour fixed by its name
    assert style.model_color("my_learner") in style.FALLBACK_COLORS
    assert style.model_color("my_learner") == style.FALLBACK_COLORS[
        sum(map(ord, "my_learner")) % len(style.FALLBACK_COLORS)]
    assert style.model_label("random_forest") == LEARNERS["random_forest"].label
    assert style.model_color("random_forest") == LEARNERS["random_forest"].color
    assert style.model_label("my_learner") == "my learner"
    assert style.level_title("level2") == "Level 2"
    assert style.level_title("level2", "N1-2 vs N>=3") == "N1-2 vs N>=3"
    assert style.level_title("level2", "level2") == "Level 2"   # a level without description
    assert style.level_title("malignancy") == "malignancy"


def _logistic_model(seed=1, n=300):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"rad_score": rng.normal(size=n), "ki67": rng.uniform(1, 90, n),
                      "aln_us_class": rng.integers(1, 7, n).astype(float),
                      "er": rng.integers(0, 2, n).astype(float)})
    X["subtype"] = np.where(X["ki67"] > 40, "luminal_b", "luminal_a")
    lp = -2 + 1.2 * X["rad_score"] + 0.02 * X["ki67"] + 0.4 * X["aln_us_class"] - 0.3 * X["er"]
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    variables = [{"name": "rad_score", "type": "continuous"},
                 {"name": "ki67", "type": "continuous"},
                 {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]},
                 {"name": "er", "type": "binary"},
                 {"name": "subtype", "type": "categorical", "levels": ["luminal_a", "luminal_b"]}]
    return X, LogisticModel(variables).fit(X, y)


def test_nomogram_of_the_modelling_stage_logistic_model(tmp_path):
    """combined.joblib is an alnburden.modeling.clinical.LogisticModel."""
    X, model = _logistic_model()
    nom = nomogram_from_model(model)
    assert nom.predictors == ["rad_score", "ki67", "aln_us_class", "er", "subtype[luminal_b]"]
    assert nom.labels["subtype[luminal_b]"] == "Subtype: luminal B"
    assert nom.labels["er"] == "ER" and nom.kinds["aln_us_class"] == "ordinal"
    design = X.assign(**{"subtype[luminal_b]": (X["subtype"] == "luminal_b").astype(float)})
    assert np.allclose(nom.predict_proba(design.iloc[:7]), model.predict_proba(X.iloc[:7])[:, 1])
    d = tmp_path / "models"
    d.mkdir()
    joblib.dump(model, d / "combined.joblib")
    out = draw_nomograms(d, "level2", tmp_path / "nomo2", points_csv=tmp_path / "points.csv")
    _check(out, tmp_path, "nomo2")
    points = pd.read_csv(tmp_path / "points.csv")
    assert list(points.columns) == ["axis", "label", "value", "points"]
    assert set(points["axis"]) == set(nom.predictors) | {"risk"}
    with pytest.raises(FileNotFoundError, match="clinical.joblib not found"):
        draw_nomograms(d, "level2", tmp_path / "x", model="clinical")


def test_nomogram_refuses_other_models():
    with pytest.raises(ValueError, match="cannot draw a nomogram of a dict"):
        nomogram_from_model({"coefficients": {"a": 1.0}})
    _, model = _logistic_model(seed=2, n=80)
    del model.ranges_["ki67"]
    with pytest.raises(ValueError, match="no range for continuous predictor 'ki67'"):
        nomogram_from_model(model)
