"""End-to-end: the whole workflow on a small simulated cohort (tests/data/ci_config.yaml).

One run (module-scoped) feeds every assertion below; it takes a few minutes on 2 cores.
"""

import subprocess
import sys
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
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    proc = snakemake("--cores", "2", cwd=work)
    if proc.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-3000:]}" for p in sorted((work / "results/logs").rglob("*.log")))
        pytest.fail(f"workflow failed:\n{proc.stderr[-6000:]}\n{logs}")
    return work


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


def test_report_written(run):
    assert (run / "results/report.html").stat().st_size > 10_000
