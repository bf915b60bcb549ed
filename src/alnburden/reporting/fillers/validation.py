"""Fillers of the split and the validation: training and test sets, how the test set
relates to the development data."""

from __future__ import annotations

from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.run_facts import has_external, has_nested


@filler("data_split")
def data_split(run: RunRecord) -> Filled:
    sp = run.config["split"]
    split = run.table("split")
    n_train, n_test = int((split["set"] == "train").sum()), int((split["set"] == "test").sum())
    mcfg = run.config.get("models", {})
    parts = [f"Random split of patients (one row each) into training ({n_train}) and test "
             f"({n_test}) sets, test fraction {sp.get('test_fraction')}, seed {sp.get('seed')}, "
             "stratified by nodal class (or the levels' labels); `split.csv` lists every "
             "patient's set. Everything that learns (imputation, scaling, filters, selection, "
             "learners, cutoffs) is fitted on training patients only, inside every "
             f"cross-validation fold ({mcfg.get('cv_folds')}-fold x {mcfg.get('cv_repeats')} "
             f"repeats for tuning, {mcfg.get('rad_score_folds')} folds for the out-of-fold "
             "Rad-score); the test set is scored once."]
    evidence = [run.path("split")]
    if has_nested(run):
        parts.append("Nested cross-validation of the whole level fit gives out-of-fold "
                     "predictions (`set = nested`).")
        evidence.append(run.path("predictions"))
    if run.has("internal_validation"):
        evidence.append(run.path("internal_validation"))
        parts.append("Internal validation (apparent, optimism-corrected, nested, test) is in "
                     "`internal_validation.csv`.")
    return Filled(" ".join(parts), tuple(evidence),
                  {"n_train": n_train, "n_test": n_test, "nested": has_nested(run)})


@filler("testing")
def testing(run: RunRecord) -> Filled:
    split = data_split(run)
    text = (f"Internal testing on a random hold-out set ({split.facts['n_test']} patients; "
            f"{split.facts['n_train']} for development) scored once"
            + (", nested cross-validation" if has_nested(run) else "")
            + ("; external testing on another cohort" if has_external(run)
               else "; no external testing in this run") + ".")
    return Filled(text, (run.path("split"), run.path("performance")), split.facts)


@filler("train_vs_evaluation")
def train_vs_evaluation(run: RunRecord) -> Filled:
    text = ("The test set is a random part of the same cohort (same setting, eligibility, "
            "outcome and predictors); Table 1 compares training and test patients.")
    if has_external(run):
        text += " The external cohort's rows are evaluated with the frozen models."
    return Filled(text, (run.path("table1"),), {})


@filler("evaluation_vs_development")
def evaluation_vs_development(run: RunRecord) -> Filled:
    return Filled(train_vs_evaluation(run).text, (run.path("table1"),), {})


@filler("clusters")
def clusters(run: RunRecord) -> Filled:
    return Filled("Not examined: the run has one data source and no centre variable.", (), {})
