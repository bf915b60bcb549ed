"""The clinical model's internal estimates against its true AUC, over many simulated cohorts.

The workflow's calibration (:mod:`alnburden.tools.calibrate`) compares each internal estimate
with the test AUC of the same seed; both are noisy (one seed's nested-minus-test difference
has an SD of about 0.09 at level 2), so 15 seeds cannot tell a bias of 0.02 from noise. The
clinical arm needs no pixels: this tool repeats *its* whole procedure on hundreds of cohorts
of the default generator (:func:`alnburden.simulate.cohort.simulate_tables`, seconds each)
and scores every fitted model on a large independent population of the same generator, whose
AUC is the model's true one. Per seed and level:

- the study's stratified 7:3 split (:func:`alnburden.cohort.split.stratified_split`);
- the clinical arm on the training patients (:func:`select_clinical_predictors`, the
  config's strategy): its ``apparent`` AUC, its ``test`` AUC and its ``true`` AUC on the
  population;
- the nested CV of that arm (:func:`alnburden.modeling.nested.outer_folds`, the config's
  folds, the strategy refitted in each outer fold): ``nested`` (pooled out-of-fold) and
  ``nested_fold_mean`` (mean of the folds' own AUCs);
- Harrell's bootstrap (:func:`alnburden.modeling.optimism.optimism_bootstrap`):
  ``corrected``.

Each estimate's mean minus the true AUC, with its standard error over seeds, is its bias::

    python -m alnburden.tools.clinical_truth --seeds 1 400 --out results/clinical_truth

Not a test: ``tests/test_clinical_truth.py`` runs it on a few seeds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from alnburden.cohort.split import stratified_split
from alnburden.io import quiet_logger, write_table
from alnburden.levels import levels_from_config
from alnburden.modeling.clinical import ClinicalSettings, select_clinical_predictors
from alnburden.modeling.level_fit import level_data
from alnburden.modeling.nested import outer_folds
from alnburden.modeling.optimism import auc, optimism_bootstrap
from alnburden.schemas import with_defaults
from alnburden.simulate.cohort import simulate_tables
from alnburden.tools.runs import DEFAULT_CONFIG

__all__ = ["ESTIMATES", "seed_estimates", "bias_table", "main"]

#: The kinds of estimate of each seed, in the order of the table.
ESTIMATES = ("apparent", "nested", "nested_fold_mean", "corrected", "test")


def seed_estimates(seed: int, config: dict, population: pd.DataFrame,
                   n_patients: int = 583, n_boot: int = 100) -> list[dict]:
    """Every estimate of the clinical model's AUC of one simulated cohort, per level, with
    the model's true AUC on ``population`` (rows ``seed, level, n, events, predictors,
    <ESTIMATES>, true``)."""
    cohort = simulate_tables(n_patients, seed=seed)
    split = stratified_split(cohort, float(config["split"].get("test_fraction", 0.3)),
                             seed=seed)
    variables = config["clinical"]["variables"]
    models = config.get("models") or {}
    settings = ClinicalSettings.from_config(models, seed)
    nested = with_defaults("internal_validation", config.get("internal_validation"))["nested"]
    rows = []
    for level in levels_from_config(config):
        data = level_data(cohort, split, level)
        train, test = data[data["set"] == "train"], data[data["set"] == "test"]
        pop = level_data(population, population[["patient_id", "set"]], level)
        y = train["y"].to_numpy().astype(int)
        fit = select_clinical_predictors(train, y, variables, settings)
        oof = np.full(len(train), np.nan)
        fold_aucs = []
        for tr, held in outer_folds(y, level.outer_folds_or(int(nested["folds"])), 1,
                                    int(nested["seed"])):
            inner = select_clinical_predictors(train.iloc[tr], y[tr], variables, settings)
            oof[held] = inner.model.predict_proba(train.iloc[held])[:, 1]
            fold_aucs.append(auc(y[held], oof[held]))
        boot = optimism_bootstrap(train, y, variables, settings, n_boot, seed).table
        corrected = boot.loc[(boot["model"] == "clinical") & (boot["metric"] == "auc"),
                             "corrected"]
        rows.append({
            "seed": seed, "level": level.name, "n": len(train), "events": int(y.sum()),
            "predictors": len(fit.predictors),
            "apparent": auc(y, fit.model.predict_proba(train)[:, 1]),
            "nested": auc(y, oof), "nested_fold_mean": float(np.nanmean(fold_aucs)),
            "corrected": float(corrected.iloc[0]) if len(corrected) else float("nan"),
            "test": auc(test["y"], fit.model.predict_proba(test)[:, 1]),
            "true": auc(pop["y"], fit.model.predict_proba(pop)[:, 1])})
    return rows


def bias_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per level and estimate: its mean, the mean true AUC, the bias (mean of estimate -
    true), its SD and standard error over seeds."""
    rows = []
    for level, g in runs.groupby("level", sort=False):
        for est in ESTIMATES:
            d = (g[est] - g["true"]).dropna()
            rows.append({"level": level, "estimate": est, "mean": g[est].mean(),
                         "true": g["true"].mean(), "bias": d.mean(), "sd": d.std(ddof=1),
                         "se": d.std(ddof=1) / np.sqrt(len(d)), "n_seeds": len(d)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=[1, 201], metavar=("FIRST", "STOP"),
                        help="seeds FIRST, FIRST+1, ..., STOP-1")
    parser.add_argument("--configfile", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--strategy", default=None,
                        help="override models.clinical_strategy (p_value, prespecified, "
                             "penalized)")
    parser.add_argument("--folds", type=int, default=None,
                        help="outer folds of every level (in place of the levels' "
                             "nested_folds and internal_validation.nested.folds)")
    parser.add_argument("--boot", type=int, default=100, help="bootstrap resamples per seed")
    parser.add_argument("--population", type=int, default=30000,
                        help="patients of the independent population (seed 987654)")
    parser.add_argument("--out", type=Path, default=Path("results/clinical_truth"))
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.configfile.read_text())
    if args.strategy:
        config["models"] = {**(config.get("models") or {}), "clinical_strategy": args.strategy}
    if args.folds:
        iv = dict(config.get("internal_validation") or {})
        iv["nested"] = {**(iv.get("nested") or {}), "folds": args.folds}
        config["internal_validation"] = iv
        config["levels"] = [{k: v for k, v in lv.items() if k != "nested_folds"}
                            for lv in config["levels"]]
    population = simulate_tables(args.population, seed=987654).assign(set="test")
    rows, t0 = [], time.perf_counter()
    with quiet_logger("alnburden"):  # hundreds of fits' EPV and VIF warnings
        for seed in range(*args.seeds):
            rows += seed_estimates(seed, config, population, n_boot=args.boot)
            if seed % 20 == 0:
                print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    runs = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    table = bias_table(runs)
    strategy = (config.get("models") or {}).get("clinical_strategy", "p_value")
    write_table(table, args.out / "bias.csv", float_format="%.4f",
                title=f"Clinical model ({strategy}): each estimate's bias against the true "
                      f"AUC, seeds {args.seeds[0]}-{args.seeds[1] - 1}")
    print(table.to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
