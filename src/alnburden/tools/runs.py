"""Run the whole workflow, unchanged, into a folder of its own (calibration, benchmarks),
and read back the per-rule times it recorded.

The tools that measure the study over seeds (:mod:`alnburden.tools.calibrate`) or over cohort
sizes (:mod:`alnburden.tools.scaling`) do not re-implement it: they write a copy of the config
with a few keys changed into ``<out_dir>/config.yaml`` and run ``snakemake`` there, so
what they measure is exactly what ``snakemake --cores N`` does.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG = ROOT / "config" / "config.yaml"


def study_config(changes: Mapping[str, object], configfile: str | Path = DEFAULT_CONFIG) -> dict:
    """The config of ``configfile`` with ``changes`` applied; keys are dotted paths.

    >>> study_config({"cohort.simulate.n_patients": 150})["cohort"]["simulate"]["n_patients"]
    150
    """
    config = copy.deepcopy(yaml.safe_load(Path(configfile).read_text()))
    for dotted, value in changes.items():
        node = config
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return config


def run_workflow(config: Mapping, out_dir: str | Path, cores: int,
                 extra_args: Sequence[str] = ()) -> float:
    """Run the study with ``config`` in ``out_dir`` (results in ``out_dir/results``).

    A finished or partial run there is resumed (``--rerun-incomplete``). The Snakemake
    output goes to ``out_dir/workflow_run.log``.

    Returns
    -------
    float
        Wall time (s) of the ``snakemake`` process.

    Raises
    ------
    RuntimeError
        When the workflow fails, naming the log.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    configfile = out_dir / "config.yaml"
    configfile.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(configfile), "--cores", str(cores), "--rerun-incomplete",
           *extra_args]
    log = out_dir / "workflow_run.log"
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=out_dir, stdout=fh, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"the workflow failed in {out_dir}; see {log}")
    return wall


def rule_breakdown(results: str | Path = "results") -> pd.DataFrame:
    """Per-rule wall and CPU time of a finished run, from Snakemake's ``benchmark:`` files
    (``results/benchmarks/<rule>.tsv`` or ``<rule>/<wildcards>.tsv``).

    ``wall_s`` is exact. ``cpu_s`` is Snakemake's *sampled* CPU time (``psutil`` polled at
    intervals), which misses the end of each job: it undercounts short jobs by up to half,
    so compare rules by ``wall_s``.
    """
    bench = Path(results) / "benchmarks"
    rows = []
    for tsv in sorted(bench.rglob("*.tsv")):
        rule = tsv.parent.name if tsv.parent != bench else tsv.stem
        t = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": rule, "wall_s": float(t["s"].iloc[-1]),
                     "cpu_s": float(t["cpu_time"].iloc[-1]), "max_rss_mb": float(t["max_rss"].iloc[-1])})
    if not rows:
        raise FileNotFoundError(f"no benchmark files under {bench}: run the workflow first")
    df = pd.DataFrame(rows)
    out = df.groupby("rule", sort=False).agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"),
                                             cpu_s=("cpu_s", "sum"), max_rss_mb=("max_rss_mb", "max"))
    out = out.sort_values("wall_s", ascending=False).reset_index()
    out.loc[len(out)] = {"rule": "total", "jobs": int(out["jobs"].sum()), "wall_s": out["wall_s"].sum(),
                         "cpu_s": out["cpu_s"].sum(), "max_rss_mb": out["max_rss_mb"].max()}
    return out
