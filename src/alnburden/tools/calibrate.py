"""Calibration of the in-silico cohort against the published numbers, over seeds.

Runs the whole default study (the real workflow, unchanged) once per seed, with the
simulator's seed and the split's seed set to that seed, and tabulates every published number
(mean, SD, min, max over seeds) beside the published value::

    python -m alnburden.tools.calibrate --seeds 1 2 3 4 5 --cores 2
    python -m alnburden.tools.calibrate --seeds 1 2 3 --effect high_latent_low_ki67=3.5 --out DIR
    python -m alnburden.tools.calibrate --oracle --effect high_latent_low_ki67=3.5   # seconds
    python -m alnburden.tools.calibrate --null --seeds 1 2 3 4 5 --tables-only --out DIR

Writes ``results/calibration/seed_<k>/`` (one full run each), and
``results/calibration/calibration.{csv,md}``. The generator's effect sizes live in
:class:`alnburden.simulate.EffectSizes`; this script measures, it does not tune. A variant
is measured with ``--effect NAME=VALUE`` (written to ``cohort.simulate.effects`` of every
seed's config); all seeds of one ``--out`` folder must share it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from alnburden.io import write_table
from alnburden.tools.runs import DEFAULT_CONFIG, run_workflow, study_config
from alnburden.simulate.effects import parse_effect_overrides
from alnburden.evaluation.internal_validation import LOGISTIC_PROCEDURE
from alnburden.modeling.nested import nested_fold_aucs
from alnburden.evaluation.summary import check_published, comparison_table


def published_numbers(perf: pd.DataFrame, subgroups: pd.DataFrame,
                      published: list[dict]) -> list[dict]:
    """This run's AUC for each published entry (level, model, set, optional Ki-67 subgroup).

    The matching is :func:`alnburden.evaluation.summary.comparison_table`'s (the one behind
    ``results/summary.md``); this only names each number for the calibration table.
    """
    entries = check_published(published)
    table = comparison_table(perf, subgroups, entries)
    names = [f"{e['level']} {e['model']} {e['set']}"
             + (f" Ki-67 {e['subgroup']}" if e["subgroup"] else "") for e in entries]
    return [{"number": n, "published": float(pub), "auc": float(auc)}
            for n, pub, auc in zip(names, table["published_auc"], table["auc"])]


#: What ``--tables-only`` builds: every number the calibration reads (the tables rule writes
#: performance, subgroups and internal_validation together), no figure, SHAP, bundle or report.
TABLE_TARGETS = ("results/tables/performance.csv",)


def run_seed(seed: int, out_dir: Path, cores: int, configfile: Path,
             effects: dict | None = None, tables_only: bool = False) -> Path:
    """Run the study for one seed into ``out_dir`` (resumes a finished/partial run): the
    whole study, or with ``tables_only`` only what the evaluation tables need."""
    base = yaml.safe_load(Path(configfile).read_text())
    preset = dict(((base.get("cohort") or {}).get("simulate") or {}).get("effects") or {})
    config = study_config({"seed": seed, "split.seed": seed, "cohort.simulate.seed": seed,
                           "cohort.simulate.effects": {**preset, **(effects or {})}},
                          configfile)
    try:
        run_workflow(config, out_dir, cores, TABLE_TARGETS if tables_only else ())
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
    rows, variants = [], {}
    finished = {int(p.parents[2].name.removeprefix("seed_")): p.parents[2]
                for p in Path(out_dir).glob("seed_*/results/tables/performance.csv")}
    for seed, seed_dir in sorted(finished.items()):
        tables = seed_dir / "results" / "tables"
        variants[seed] = _seed_effects(seed_dir)
        for r in published_numbers(pd.read_csv(tables / "performance.csv"),
                                   pd.read_csv(tables / "subgroups.csv"),
                                   config.get("published", [])):
            rows.append({"seed": seed, **r})
    if len({repr(sorted(v.items())) for v in variants.values()}) > 1:
        listing = "; ".join(f"seed {k}: {v or 'defaults'}" for k, v in variants.items())
        raise ValueError(f"the seed runs under {out_dir} used different effect sizes "
                         f"({listing}); give each variant its own --out folder")
    if not rows:
        raise FileNotFoundError(f"no finished seed run under {out_dir}")
    return pd.DataFrame(rows)


def _seed_effects(seed_dir: Path) -> dict:
    """The ``cohort.simulate.effects`` a seed run was made with ({} for the defaults)."""
    cfg = seed_dir / "config.yaml"
    if not cfg.exists():
        return {}
    conf = yaml.safe_load(cfg.read_text()) or {}
    return dict(((conf.get("cohort") or {}).get("simulate") or {}).get("effects") or {})


def oracle_aucs(effects: dict | None = None, n_patients: int = 20000, seed: int = 1,
                ki67_cutoff: float = 20, node_positive_only: bool = False,
                high_burden_fraction: float | None = None) -> pd.DataFrame:
    """The best AUCs any model could reach on the generator, from its true probabilities.

    Seconds instead of a workflow run per seed: :func:`alnburden.simulate.simulate_tables`
    on a large cohort (no images), scored with ``truth.csv``'s probabilities: ``image`` is
    P(label | latent) (the ceiling of a radiomics model), ``full`` adds Ki-67 and the ALN
    class (the ceiling of a combined model). The pipeline lands below these ceilings (on
    the default cohort 0.07-0.09 lower at level 2, over 10-15 seeds), so they rank generator
    variants before the expensive measurement with :func:`run_seed`.

    ``node_positive_only`` and ``high_burden_fraction`` sample the cohort as a preset's
    ``cohort.simulate`` does (the burden preset: node-positive patients only, a fixed share
    with >= 3 nodes); the level-1 numbers are then left out (every patient is N+).

    Returns
    -------
    DataFrame
        ``number, oracle_auc``, plus the two prevalences (``N+ fraction`` and ``N>=3 among
        N+``) in the same column.
    """
    from sklearn.metrics import roc_auc_score

    from alnburden.simulate import EffectSizes, simulate_tables

    tab = simulate_tables(n_patients, seed, EffectSizes().replace(**(effects or {})),
                          node_positive_only=node_positive_only,
                          high_burden_fraction=high_burden_fraction)
    pos = tab["n_positive_nodes"].to_numpy() > 0
    npos = tab[pos]
    y2 = npos["high_burden"].to_numpy()
    low = npos["ki67"].to_numpy() < ki67_cutoff
    level1 = [] if node_positive_only else [
        ("level1 image", roc_auc_score(pos, tab["p_pos_image"])),
        ("level1 full", roc_auc_score(pos, tab["p_pos_full"]))]
    rows = [
        ("N+ fraction", pos.mean()),
        ("N>=3 among N+", y2.mean()),
        *level1,
        ("level2 image", roc_auc_score(y2, npos["p_high_given_pos_image"])),
        ("level2 full", roc_auc_score(y2, npos["p_high_given_pos_full"])),
        ("level2 full Ki-67 low", roc_auc_score(y2[low], npos["p_high_given_pos_full"][low])),
        ("level2 full Ki-67 high",
         roc_auc_score(y2[~low], npos["p_high_given_pos_full"][~low])),
    ]
    return pd.DataFrame(rows, columns=["number", "oracle_auc"])


def oracle_settings(config: dict, effects: dict | None = None) -> dict:
    """:func:`oracle_aucs` arguments for a study config: its simulated cohort's sampling
    (``node_positive_only``, ``high_burden_fraction``), its Ki-67 cutoff, and its effect
    sizes (``cohort.simulate.effects``) with ``effects`` (the command line's) on top."""
    from alnburden.schemas import with_defaults

    sim = (with_defaults("cohort", config.get("cohort")).get("simulate")) or {}
    return {"effects": {**(sim.get("effects") or {}), **(effects or {})},
            "ki67_cutoff": with_defaults("evaluation", config.get("evaluation"))["ki67_cutoff"],
            "node_positive_only": bool(sim.get("node_positive_only", False)),
            "high_burden_fraction": sim.get("high_burden_fraction")}


#: Effect sizes of a null cohort: the labels (N+, N>=3) depend on nothing the study sees
#: (not the latent the images show, not Ki-67, and the ALN class does not follow the node
#: count), while the images and clinical values keep their usual variation. Every honest
#: AUC of such a cohort is 0.5 in expectation; the ``cv`` rows of the level fit show the
#: optimism of choices made on all training rows.
NULL_EFFECTS = {"pos_latent": 0.0, "pos_ki67": 0.0, "high_latent_low_ki67": 0.0,
                "high_latent_high_ki67": 0.0, "high_ki67": 0.0, "high_ki67_group_shift": 0.0,
                "aln_positive_shift": 0.0, "aln_count_slope": 0.0}


def seed_aucs(out_dir: Path) -> pd.DataFrame:
    """Every AUC of every seed run under ``out_dir`` (``seed, level, model, set, auc``): the
    sets of ``performance.csv``, the bootstrap optimism-corrected AUC of
    ``internal_validation.csv`` as set ``corrected`` and the mean of the outer folds' own
    AUCs (:func:`alnburden.modeling.nested.nested_fold_aucs`, from each level's
    ``nested/fold_*.csv``) as set ``nested_fold_mean``."""
    frames = []
    for perf in sorted(Path(out_dir).glob("seed_*/results/tables/performance.csv")):
        results = perf.parents[1]
        seed = int(results.parent.name.removeprefix("seed_"))
        frames.append(pd.read_csv(perf)[["level", "model", "set", "auc"]].assign(seed=seed))
        boot = perf.with_name("internal_validation.csv")
        if boot.exists():
            b = pd.read_csv(boot)
            b = b[(b["metric"] == "auc")
                  & (b["procedure"] == LOGISTIC_PROCEDURE if "procedure" in b.columns
                     else True)]
            frames.append(pd.DataFrame({"level": b["level"], "model": b["model"],
                                        "set": "corrected", "auc": b["corrected"],
                                        "seed": seed}))
        folds = [pd.read_csv(f) for f in sorted(results.glob("*/nested/fold_*.csv"))]
        if folds:
            mean = nested_fold_aucs(folds).groupby(["level", "model"])["auc"].mean()
            frames.append(mean.reset_index().assign(set="nested_fold_mean", seed=seed))
    if not frames:
        raise FileNotFoundError(f"no finished seed run under {out_dir}")
    return pd.concat(frames, ignore_index=True)[["seed", "level", "model", "set", "auc"]]


def every_auc(out_dir: Path | None = None, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean, SD, min, max over the seed runs under ``out_dir`` (or of :func:`seed_aucs`'
    ``runs`` already read) of every AUC (level x model x set): the internal-validation table
    of the closing notes and the null study's table."""
    runs = seed_aucs(out_dir) if runs is None else runs
    g = runs.groupby(["level", "model", "set"], sort=False)["auc"]
    table = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "min": g.min(),
                          "max": g.max(), "n_seeds": g.count()}).reset_index()
    return table


#: The study's models and, per set of :func:`seed_aucs`, its name as a kind of estimate.
STUDY_MODELS = ("radiomics", "clinical", "combined")
ESTIMATE_KINDS = {"train": "apparent", "cv": "cv", "nested": "nested",
                  "nested_fold_mean": "nested_fold_mean", "corrected": "corrected",
                  "test": "test"}


def validation_view(aucs: pd.DataFrame) -> pd.DataFrame:
    """:func:`every_auc`'s means as one row per level and model of the study (radiomics,
    clinical, combined) with a column per kind of estimate: apparent, cv, nested,
    nested_fold_mean, corrected, test."""
    sub = aucs[aucs["model"].isin(STUDY_MODELS) & aucs["set"].isin(list(ESTIMATE_KINDS))]
    view = sub.pivot_table(index=["level", "model"], columns="set", values="mean",
                           sort=False).rename(columns=ESTIMATE_KINDS)
    return view[[k for k in ESTIMATE_KINDS.values() if k in view.columns]].reset_index()


def estimate_minus_test(runs: pd.DataFrame) -> pd.DataFrame:
    """Each internal estimate minus the test AUC of the same seed: mean, SD and standard
    error over seeds (``level, model, estimate, mean, sd, se, n_seeds``), from
    :func:`seed_aucs`. A mean is judged against its SE: one seed's difference varies by
    the test set's sampling error and the estimate's."""
    sub = runs[runs["model"].isin(STUDY_MODELS)]
    wide = sub.pivot_table(index=["level", "model", "seed"], columns="set", values="auc")
    rows = []
    for est in ("nested", "nested_fold_mean", "corrected"):
        if est not in wide.columns or "test" not in wide.columns:
            continue
        diff = (wide[est] - wide["test"]).dropna()
        for (level, model), d in diff.groupby(level=["level", "model"], sort=False):
            rows.append({"level": level, "model": model, "estimate": ESTIMATE_KINDS[est],
                         "mean": d.mean(), "sd": d.std(ddof=1),
                         "se": d.std(ddof=1) / np.sqrt(len(d)), "n_seeds": len(d)})
    return pd.DataFrame(rows, columns=["level", "model", "estimate", "mean", "sd", "se",
                                       "n_seeds"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the default study over seeds and compare "
                                     "with the published AUCs.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--out", type=Path, default=Path("results/calibration"))
    parser.add_argument("--effect", action="append", default=[], metavar="NAME=VALUE",
                        help="measure a generator variant: override one EffectSizes "
                             "attribute (repeatable)")
    parser.add_argument("--tables-only", action="store_true",
                        help="build only the evaluation tables of each seed (no figures, "
                             "SHAP, bundle or report): the numbers, at about 2/3 of the cost")
    parser.add_argument("--null", action="store_true",
                        help="labels independent of everything the study sees "
                             "(NULL_EFFECTS): writes every AUC's mean over seeds to "
                             "null.csv (honest AUCs are 0.5)")
    parser.add_argument("--oracle", action="store_true",
                        help="print the generator's ceiling AUCs (seconds, no workflow run) "
                             "and stop")
    args = parser.parse_args(argv)
    try:
        effects = parse_effect_overrides(args.effect)
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    if args.null:
        effects = {**effects, **NULL_EFFECTS}
    config = yaml.safe_load(args.configfile.read_text())
    if args.oracle:
        print(oracle_aucs(**oracle_settings(config, effects)).to_markdown(index=False,
                                                                          floatfmt=".3f"))
        return
    for seed in args.seeds:
        t0 = time.perf_counter()
        run_seed(seed, args.out.resolve() / f"seed_{seed}", args.cores, args.configfile.resolve(),
                 effects, tables_only=args.tables_only)
        print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    runs = seed_aucs(args.out)
    aucs, differences = every_auc(runs=runs), estimate_minus_test(runs)
    seeds = sorted(int(p.name.removeprefix("seed_")) for p in args.out.glob("seed_*"))
    variant = ", ".join(f"{k}={v}" for k, v in effects.items()) or "default effect sizes"
    view = validation_view(aucs)
    print(view.to_markdown(index=False, floatfmt=".3f"))
    if args.null:
        aucs["difference_from_0.5"] = aucs["mean"] - 0.5
        write_table(aucs, args.out / "null.csv", float_format="%.3f",
                    title=f"Null cohort (labels independent of images and clinical values), "
                          f"seeds {seeds}: AUC by level, model and set")
        print(aucs.to_markdown(index=False, floatfmt=".3f"))
        return
    write_table(aucs, args.out / "aucs.csv", float_format="%.3f",
                title=f"Every AUC over seeds {seeds} ({variant})")
    write_table(view, args.out / "internal_validation.csv", float_format="%.3f",
                title=f"Mean AUC by kind of estimate over seeds {seeds} ({variant})")
    write_table(differences, args.out / "estimate_minus_test.csv", float_format="%.3f",
                title=f"Internal estimate minus test AUC, per seed, over seeds {seeds} "
                      f"({variant})")
    print(differences.to_markdown(index=False, floatfmt=".3f"))
    rows = collect_seeds(args.out, config)
    rows.to_csv(args.out / "calibration_runs.csv", index=False)
    table = summarise(rows)
    seeds = sorted(int(k) for k in rows["seed"].unique())
    write_table(table, args.out / "calibration.csv", float_format="%.3f",
                title=f"In-silico calibration over seeds {seeds} ({variant})")
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
