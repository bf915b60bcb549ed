"""Fillers of the models: how they were built, tuned and chosen, their outputs,
specification, explanations and files."""

from __future__ import annotations

from pathlib import Path

from alnburden.formatting import fmt_number
from alnburden.modeling.learners import LEARNERS
from alnburden.reporting.fillers.phrases import plural, word_list
from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.run_facts import (arms_phrase, chosen_learners, has_external,
                                                   has_nested, training_cutoffs)
from alnburden.reporting.fillers.split import split_facts


@filler("model_building")
def model_building(run: RunRecord) -> Filled:
    mcfg, scfg = run.config.get("models", {}), run.config.get("selection", {})
    parts, evidence = [], []
    if run.design.has_images:
        learners = [LEARNERS[n].label for n in mcfg.get("learners", [])]
        chosen = chosen_learners(run)
        parts.append(
            "Radiomics: ICC filter, median imputation, z-scaling, near-constant removal "
            f"(variance < {scfg.get('variance_threshold')}), {scfg.get('redundancy')} "
            f"redundancy filter (|rho| > {scfg.get('redundancy_threshold')})"
            + (f", mRMR (k = {scfg.get('mrmr_k')})" if scfg.get("mrmr_k") else "")
            + f", LASSO ({scfg.get('lasso_cv_folds')}-fold CV); then {word_list(learners)} "
            f"tuned by grid search in {mcfg.get('cv_folds')}-fold x {mcfg.get('cv_repeats')} "
            "repeated stratified CV (ROC AUC); the learner with the best mean CV AUC is the "
            "radiomics model (" + "; ".join(f"{lv}: {LEARNERS[c].label}"
                                           for lv, c in chosen.items()) + ").")
        evidence += [run.path(f"learners_{lv}") for lv in run.levels]
    if run.design.has_clinical:
        parts.append(f"Clinical: univariable logistic regression of every variable, those with "
                     f"p < {mcfg.get('clinical_entry_p')} enter one multivariable model, those "
                     f"with p < {mcfg.get('clinical_retention_p')} are the independent "
                     "predictors (Firth's penalised likelihood on separation).")
        evidence += [run.path(f"clinical_{lv}") for lv in run.levels]
    if run.design.has_combined:
        parts.append("Combined: logistic regression of the out-of-fold Rad-score and the "
                     "independent predictors.")
    parts.append(f"Internal validation: the {split_facts(run).test_set} (item 12a)"
                 + (" and nested cross-validation" if has_nested(run) else "") + ".")
    return Filled(" ".join(parts), tuple(evidence), {"chosen": chosen_learners(run)})


@filler("tuning")
def tuning(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No hyperparameters: logistic models only.", (), {})
    m = run.config["models"]
    grids = "; ".join(f"{LEARNERS[n].label} {LEARNERS[n].grid}" for n in m["learners"])
    return Filled(f"Grid search, {m['cv_folds']}-fold x {m['cv_repeats']} repeated stratified "
                  f"CV on training patients, ROC AUC; grids: {grids}. The selection pipeline "
                  "is refitted in every fold.", tuple(run.path(f"learners_{lv}")
                                                      for lv in run.levels), {})


@filler("model_selection")
def model_selection(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("One logistic model per arm; no choice among learners.", (), {})
    chosen = chosen_learners(run)
    return Filled("The learner with the highest mean CV AUC on training patients (ties: "
                  "config order): " + "; ".join(f"{lv} {LEARNERS[c].label}"
                                                for lv, c in chosen.items()) + ".",
                  tuple(run.path(f"learners_{lv}") for lv in run.levels), {"chosen": chosen})


@filler("model_output")
def model_output(run: RunRecord) -> Filled:
    ev = run.config.get("evaluation", {})
    cuts = training_cutoffs(run)
    shown = {k: v for k, v in cuts.items() if k[1] in run.design.arms}
    rule = ("the Youden index on the training set" if ev.get("cutoff") == "youden"
            else f"a fixed probability of {ev.get('cutoff')}")
    text = ("Each model outputs a probability; a patient is classified positive when p >= "
            f"the cutoff, chosen by {rule} and applied unchanged to the test set. Cutoffs: "
            + "; ".join(f"{lv} {m} {fmt_number(c, 3)}" for (lv, m), c in shown.items()) + ".")
    return Filled(text, (run.path("performance"),),
                  {"cutoffs": {f"{lv}/{m}": c for (lv, m), c in shown.items()}})


@filler("model_specification")
def model_specification(run: RunRecord) -> Filled:
    parts, ev = [], []
    model = run.design.nomogram_model
    for lv in run.levels:
        card = run.card(lv)
        ev.append(run.path(f"card_{lv}"))
        if model and model in card:
            terms = card[model]["terms"]
            formula = " ".join(
                f"{'+' if t['coef'] >= 0 else '-'} {abs(t['coef']):.4g} x {t['term']}"
                if t["term"] != "const" else f"{t['coef']:.4g}" for t in terms)
            parts.append(f"{lv} {model}: logit(p) = {formula}")
        if run.design.has_images:
            sel = run.table(f"selected_{lv}")
            ev.append(run.path(f"selected_{lv}"))
            parts.append(f"{lv} radiomics: {LEARNERS[card['radiomics']['chosen_learner']].label}"
                         f" on {plural(len(sel), 'selected feature')}")
    text = ("; ".join(parts) + ". Full models: the joblib files and model cards "
            "(item 22 / CLEAR 57); the nomogram and calculator give the points.")
    for lv in run.levels:
        if f"calculator_{lv}" in run.files:
            ev.append(run.path(f"calculator_{lv}"))
    return Filled(text, tuple(ev), {})


@filler("explainability")
def explainability(run: RunRecord) -> Filled:
    parts, ev = [], []
    if run.design.nomogram_model:
        parts.append(f"nomogram of the {run.design.nomogram_model} model (points per "
                     "predictor) and odds ratios of the logistic models")
        ev += [run.path(f"nomogram_{lv}") for lv in run.levels if f"nomogram_{lv}" in run.files]
    if run.design.has_images:
        parts.append("LASSO coefficients of the selected features")
    shap = [lv for lv in run.levels if f"shap_{lv}" in run.files]
    if shap:
        parts.append("SHAP values of the radiomics learner on the test set")
        ev += [run.path(f"shap_{lv}") for lv in shap]
    text = word_list(parts)
    return Filled(text[:1].upper() + text[1:] + ".", tuple(ev), {"shap": bool(shap)})


@filler("non_radiomic_methods")
def non_radiomic_methods(run: RunRecord) -> Filled:
    return Filled(f"Per level: {arms_phrase(run)}; clinical utility by decision curves.",
                  (run.path("dca"),), {"arms": list(run.design.arms)})


@filler("prediction_calculation")
def prediction_calculation(run: RunRecord) -> Filled:
    files = [run.path(f"card_{lv}") for lv in run.levels]
    text = ("Test predictions come from the saved models (`results/<level>/models/*.joblib`, "
            "listed in each level's `model_card.json`) applied once to the test patients "
            "(`alnburden.modeling.persistence.predict_patients` reproduces them).")
    if run.has("bundle"):
        files.append(run.path("bundle"))
        text += " The frozen model bundle holds the same models with their coding and checksums."
    return Filled(text, tuple(files), {})


@filler("model_files")
def model_files(run: RunRecord) -> Filled:
    names = sorted({m for lv in run.levels for m in run.card(lv)["models"]})
    text = ("Every fitted model is saved per level "
            f"(`results/<level>/models/`: {word_list(names)}, "
            "joblib) with a model card of inputs, coefficients, training size and library "
            "versions.")
    ev = [run.path(f"card_{lv}") for lv in run.levels]
    if run.has("bundle"):
        ev.append(run.path("bundle"))
        text += " The frozen bundle packs them with the coding, the params hash and checksums."
    return Filled(text, tuple(ev), {"models": names})


@filler("ready_to_use")
def ready_to_use(run: RunRecord) -> Filled:
    pages = [run.path(f"calculator_{lv}") for lv in run.levels if f"calculator_{lv}" in run.files]
    if not pages:
        return Filled("No risk calculator in this design (it needs a logistic model).", (), {})
    return Filled(f"{plural(len(pages), 'interactive risk calculator')}, one per level (a "
                  "self-contained HTML page each, no server): "
                  + ", ".join(f"`{Path(p).name}`" for p in pages)
                  + "; it gives the points, total and probability of the level's "
                  f"{run.design.nomogram_model} model and its cutoff verdict.",
                  tuple(pages), {"pages": len(pages)})


@filler("model_updating")
def model_updating(run: RunRecord) -> Filled:
    if has_external(run):
        return Filled("Evaluated on an external cohort without refitting; see the external "
                      "rows of performance.csv for any recalibration.",
                      (run.path("performance"),), {"external": True})
    return Filled("No model updating: the models were not recalibrated after evaluation.",
                  (), {"external": False})
