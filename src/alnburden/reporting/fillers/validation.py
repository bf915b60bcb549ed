"""Fillers of the split and the validation: training and test sets, how the test set
relates to the development data."""

from __future__ import annotations

from alnburden.reporting.fillers.phrases import plural
from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.run_facts import has_external, has_nested
from alnburden.reporting.fillers.split import split_facts


def _outer_folds(run: RunRecord) -> str:
    """"5 outer folds for level1, 10 for level2, 1 repeat": each level's own nested_folds or
    internal_validation.nested.folds."""
    design = run.design
    counts = [(lv.name, lv.outer_folds_or(design.nested_folds)) for lv in design.levels]
    if len({k for _, k in counts}) == 1:
        folds = f"{counts[0][1]} outer folds"
    else:
        folds = ", ".join(f"{k} outer folds for {name}" if i == 0 else f"{k} for {name}"
                          for i, (name, k) in enumerate(counts))
    return f"{folds}, {plural(design.nested_repeats, 'repeat')}"


@filler("data_split")
def data_split(run: RunRecord) -> Filled:
    split = split_facts(run)
    mcfg = run.config.get("models", {})
    folds = (f"{mcfg.get('cv_folds')}-fold x {mcfg.get('cv_repeats')} repeats for tuning, "
             f"{mcfg.get('rad_score_folds')} folds for the out-of-fold Rad-score"
             + (f", each fold keeping a `{split.group}` group's rows together" if split.group
                else ""))
    parts = [split.sides() + ". Everything that learns (imputation, scaling, filters, "
             "selection, learners, cutoffs) is fitted on training patients only, inside every "
             f"cross-validation fold ({folds}); the test set is scored once."]
    evidence = [run.path("split")]
    if split.repeats:
        parts.append(split.repeated() + ".")
        if run.has("repeated_splits"):
            evidence.append(run.path("repeated_splits"))
    if has_nested(run):
        parts.append(f"Nested cross-validation of the whole level fit ({_outer_folds(run)}) "
                     "gives out-of-fold predictions (`set = nested`).")
        evidence.append(run.path("predictions"))
    if run.has("internal_validation"):
        evidence.append(run.path("internal_validation"))
        parts.append("Internal validation (apparent, optimism-corrected, nested, test) is in "
                     "`internal_validation.csv`.")
    return Filled(" ".join(parts), tuple(evidence), {**split.facts(), "nested": has_nested(run)})


@filler("testing")
def testing(run: RunRecord) -> Filled:
    split = split_facts(run)
    unit = "row" if split.kind == "grouped" else "patient"
    text = (f"Internal testing on a {split.test_set} ({plural(split.n_test, unit)}; "
            f"{split.n_train} for development) scored once"
            + (", nested cross-validation" if has_nested(run) else "")
            + (f"; the whole fit was also repeated on {plural(split.repeats, 'random split')}"
               if split.repeats else "")
            + ("; external testing on another cohort" if has_external(run)
               else "; no external testing in this run") + ".")
    return Filled(text, (run.path("split"), run.path("performance")),
                  {**split.facts(), "nested": has_nested(run)})


@filler("train_vs_evaluation")
def train_vs_evaluation(run: RunRecord) -> Filled:
    text = (f"The test set is {split_facts(run).test_part} (same setting, eligibility, "
            "outcome and predictors); Table 1 compares training and test patients.")
    if has_external(run):
        text += " The external cohort's rows are evaluated with the frozen models."
    return Filled(text, (run.path("table1"),), {})


@filler("evaluation_vs_development")
def evaluation_vs_development(run: RunRecord) -> Filled:
    return Filled(train_vs_evaluation(run).text, (run.path("table1"),), {})


@filler("clusters")
def clusters(run: RunRecord) -> Filled:
    group = split_facts(run).group
    if group:
        return Filled(f"Rows are clustered in `{group}` groups (config split.group): the split "
                      "and every inner cross-validation fold keep a group's rows together; no "
                      "clustered (random-effects) model; one data source, no centre variable.",
                      (run.path("split"),), {"group": group})
    return Filled("Not examined: the run has one data source and no centre variable.", (), {})
