"""Fillers of the candidate predictors: which, how defined, how coded."""

from __future__ import annotations

from alnburden.reporting.fillers.phrases import plural, word_list
from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.run_facts import clinical_variables


@filler("candidate_predictors")
def candidate_predictors(run: RunRecord) -> Filled:
    parts = []
    if run.design.has_clinical:
        variables = clinical_variables(run)
        parts.append(f"{plural(len(variables), 'candidate clinical variable')} declared in "
                     f"the config: {word_list(v['name'] for v in variables)}; no pre-selection "
                     "(every one enters the univariable screen).")
    if run.design.has_images:
        parts.append(f"{plural(len(run.feature_columns), 'radiomic feature')} per patient "
                     "(every feature of the params file), filtered and selected on training "
                     "data only (items 12c / CLEAR 33).")
    return Filled(" ".join(parts), (run.path("cohort"),) + ((run.path("features"),)
                                                          if run.design.has_images else ()),
                  {"n_clinical": len(clinical_variables(run)),
                   "n_features": len(run.feature_columns) if run.design.has_images else 0})


def _spec_text(v: dict) -> str:
    if v["type"] == "continuous":
        rng = (f", allowed {v.get('min')}-{v.get('max')}" if v.get("min") is not None
               or v.get("max") is not None else "")
        return f"{v['name']} (continuous{', ' + v['unit'] if v.get('unit') else ''}{rng})"
    if v["type"] == "binary":
        return f"{v['name']} (binary 0/1)"
    levels = "/".join(str(x) for x in v.get("levels") or [])
    return f"{v['name']} ({v['type']}: {levels})"


@filler("predictor_definitions")
def predictor_definitions(run: RunRecord) -> Filled:
    parts = []
    if run.design.has_clinical:
        parts.append("Clinical predictors: "
                     + "; ".join(_spec_text(v) for v in clinical_variables(run))
                     + ".")
    if run.design.has_images:
        parts.append("Radiomics: pyradiomics features of the lesion mask and the peritumoral "
                     "ring(s) (CLEAR 21-28); the Rad-score is the logit of the chosen "
                     "learner's probability, out-of-fold on training patients.")
    return Filled(" ".join(parts), (run.path("cohort"),), {})


@filler("predictor_handling")
def predictor_handling(run: RunRecord) -> Filled:
    parts = []
    if run.design.has_clinical:
        parts.append("Clinical variables: continuous ones linear as recorded (odds ratio per "
                     "unit), binary 0/1, ordinal ones as one linear term per step, categorical "
                     "ones as dummies against their first level; no categorisation.")
    if run.design.has_images:
        parts.append("Radiomic features: median imputation and standardisation (z-score) "
                     "fitted on training rows, inside every fold; the Rad-score enters the "
                     "combined model as one linear term.")
    return Filled(" ".join(parts), (), {})
