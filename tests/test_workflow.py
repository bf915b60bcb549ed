"""End-to-end: the whole workflow on a small simulated cohort (tests/data/ci_config.yaml).

One run (module-scoped) feeds every assertion below; it takes a few minutes on 2 cores.
"""

import os
import signal
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tests" / "data" / "ci_config.yaml"

pytestmark = pytest.mark.workflow


def snakemake(*args, cwd):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(CONFIG), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def run(e2e_run):
    return e2e_run


def test_lint_is_clean():
    proc = snakemake("--lint", cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_shows_whole_dag(tmp_path):
    proc = snakemake("-n", "--cores", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for rule in ["simulate_cohort", "validate_cohort", "split_cohort", "table1", "extract_shard",
                 "merge_features", "icc"]:
        assert rule in proc.stdout, f"{rule} missing from the DAG"


def test_cohort_outputs(run):
    cohort = pd.read_csv(run / "results/cohort/cohort.csv")
    split = pd.read_csv(run / "results/cohort/split.csv")
    assert len(cohort) == 48
    assert set(split["patient_id"]) == set(cohort["patient_id"])
    assert (split["set"] == "test").sum() in (14, 15)
    assert (run / "results/tables/table1_baseline.md").exists()
    assert (run / "results/figures/cohort_examples.png").exists()


def test_radiomics_outputs(run):
    feats = pd.read_parquet(run / "results/features/radiomics.parquet")
    assert len(feats) == 48 and feats["patient_id"].is_unique
    regions = {c.split("_", 1)[0] for c in feats.columns if c != "patient_id"}
    assert regions == {"intra", "peri3mm"}
    assert not feats.drop(columns="patient_id").isna().any().any()
    icc = pd.read_csv(run / "results/features/icc.csv")
    assert list(icc.columns[:5]) == ["feature", "icc", "ci_low", "ci_high", "kept"]
    assert set(icc["feature"]) == set(feats.columns) - {"patient_id"}


def test_rule_logs_hold_progress_not_pyradiomics_floods(run):
    """Each shard's log says what it did; pyradiomics' per-region warnings appear once."""
    logs = sorted((run / "results/logs/extract_shard").glob("*.log"))
    assert logs
    for path in logs:
        text = path.read_text()
        assert "shard" in text and "patients" in text, path.name
        assert text.count("Sum Average") <= 1, path.name
        assert "Loading parameter file" not in text, path.name


def test_predictions_contract(run):
    pred = pd.read_csv(run / "results/predictions.csv", dtype={"patient_id": str})
    assert list(pred.columns[:7]) == ["patient_id", "level", "set", "model", "y_true", "p", "rad_score"]
    assert set(pred["level"]) == {"level1", "level2"}
    assert {"train", "cv", "test"} <= set(pred["set"])
    assert {"radiomics", "clinical", "combined", "logistic", "random_forest"} <= set(pred["model"])
    split = pd.read_csv(run / "results/cohort/split.csv", dtype={"patient_id": str})
    test_ids = set(split.loc[split["set"] == "test", "patient_id"])
    fitted = pred[pred["set"].isin(["train", "cv"])]
    assert not set(fitted["patient_id"]) & test_ids, "a test patient has training predictions"


DESIGN_COLUMNS = {
    "performance": ["level", "model", "set", "n", "events", "auc", "auc_ci_low", "auc_ci_high",
                    "cutoff", "sensitivity", "specificity", "accuracy", "ppv", "npv"],
    "auc_delong": ["level", "set", "model_a", "model_b", "auc_a", "auc_b", "z", "p"],
    "calibration": ["level", "model", "set", "brier", "hl_chi2", "hl_df", "hl_p", "slope", "intercept"],
    "dca": ["level", "model", "set", "threshold", "net_benefit"],
    "subgroups": ["level", "model", "subgroup", "n", "events", "auc", "auc_ci_low", "auc_ci_high",
                  "p_difference"],
}


@pytest.mark.parametrize("name", sorted(DESIGN_COLUMNS))
def test_evaluation_tables_keep_design_columns(run, name):
    table = pd.read_csv(run / f"results/tables/{name}.csv")
    assert [c for c in table.columns if c in DESIGN_COLUMNS[name]] == DESIGN_COLUMNS[name]
    assert len(table) > 0
    assert (run / f"results/tables/{name}.md").exists()


def test_every_figure_has_pdf_and_png(run):
    pngs = sorted((run / "results/figures").glob("*.png"))
    names = {p.stem for p in pngs}
    for level in ("level1", "level2"):
        for kind in ("roc", "roc_learners", "calibration", "dca", "clinical_impact", "nomogram"):
            assert f"{level}_{kind}" in names
    assert {"cascade", "subgroups_forest", "cohort_examples"} <= names
    for png in pngs:
        assert png.with_suffix(".pdf").exists(), png


def test_summary_and_report(run):
    summary = (run / "results/summary.md").read_text()
    assert "simulation" in summary.lower()
    assert (run / "results/report.html").stat().st_size > 10_000


def finished_shards(workdir: Path) -> list[Path]:
    """Extraction shards that exist and that Snakemake has recorded as finished.

    Snakemake marks every output incomplete (``.snakemake/incomplete/<urlsafe-b64 of the
    path>``) when its job starts and removes the marker after the job has succeeded and its
    metadata is written; a file without the marker survives ``--rerun-incomplete``.
    """
    done = []
    for shard in sorted((workdir / "results/features/shards").glob("*.parquet")):
        key = urlsafe_b64encode(str(shard.relative_to(workdir)).encode()).decode()
        if not (workdir / ".snakemake/incomplete" / key).exists():
            done.append(shard)
    return done


def test_killed_run_resumes_without_recomputing_finished_shards(run, tmp_path):
    """Kill a run in the middle of the extraction; the re-run keeps finished shards and ends
    with tables byte-identical to the uninterrupted run.

    The run is killed the moment Snakemake has recorded the first finished shard (whichever
    shard that is: the scheduler's order is not fixed), so the other shard is still to do.
    """
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(CONFIG), "--cores", "1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not finished_shards(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = finished_shards(tmp_path)
    assert finished, "the run ended (or timed out) before a shard was finished"
    n_shards = len(list((run / "results/features/shards").glob("*.parquet")))
    assert len(finished) < n_shards, "killed too late: every shard was already finished"
    assert not (tmp_path / "results/features/radiomics.parquet").exists(), "killed too late"
    stamps = {shard: shard.stat().st_mtime_ns for shard in finished}

    # A SIGKILL leaves Snakemake's lock behind, as a crash or power loss would: unlock first.
    assert snakemake("--unlock", cwd=tmp_path).returncode == 0
    rerun = snakemake("--cores", "2", "--rerun-incomplete", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    for shard, stamp in stamps.items():
        assert shard.stat().st_mtime_ns == stamp, f"finished shard {shard.name} was recomputed"
    assert len(list((tmp_path / "results/features/shards").glob("*.parquet"))) == n_shards
    for table in sorted((run / "results/tables").glob("*.csv")):
        assert (tmp_path / "results/tables" / table.name).read_bytes() == table.read_bytes(), table.name


def test_clinical_only_arm_on_gbsg2(tmp_path):
    """A manifest without images runs the clinical models alone (radiomics rules skipped)."""
    pytest.importorskip("lifelines")
    from alnburden.datasets.gbsg2 import gbsg2_manifest

    gbsg2_manifest().to_csv(tmp_path / "gbsg2_manifest.csv", index=False)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(ROOT / "tests/data/gbsg2_config.yaml"), "--cores", "2"]
    dry = subprocess.run([*cmd, "-n"], cwd=tmp_path, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "extract_shard" not in dry.stdout and "fit_level" in dry.stdout
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-5000:]
    perf = pd.read_csv(tmp_path / "results/tables/performance.csv")
    test = perf[(perf["model"] == "clinical") & (perf["set"] == "test")].iloc[0]
    assert test["n"] == 206 and 0.5 < test["auc"] < 0.9
