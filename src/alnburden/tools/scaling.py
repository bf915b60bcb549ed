"""End-to-end timing of the study: one run, and runs over cohort sizes (scaling).

A run is the real workflow (:func:`alnburden.tools.runs.run_workflow`) on the default config
with only the simulated cohort size changed, started from an empty results folder. Its
wall time is split into three stages from the files it wrote:

``cohort``
    start -> the validated cohort table (simulation, validation);
``extraction``
    -> the last radiomics shard (lesion + ring features, perturbed-mask features);
``after_extraction``
    -> the end of the run (ICC, models, evaluation, figures, report).

Per-rule times come from Snakemake's ``benchmark:`` files
(:func:`alnburden.tools.runs.rule_breakdown`).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from alnburden.figures.style import save_figure
from alnburden.io import write_table
from alnburden.tools.runs import DEFAULT_CONFIG, rule_breakdown, run_workflow, study_config

logger = logging.getLogger(__name__)


def stage_times(results: str | Path, t_start: float, t_end: float) -> dict[str, float]:
    """Seconds spent in each stage of a run that started at ``t_start`` and ended at
    ``t_end`` (epoch seconds), from the modification times of its outputs."""
    results = Path(results)
    cohort_done = (results / "cohort" / "cohort.csv").stat().st_mtime
    shards = list((results / "features").glob("shards/*.parquet"))
    shards += list((results / "features").glob("robustness/*.parquet"))
    if not shards:
        raise FileNotFoundError(f"no radiomics shards under {results / 'features'}; "
                                "was this a clinical-only run?")
    extraction_done = max(p.stat().st_mtime for p in shards)
    return {"cohort_s": cohort_done - t_start,
            "extraction_s": extraction_done - cohort_done,
            "after_extraction_s": t_end - extraction_done}


def time_study(n_patients: int, out_dir: str | Path, cores: int,
               configfile: str | Path = DEFAULT_CONFIG, fresh: bool = True) -> tuple[dict, pd.DataFrame]:
    """Run the study on ``n_patients`` simulated patients in ``out_dir`` and time it.

    Parameters
    ----------
    fresh
        Delete ``out_dir/results`` first, so nothing is reused from an earlier run.

    Returns
    -------
    (dict, DataFrame)
        ``n_patients, cores, wall_s, s_per_patient`` and the stages of :func:`stage_times`;
        the per-rule breakdown (also written to ``results/benchmarks/rules.csv``).
    """
    out_dir = Path(out_dir)
    if fresh:
        shutil.rmtree(out_dir / "results", ignore_errors=True)
        shutil.rmtree(out_dir / ".snakemake", ignore_errors=True)
    config = study_config({"cohort.simulate.n_patients": int(n_patients)}, configfile)
    t0 = time.time()
    run_workflow(config, out_dir, cores)
    t1 = time.time()
    rules = rule_breakdown(out_dir / "results")
    write_table(rules, out_dir / "results" / "benchmarks" / "rules.csv", float_format="%.1f",
                title=f"Per-rule time, {n_patients} patients, {cores} cores")
    row = {"n_patients": int(n_patients), "cores": int(cores), "wall_s": t1 - t0,
           "s_per_patient": (t1 - t0) / n_patients,
           **stage_times(out_dir / "results", t0, t1)}
    logger.info("%d patients: %.0f s (%.2f s per patient)", n_patients, row["wall_s"],
                row["s_per_patient"])
    return row, rules


def bench_scaling(sizes: Sequence[int], cores: int, out_dir: str | Path,
                  configfile: str | Path = DEFAULT_CONFIG) -> pd.DataFrame:
    """Time the study at each cohort size; write ``scaling.csv`` (+ .md) and the figure.

    Each size runs from scratch in ``out_dir/scaling/n<size>/``.
    """
    out_dir = Path(out_dir)
    rows = [time_study(n, out_dir / "scaling" / f"n{n}", cores, configfile)[0] for n in sizes]
    table = pd.DataFrame(rows)
    for stage in ("cohort", "extraction", "after_extraction"):
        table[f"{stage}_s_per_patient"] = table[f"{stage}_s"] / table["n_patients"]
    write_table(table, out_dir / "scaling.csv", float_format="%.3f",
                title=f"Study wall time by cohort size ({cores} cores)")
    plot_scaling(table, out_dir / "scaling")
    return table


def plot_scaling(table: pd.DataFrame, path: str | Path) -> list[Path]:
    """Two panels: wall time per patient by stage (flat = linear scaling), total wall time."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    n = table["n_patients"]
    styles = {"s_per_patient": ("total", "k", "o"), "cohort_s_per_patient": ("cohort", "C0", "s"),
              "extraction_s_per_patient": ("extraction", "C1", "^"),
              "after_extraction_s_per_patient": ("after extraction", "C2", "v")}
    for col, (label, color, marker) in styles.items():
        ax1.plot(n, table[col], marker=marker, color=color, label=label)
    ax1.set_xscale("log", base=2)
    ax1.set_xticks(n, [str(v) for v in n])
    ax1.set_ylim(bottom=0)
    ax1.set_xlabel("Patients")
    ax1.set_ylabel("Wall time per patient (s)")
    ax1.legend(frameon=False, fontsize=8)
    ax1.set_title("Time per patient by stage")
    ax2.plot(n, table["wall_s"] / 60, marker="o", color="k")
    ax2.set_xlabel("Patients")
    ax2.set_ylabel("Wall time (min)")
    ax2.set_ylim(bottom=0)
    ax2.set_title(f"Whole study, {int(table['cores'].iloc[0])} cores")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)
