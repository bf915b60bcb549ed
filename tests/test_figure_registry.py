"""The figure registry: one entry per figure kind, read by figures.smk and the level driver."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from alnburden.design import StudyDesign
from alnburden.figures import registry as fr

ROOT = Path(__file__).resolve().parents[1]
CI_CONFIG = yaml.safe_load((ROOT / "tests" / "data" / "ci_config.yaml").read_text())


def _design(header=None, levels=2, ki67=True) -> StudyDesign:
    config = copy.deepcopy(CI_CONFIG)
    config["levels"] = config["levels"][:levels]
    if not ki67:
        config["clinical"]["variables"] = [v for v in config["clinical"]["variables"]
                                           if v["name"] != "ki67"]
    if header is not None:
        config["cohort"]["manifest"] = "cohort.csv"
    return StudyDesign.from_config(config, header)


@pytest.mark.parametrize("kind", sorted(fr.FIGURES))
def test_every_figure_has_a_caption_a_rule_and_a_drawing_function(kind):
    fig = fr.FIGURES[kind]
    assert fig.name == kind and callable(fig.draw)
    assert (ROOT / "workflow" / "report" / f"{fig.caption}.rst").is_file()
    text = "".join(p.read_text() for p in sorted((ROOT / "workflow/rules").glob("*.smk")))
    rules = re.findall(r"^\s*rule (\w+):", text, re.M)
    assert fig.rule in rules


def test_the_simulated_study_draws_every_figure():
    files = fr.figure_files(_design())
    # PNG + PDF of cohort examples + 2 levels x 11 + forest, cascade, ICC distribution
    assert len(files) == 2 * (1 + 2 * 11 + 3)
    assert {"figures/cohort_examples.png", "figures/level2_roc_learners.pdf",
            "figures/icc_distribution.png",
            "figures/level1_nomogram.png", "figures/subgroups_forest.png", "figures/cascade.pdf",
            "level2/selection/lasso_cv.png", "figures/level1_shap_beeswarm.png",
            "figures/level2_shap_bar.pdf", "figures/level1_feature_maps.png"} <= set(files)


def test_a_clinical_single_level_study_without_ki67_draws_only_what_it_can():
    design = _design(header=["patient_id", "n_positive_nodes", "age"], levels=1, ki67=False)
    names = {f.name for f in fr.figure_kinds(design)}
    assert names == {"roc", "calibration", "dca", "nomogram"}
    assert [f.name for f in fr.figure_kinds(design, fr.LEVEL_FIGURES_RULE)] == [
        "roc", "calibration", "dca"]
    assert fr.figure_files(design) == [f"figures/level1_{k}.{e}" for k in ("roc", "calibration", "dca",
                                                                   "nomogram")
                                       for e in ("png", "pdf")]


def test_file_stems_and_report_categories():
    assert fr.FIGURES["roc"].file_stem() == "figures/{level}_roc"
    assert fr.FIGURES["lasso_cv"].file_stem("level2") == "level2/selection/lasso_cv"
    assert fr.FIGURES["roc"].per_level and fr.FIGURES["roc"].category is None
    assert fr.FIGURES["cascade"].file_stem("level1") == "figures/cascade"
    assert not fr.FIGURES["cascade"].per_level
