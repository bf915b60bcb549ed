"""Same numbers on any machine shape: a run on 1 core and a run on 2 cores with another
shard count give byte-identical features, tables and predictions."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.workflow

#: Everything but the figures (which this test does not need): features, tables, predictions.
TARGETS = ["results/summary.md", "results/tables/table1_baseline.csv",
           "results/features/radiomics.parquet", "results/features/icc.csv",
           "results/features/discretisation.csv"]


def _config(tmp_path: Path, shards) -> Path:
    cfg = yaml.safe_load((ROOT / "tests/data/ci_config.yaml").read_text())
    cfg["cohort"]["simulate"]["n_patients"] = 40  # the fewest that "auto" cuts into 2 shards
    cfg["levels"] = cfg["levels"][:1]
    cfg["radiomics"]["params"] = str(ROOT / "tests/data/radiomics_fast.yaml")
    cfg["radiomics"]["shards"] = shards
    cfg["models"]["learners"] = ["logistic"]
    cfg["evaluation"]["bootstrap"] = 20
    path = tmp_path / f"config_{shards}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _run(config: Path, work: Path, *args: str) -> None:
    work.mkdir()
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(config), "--no-hooks", *args, *TARGETS]  # no HTML report
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode:
        logs = "\n".join(f"== {p}\n{p.read_text()[-2000:]}"
                         for p in sorted((work / "results/logs").rglob("*.log")))
        pytest.fail(f"workflow failed:\n{proc.stderr[-4000:]}\n{logs}")


def _hashes(work: Path) -> dict[str, str]:
    results = work / "results"
    files = [results / "predictions.csv", *sorted((results / "tables").glob("*.csv")),
             *sorted((results / "features").glob("*.csv")),
             *sorted((results / "features").glob("*.parquet"))]
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}


def _shards(work: Path) -> int:
    return len(list((work / "results/features/shards").glob("*.parquet")))


def test_one_core_and_two_cores_give_identical_files(tmp_path):
    # 1 core, radiomics.shards auto: 40 patients -> 2 shards (>= 20 patients each);
    # 2 cores with 4 shards pinned: another machine shape and another shard count
    _run(_config(tmp_path, "auto"), tmp_path / "one", "--cores", "1")
    _run(_config(tmp_path, 4), tmp_path / "two", "--cores", "2")
    assert (_shards(tmp_path / "one"), _shards(tmp_path / "two")) == (2, 4)
    one, two = _hashes(tmp_path / "one"), _hashes(tmp_path / "two")
    assert {"predictions.csv", "tables/performance.csv", "features/icc.csv",
            "features/perturbations.csv", "features/discretisation.csv",
            "features/radiomics.parquet"} <= set(one)
    differ = sorted(k for k in one if one[k] != two.get(k))
    assert set(one) == set(two) and not differ, f"files differ: {differ}"
