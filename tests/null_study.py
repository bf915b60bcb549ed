"""The null study of docs/internal_validation.md: the leakage test's construction over seeds.

Labels permuted (independent of every feature and clinical value) on
``test_modeling.synthetic_study``; for each seed the level fit (its ``cv`` and ``test`` rows)
and the 5 outer folds of the nested CV; prints the mean and SD over seeds of each model's
AUC per kind of estimate and writes every seed's AUCs to ``--out``::

    python tests/null_study.py --patients 240 --features 80 --seeds 11 12 13 14 15
    python tests/null_study.py --patients 1000 --features 80 --seeds 11 ... 25

Not a test (pytest does not collect it): ``test_nested.py`` asserts chance on 5 seeds; this
measures how close to 0.5 the means are over more seeds or patients.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))

from alnburden.modeling.level_fit import fit_level  # noqa: E402
from alnburden.modeling.nested import fit_outer_fold, merge_nested, nested_fold_aucs  # noqa: E402
from test_modeling import CONFIG, LEVEL1, VARIABLES, synthetic_study  # noqa: E402

NESTED = {"folds": 5, "repeats": 1, "seed": 7, "tuning_repeats": 1}
MODELS = ("radiomics", "clinical", "combined")


def null_seed(n_patients: int, n_features: int, seed: int) -> list[dict]:
    """Every model's cv, nested and test AUC on one permuted-label synthetic study."""
    cohort, split, features, icc = synthetic_study(n_patients, n_features, seed=seed,
                                                   signal=2.0)
    rng = np.random.default_rng(seed)
    cohort = cohort.assign(
        n_positive_nodes=rng.permutation(cohort["n_positive_nodes"].to_numpy()))
    cfg = {**CONFIG, "seed": seed}
    with tempfile.TemporaryDirectory() as folder:
        preds = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, folder)
    folds = [fit_outer_fold(cohort, split, features, None, LEVEL1, VARIABLES, cfg, fold=k,
                            nested=NESTED) for k in range(NESTED["folds"])]
    sets = {"cv": preds[preds["set"] == "cv"], "nested": merge_nested(folds),
            "test": preds[preds["set"] == "test"]}
    rows = [{"seed": seed, "set": name, "model": model, "n": len(g),
             "auc": roc_auc_score(g["y_true"], g["p"])}
            for name, rows in sets.items() for model, g in rows.groupby("model")
            if model in MODELS]
    per_fold = nested_fold_aucs(folds)
    return rows + [{"seed": seed, "set": "nested (fold mean)", "model": model, "n": int(g["n"].sum()),
                    "auc": float(g["auc"].mean())}
                   for model, g in per_fold.groupby("model") if model in MODELS]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=240)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13, 14, 15])
    parser.add_argument("--out", type=Path, default=Path("null_study.csv"))
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds:
        rows += null_seed(args.patients, args.features, seed)
        print(f"seed {seed} done", flush=True)
    runs = pd.DataFrame(rows)
    runs.to_csv(args.out, index=False)
    g = runs.groupby(["model", "set"])["auc"]
    table = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n_seeds": g.count()})
    table["se"] = table["sd"] / np.sqrt(table["n_seeds"])
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
