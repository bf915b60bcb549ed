"""Calibration of the in-silico cohort against the published numbers, over seeds.

Runs the whole default study (the real workflow, unchanged) once per seed, with the
simulator's seed and the split's seed set to that seed, and tabulates every published number
(mean, SD, min, max over seeds) beside the published value::

    python -m alnburden.calibrate --seeds 1 2 3 4 5 --cores 2

Writes ``results/calibration/seed_<k>/`` (one full run each), and
``results/calibration/calibration.{csv,md}``. The generator's effect sizes live in
:class:`alnburden.simulate.EffectSizes`; this script measures, it does not tune.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import yaml

from alnburden.io import write_table
from alnburden.runs import DEFAULT_CONFIG, run_workflow, study_config


def published_numbers(perf: pd.DataFrame, subgroups: pd.DataFrame, published: list[dict],
                      ki67_cutoff: float = 20) -> list[dict]:
    """This run's AUC for each published entry (level, model, set, optional Ki-67 subgroup)."""
    from alnburden.evaluation import subgroup_kind

    out = []
    for e in published:
        if e.get("subgroup"):
            sub = subgroups[(subgroups["level"] == e["level"]) & (subgroups["model"] == e["model"])]
            sub = sub[sub["subgroup"].map(subgroup_kind) == e["subgroup"]]
            auc = float(sub["auc"].iloc[0]) if len(sub) else float("nan")
        else:
            row = perf[(perf["level"] == e["level"]) & (perf["model"] == e["model"])
                       & (perf["set"] == e["set"])]
            auc = float(row["auc"].iloc[0]) if len(row) else float("nan")
        name = f"{e['level']} {e['model']} {e['set']}" + (f" Ki-67 {e['subgroup']}" if e.get("subgroup") else "")
        out.append({"number": name, "published": e["auc"], "auc": auc})
    return out


def run_seed(seed: int, out_dir: Path, cores: int, configfile: Path) -> Path:
    """Run the whole study for one seed into ``out_dir`` (resumes a finished/partial run)."""
    config = study_config({"seed": seed, "split.seed": seed, "cohort.simulate.seed": seed},
                          configfile)
    try:
        run_workflow(config, out_dir, cores)
    except RuntimeError as err:
        raise RuntimeError(f"seed {seed}: {err}") from err
    return out_dir / "results"


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, min, max of each number over seeds, and whether the mean is within 0.04."""
    g = rows.groupby("number", sort=False)
    table = pd.DataFrame({
        "published": g["published"].first(), "mean": g["auc"].mean(), "sd": g["auc"].std(ddof=1),
        "min": g["auc"].min(), "max": g["auc"].max(), "n_seeds": g["auc"].count()})
    table["difference"] = table["mean"] - table["published"]
    table["within_0.04"] = table["difference"].abs() <= 0.04
    return table.reset_index()


def collect_seeds(out_dir: Path, config: dict) -> pd.DataFrame:
    """The published numbers of every finished ``seed_<k>`` run under ``out_dir``.

    A later call with more seeds (``--seeds 6 7 8 9 10``) therefore extends the table instead
    of replacing it.
    """
    rows = []
    runs = sorted(Path(out_dir).glob("seed_*/results/tables/performance.csv"),
                  key=lambda p: int(p.parents[2].name.removeprefix("seed_")))
    for perf_path in runs:
        tables = perf_path.parent
        seed = int(tables.parents[1].name.removeprefix("seed_"))
        for r in published_numbers(pd.read_csv(perf_path), pd.read_csv(tables / "subgroups.csv"),
                                   config.get("published", []),
                                   config.get("evaluation", {}).get("ki67_cutoff", 20)):
            rows.append({"seed": seed, **r})
    if not rows:
        raise FileNotFoundError(f"no finished seed run under {out_dir}")
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the default study over seeds and compare "
                                     "with the published AUCs.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--out", type=Path, default=Path("results/calibration"))
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.configfile.read_text())
    for seed in args.seeds:
        t0 = time.perf_counter()
        run_seed(seed, args.out.resolve() / f"seed_{seed}", args.cores, args.configfile.resolve())
        print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    rows = collect_seeds(args.out, config)
    rows.to_csv(args.out / "calibration_runs.csv", index=False)
    table = summarise(rows)
    seeds = sorted(int(k) for k in rows["seed"].unique())
    write_table(table, args.out / "calibration.csv", float_format="%.3f",
                title=f"In-silico calibration over seeds {seeds}")
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
