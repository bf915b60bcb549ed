"""Fillers of the cohort: its source, eligibility, outcomes, size, missing values, flow."""

from __future__ import annotations

from alnburden.reporting.fillers.counts import level_counts, missing_counts
from alnburden.reporting.fillers.phrases import percent, plural, word_list
from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.run_facts import (clinical_variables, level_phrase,
                                                   optional_table, validation_report)
from alnburden.reporting.fillers.split import split_facts


@filler("data_source")
def data_source(run: RunRecord) -> Filled:
    cohort = run.table("cohort")
    if run.design.simulated:
        sim = run.config["cohort"]["simulate"]
        text = (f"In-silico cohort of {plural(len(cohort), 'patient')} written by the workflow's "
                f"seeded generator (seed {sim['seed']}): simulated B-mode images, masks and "
                "clinical data in the manifest format. **A simulation, not clinical data.** "
                "Development and test data come from the same source, divided by the "
                f"{split_facts(run).name}.")
        facts = {"n_patients": len(cohort), "simulated": True, "seed": int(sim["seed"])}
    else:
        split = split_facts(run)
        rows = (f"{plural(len(cohort), 'row')} in {plural(cohort[split.group].nunique(), 'group')}"
                f" of `{split.group}`" if split.group in cohort.columns
                else f"{plural(len(cohort), 'patient')}, each with its own row")
        text = (f"The user's manifest `{run.config['cohort']['manifest']}`: {rows}; development "
                f"and test data come from this one source, divided by the {split.name}.")
        facts = {"n_patients": len(cohort), "simulated": False}
    return Filled(text, (run.path("cohort"),), facts)


@filler("study_nature")
def study_nature(run: RunRecord) -> Filled:
    if run.design.simulated:
        return Filled("In-silico (simulated) cohort; no patients were recruited.",
                      (run.path("cohort"),), {"simulated": True})
    return Filled("A cohort study of the patients of the manifest (one row per patient); the "
                  "workflow cannot know whether it was collected retrospectively.",
                  (run.path("cohort"),), {"simulated": False})


@filler("eligibility")
def eligibility(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    checks = ("every image and mask readable and of the same geometry, a non-empty binary "
              f"mask of at least {run.config.get('validation', {}).get('min_lesion_pixels', 64)} "
              "pixels, a pixel size, unique ids, node counts and clinical values present "
              "and in range") if run.design.has_images else (
              "unique ids, node counts and clinical values present and in range")
    text = (f"Every manifest row passed the validation before modelling ({checks}; a failing "
            f"row stops the run: `{validation_report(run).name}`). Level populations: "
            + "; ".join(f"{level_phrase(run, lv)}: {plural(c['n'], 'patient')}"
                        for lv, c in counts.items()) + ".")
    return Filled(text, (run.path("cohort"), str(validation_report(run))),
                  {"n_patients": len(run.table("cohort")),
                   "levels": {lv: c["n"] for lv, c in counts.items()}})


@filler("data_preparation")
def data_preparation(run: RunRecord) -> Filled:
    parts = [eligibility(run).text.split(" Level populations")[0]]
    if run.design.has_images:
        s = run.params.get("setting", {})
        parts.append("Images: whole-image z-score normalisation (scale "
                     f"{s.get('normalizeScale')}), "
                     f"resampling to {s.get('resampledPixelSpacing')} mm "
                     f"({s.get('interpolator')}), features from the lesion and "
                     f"{word_list(f'{w:g} mm' for w in run.config['radiomics']['peritumoral_mm'])}"
                     " "
                     "peritumoral ring(s). The same steps apply to every patient.")
    return Filled(" ".join(parts), (run.path("cohort"),) + ((run.path("params"),)
                                                          if run.design.has_images else ()), {})


@filler("outcome")
def outcome(run: RunRecord) -> Filled:
    text = ("Outcomes are derived from the manifest, never typed: "
            + "; ".join(level_phrase(run, lv) for lv in run.levels)
            + ". Diagnostic (no time horizon): the status at surgery.")
    return Filled(text, (run.path("cohort"),),
                  {"labels": {lv: run.level(lv).label for lv in run.levels}})


def _riley_text(row: dict) -> str:
    """One level's Riley et al. minimum beside its training size, in words."""
    verdict = "meets it" if str(row.get("adequate")).lower() == "true" else "is below it"
    return (f"{row['level']} ({row['model']}, {int(row['parameters'])} candidate parameters): "
            f"minimum {int(row['n_min'])} patients ({row['binding']} criterion), training set "
            f"{int(row['n'])} patients: {verdict}")


@filler("sample_size")
def sample_size(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    parts = ["Study size: all available patients (no sample size calculation before the "
             "study). " + "; ".join(
                 f"{lv}: {plural(c['n'], 'patient')}, {c['events']} events "
                 f"({c['train_n']} train / {c['train_events']} events, {c['test_n']} test / "
                 f"{c['test_events']} events)" for lv, c in counts.items()) + "."]
    evidence = [run.path("cohort"), run.path("split")]
    riley = optional_table(run, "sample_size")
    if riley is not None:
        evidence.append(run.path("sample_size"))
        parts.append("Riley et al. (2020) minimum sample size of each level's model: "
                     + "; ".join(_riley_text(row) for row in riley.to_dict(orient="records"))
                     + ".")
    else:
        parts.append("The Riley et al. (2020) minimum sample size is not computed in this run.")
    return Filled(" ".join(parts), tuple(evidence), {"levels": counts,
                                                     "riley": riley is not None})


@filler("missing_data")
def missing_data(run: RunRecord) -> Filled:
    cohort = run.table("cohort")
    miss = missing_counts(cohort, [v["name"] for v in clinical_variables(run)])
    total = sum(miss.values())
    which = [f"{k} {v}" for k, v in miss.items() if v]
    parts = ["Missing clinical values in the validated cohort "
             f"({plural(len(cohort), 'patient')}): "
             + (f"{total} ({word_list(which)})" if total else "none") + ".",
             f"Validation report: `{validation_report(run).name}`."]
    required = [v["name"] for v in clinical_variables(run) if v.get("required", True)]
    optional = [v["name"] for v in clinical_variables(run) if not v.get("required", True)]
    if required:
        parts.append(f"A missing value of {word_list(required)} (clinical.variables `required`) "
                     "is refused by the validation, which stops the run.")
    if optional:
        parts.append(f"{word_list(optional)} may be missing.")
    parts.append("Labels and images may not be missing (the validation refuses the run). "
                 "Where a value may be missing (or is missing at prediction time), it is filled "
                 "from training patients only: the clinical and combined models use the "
                 "training median (continuous, ordinal) or mode (binary, categorical); "
                 "variable screening uses complete "
                 "cases; radiomic features are median-imputed inside the training pipeline.")
    return Filled(" ".join(parts), (run.path("cohort"), str(validation_report(run))),
                  {"missing": miss, "total": total})


@filler("participant_flow")
def participant_flow(run: RunRecord) -> Filled:
    cohort = run.table("cohort")
    counts = level_counts(cohort, run.table("split"), run.levels)
    text = (f"{plural(len(cohort), 'patient')} in the manifest, all valid. " + "; ".join(
        f"{lv}: {c['n']} ({c['events']} with the outcome, {c['n'] - c['events']} without): "
        f"training {c['train_n']} ({c['train_events']} events), test {c['test_n']} "
        f"({c['test_events']} events)" for lv, c in counts.items()) + ".")
    return Filled(text, (run.path("cohort"), run.path("split")),
                  {"n_patients": len(cohort), "levels": counts})


@filler("characteristics")
def characteristics(run: RunRecord) -> Filled:
    miss = missing_data(run)
    return Filled("Table 1 gives the characteristics of training and test patients. "
                  + participant_flow(run).text + " " + miss.text.split(". Labels")[0] + ".",
                  (run.path("table1"), run.path("cohort"), run.path("split")),
                  {**participant_flow(run).facts, "missing": miss.facts["missing"]})


@filler("class_imbalance")
def class_imbalance(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    text = ("No resampling or class weighting. Prevalence: "
            + "; ".join(f"{lv} {c['events']}/{c['n']} ({percent(c['events'] / c['n'])})"
                        for lv, c in counts.items())
            + "; splits and folds are stratified, and the cutoff is chosen on training data.")
    return Filled(text, (run.path("cohort"),),
                  {"levels": {lv: {"n": c["n"], "events": c["events"]}
                              for lv, c in counts.items()}})


@filler("data_sharing")
def data_sharing(run: RunRecord) -> Filled:
    if run.design.simulated:
        seed = run.config["cohort"]["simulate"]["seed"]
        return Filled(f"The in-silico cohort is regenerated byte for byte from its seed ({seed}) "
                      "by the workflow; no patient data exist.", (run.path("cohort"),),
                      {"simulated": True})
    return Filled("The run read the user's manifest and images; whether they can be shared "
                  "is for the authors to state.", (run.path("cohort"),), {"simulated": False})
