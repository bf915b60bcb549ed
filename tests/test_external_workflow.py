"""End-to-end external validation: a tiny study writes its bundle; only the bundle .zip is
moved to another folder, where the external run applies it to another simulated cohort
(different seed) and to an unlabelled one; a changed params file stops the run before
prediction."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from alnburden.extraction.shards import read_features
from alnburden.modeling.persistence import load_model, rad_score
from alnburden.simulate import simulate_cohort

from conftest import run_workflow

pytestmark = pytest.mark.workflow
ROOT = Path(__file__).resolve().parents[1]


def _external_config(folder: Path, cohorts: list[dict], **extra) -> Path:
    cfg = folder / "external.yaml"
    cfg.write_text(yaml.safe_dump({"external": {"bundle": "bundle.zip", "cohorts": cohorts,
                                                **extra}}))
    return cfg


@pytest.fixture(scope="module")
def moved_bundle(tmp_path_factory):
    """A tiny study's bundle.zip, copied alone into an empty folder, and two external cohorts."""
    study = tmp_path_factory.mktemp("study")
    run_workflow(ROOT / "tests/data/external_study.yaml", study, "--cores", "1")
    ext = tmp_path_factory.mktemp("external")
    shutil.copyfile(study / "results/bundle.zip", ext / "bundle.zip")
    shutil.rmtree(study)  # nothing of the study is left but the moved zip
    simulate_cohort(ext / "centre_b", n_patients=24, seed=11)
    manifest = pd.read_csv(ext / "centre_b/manifest.csv", dtype=str)
    manifest.drop(columns=["n_positive_nodes"]).head(6).to_csv(
        ext / "centre_b/unlabelled.csv", index=False)
    return ext


@pytest.fixture(scope="module")
def external_run(moved_bundle):
    cfg = _external_config(moved_bundle, [
        {"name": "centre_b", "manifest": "centre_b/manifest.csv"},
        {"name": "centre_c", "manifest": "centre_b/unlabelled.csv"}])
    run_workflow(cfg, moved_bundle, "--cores", "1")
    return moved_bundle / "results/external"


def test_external_aucs_equal_the_frozen_models_by_hand(external_run, tmp_path):
    out = external_run / "centre_b"
    with zipfile.ZipFile(external_run.parents[1] / "bundle.zip") as zf:
        zf.extractall(tmp_path / "bundle")
    models = tmp_path / "bundle/models/level1"
    cohort = pd.read_csv(out / "cohort.csv", dtype={"patient_id": str})
    feats = read_features(out / "features.parquet")[0].set_index("patient_id")
    rad = load_model(models / "radiomics.joblib")
    p = {"radiomics": rad.predict_proba(
        feats.loc[cohort["patient_id"], list(rad.feature_names_in_)])[:, 1]}
    p["clinical"] = load_model(models / "clinical.joblib").predict_proba(cohort)[:, 1]
    p["combined"] = load_model(models / "combined.joblib").predict_proba(
        cohort.assign(rad_score=rad_score(p["radiomics"])))[:, 1]
    perf = pd.read_csv(out / "tables/performance.csv").set_index("model")
    y = cohort["level1"].astype(int).to_numpy()
    for model, probs in p.items():
        assert perf.loc[model, "set"] == "external"
        assert perf.loc[model, "auc"] == pytest.approx(roc_auc_score(y, probs), abs=1e-6)
    summary = (out / "summary.md").read_text()
    assert "## Discrimination of the frozen models" in summary and "## Drift" in summary
    for kind in ("roc", "calibration", "dca"):
        assert (out / f"figures/{kind}_level1.png").is_file()
    sub = pd.read_csv(out / "tables/subgroups.csv")         # the bundle has a ki67 variable
    assert set(sub["set"]) == {"external"} and "p_interaction" in sub.columns
    assert (out / "figures/subgroups_forest.png").is_file()
    assert (out / "tables/recalibration.csv").is_file() and (out / "drift.csv").is_file()


def test_unlabelled_cohort_gets_predictions_only(external_run):
    out = external_run / "centre_c"
    pred = pd.read_csv(out / "predictions.csv")
    assert pred["patient_id"].nunique() == 6 and pred["y_true"].isna().all()
    assert not (out / "tables").exists()
    assert "predictions only" in (out / "summary.md").read_text()


def test_changed_params_file_stops_before_prediction(moved_bundle, tmp_path):
    with zipfile.ZipFile(moved_bundle / "bundle.zip") as zf:
        params = zf.read("radiomics.yaml").decode()
    changed = moved_bundle / "changed.yaml"
    changed.write_text(params.replace("binWidth: 10", "binWidth: 7", 1))
    assert changed.read_text() != params
    cfg = _external_config(moved_bundle, [{"name": "centre_d", "manifest":
                                           "centre_b/manifest.csv", "params": "changed.yaml"}])
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(cfg), "--cores", "1"]
    proc = subprocess.run(cmd, cwd=moved_bundle, capture_output=True, text=True)
    assert proc.returncode != 0
    log = (moved_bundle / "results/logs/external/centre_d/external_cohort.log").read_text()
    assert "refused before prediction" in log and "[params]" in log and "changed.yaml" in log
    assert not (moved_bundle / "results/external/centre_d/features.parquet").exists()
    assert not (moved_bundle / "results/external/centre_d/predictions.csv").exists()
