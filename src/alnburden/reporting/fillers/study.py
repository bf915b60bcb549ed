"""Fillers of the study as a whole: outline, population, objectives, limitations, use."""

from __future__ import annotations

from alnburden.reporting.fillers.counts import level_counts
from alnburden.reporting.fillers.phrases import plural, word_list
from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.run_facts import (arms_phrase, has_external, has_nested,
                                                   level_phrase)
from alnburden.reporting.fillers.split import split_facts


@filler("study_outline")
def study_outline(run: RunRecord) -> Filled:
    levels = run.levels
    inputs = word_list((["ultrasound radiomics"] if run.design.has_images else [])
                   + (["clinical variables"] if run.design.has_clinical else []))
    text = (f"Study `{run.config['study']}`: development and internal test of diagnostic "
            f"prediction models from {inputs}. Outcomes: "
            + "; ".join(level_phrase(run, lv) for lv in levels)
            + f". Per level: {arms_phrase(run)}.")
    return Filled(text, (), {"levels": levels, "arms": list(run.design.arms)})


@filler("target_population")
def target_population(run: RunRecord) -> Filled:
    text = ("The models apply to the population of each level: "
            + "; ".join(level_phrase(run, lv) for lv in run.levels)
            + ". Inputs: " + user_interaction(run).text.split("; the workflow")[0]
            .removeprefix("Users supply ") + ".")
    return Filled(text, (run.path("cohort"),), {"levels": run.levels})


@filler("objectives")
def objectives(run: RunRecord) -> Filled:
    split = split_facts(run)
    validation = [f"a {split.test_set} (internal validation)"]
    if split.repeats:
        validation.append(plural(split.repeats, "repeated random split"))
    if has_nested(run):
        validation.append("nested cross-validation of the whole level fit")
    if has_external(run):
        validation.append("an external cohort")
    text = (f"Development of {arms_phrase(run)} for each of {plural(len(run.levels), 'level')}, "
            f"and their evaluation on {word_list(validation)}.")
    return Filled(text, (run.path("performance"),),
                  {"nested": has_nested(run), "external": has_external(run)})


@filler("guideline_adherence")
def guideline_adherence(run: RunRecord) -> Filled:
    return Filled("This checklist (CLEAR) and the TRIPOD+AI checklist were filled from the "
                  "run's files by the workflow (`results/checklists/`); items marked "
                  "*authors* remain to be completed.", (), {})


@filler("pipeline")
def pipeline(run: RunRecord) -> Filled:
    return Filled("The run's rule graph is drawn in the Snakemake report (`results/report.html`, "
                  "Workflow); `docs/architecture.md` of the workflow describes every step.",
                  (), {})


@filler("limitations")
def limitations(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    facts = [f"{lv}: {c['train_events']} training events" for lv, c in counts.items()]
    split = split_facts(run)
    parts = [f"Facts to discuss: {word_list(facts)}; one {split.name} of one source"
             + (f" (and {plural(split.repeats, 'repeated random split')})" if split.repeats
                else "")
             + ("" if has_external(run) else ", no external validation")
             + ("" if has_nested(run) else "; hyperparameters and clinical predictors chosen on "
                "all training rows, so CV estimates are slightly optimistic")]
    if run.design.simulated:
        parts.append("the cohort is simulated: the results are not clinical evidence")
    return Filled("; ".join(parts) + ".", (run.path("cohort"), run.path("split")), {})


@filler("input_quality")
def input_quality(run: RunRecord) -> Filled:
    checks = (["unreadable or mismatched images", "empty masks"] if run.design.has_images
              else []) + ["out-of-range or missing values"]
    text = f"Inputs are validated before use ({word_list(checks)} are reported per row)"
    if run.design.has_clinical:
        text += "; a missing clinical value at prediction time takes the training median or mode"
    if run.design.nomogram_model:
        text += ("; the calculator refuses values outside the allowed range and flags values "
                 "outside the training range")
    return Filled(text + ".", (run.path("cohort"),), {})


@filler("user_interaction")
def user_interaction(run: RunRecord) -> Filled:
    need = (["a lesion mask drawn on the ultrasound image"] if run.design.has_images else [])
    need += ["the clinical variables"] if run.design.has_clinical else []
    inputs = word_list((["the Rad-score"] if run.design.has_combined else [])
                       + (["clinical values"] if run.design.has_clinical else []))
    calculator = f" (or the calculator, from {inputs})" if run.design.nomogram_model else ""
    return Filled(f"Users supply {word_list(need)}; the workflow{calculator} computes the rest.",
                  (), {})
