"""What one run did, read from its own files: the fillers of the reporting checklists.

A checklist item (``tripod_ai.yaml``, ``clear.yaml``) may name a **filler**: a function of
:data:`FILLERS` that takes the run (:class:`RunRecord`) and returns a :class:`Filled`: the
text of what this run did, the files that show it (``evidence``) and the numbers the text
states (``facts``, which the tests check against the run's files). A filler reads only the
files the ``checklists`` rule hands it (:attr:`RunRecord.files`, by role) and the run's
config; files that only some designs or some workflow versions write (nested
cross-validation, sample size, SHAP, the model bundle, external validation) are read when
they are there and named as absent otherwise, so those items fill themselves in when the
parts that write them are present.

Roles (the keys of the rule's inputs): ``cohort``, ``split``, ``table1``, ``predictions``,
``performance``, ``calibration``, ``dca`` and, when the design has them, ``auc_delong``,
``subgroups``, ``reclassification``, ``cascade_metrics``, ``features``, ``icc``,
``params``; per level ``card_<level>``, ``selected_<level>``, ``learners_<level>``,
``clinical_<level>``, ``nomogram_<level>``, ``calculator_<level>``, ``shap_<level>``; and
``internal_validation``, ``sample_size``, ``bundle``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from alnburden.design import StudyDesign
from alnburden.formatting import fmt_ci, fmt_number, fmt_p
from alnburden.io import read_table
from alnburden.modeling.learners import LEARNERS

__all__ = ["Filled", "RunRecord", "FILLERS", "level_counts", "set_counts", "missing_counts"]


@dataclass(frozen=True)
class Filled:
    """What a run did for one checklist item.

    Attributes
    ----------
    text
        One paragraph of Markdown.
    evidence
        Paths of the files that show it.
    facts
        The numbers and names the text states (checked against the files by the tests).
    """

    text: str
    evidence: tuple[str, ...] = ()
    facts: dict = field(default_factory=dict)


@dataclass
class RunRecord:
    """The files and config of one finished run, read lazily and once.

    Parameters
    ----------
    files
        Role -> path (the ``checklists`` rule's inputs; see the module docstring).
    config
        The run's config (at least ``study``, ``seed``, ``cohort``, ``levels``,
        ``clinical``, ``split``, ``radiomics``, ``selection``, ``models``, ``evaluation``).
    """

    files: Mapping[str, str]
    config: Mapping
    _tables: dict = field(default_factory=dict, repr=False)

    def has(self, role: str) -> bool:
        return role in self.files and Path(self.files[role]).exists()

    def path(self, role: str) -> str:
        return str(self.files[role])

    def table(self, role: str) -> pd.DataFrame:
        if role not in self._tables:
            self._tables[role] = read_table(self.files[role])
        return self._tables[role]

    def card(self, level: str) -> dict:
        return json.loads(Path(self.files[f"card_{level}"]).read_text())

    @cached_property
    def design(self) -> StudyDesign:
        header = (None if not self.config["cohort"].get("manifest")
                  else list(self.table("cohort").columns))
        return StudyDesign.from_config(dict(self.config), header)

    @property
    def levels(self) -> list[str]:
        return self.design.level_names

    @cached_property
    def feature_metadata(self) -> dict:
        """Provenance stored with the features (pyradiomics version, params, sha256)."""
        import pyarrow.parquet as pq

        from alnburden.extraction.shards import PARQUET_METADATA_KEY

        raw = (pq.read_schema(self.files["features"]).metadata or {}).get(PARQUET_METADATA_KEY)
        return json.loads(raw) if raw else {}

    @cached_property
    def feature_columns(self) -> list[str]:
        import pyarrow.parquet as pq

        return [c for c in pq.read_schema(self.files["features"]).names if c != "patient_id"]

    @cached_property
    def params(self) -> dict:
        return yaml.safe_load(Path(self.files["params"]).read_text()) or {}

    def level(self, name: str):
        return next(lv for lv in self.design.levels if lv.name == name)


Filler = Callable[[RunRecord], Filled]
#: Every filler by name (the ``filler`` key of a checklist item).
FILLERS: dict[str, Filler] = {}


def filler(name: str):
    def register(fn: Filler) -> Filler:
        FILLERS[name] = fn
        return fn
    return register


# --------------------------------------------------------------------------- counts
def level_counts(cohort: pd.DataFrame, split: pd.DataFrame, levels: list[str]) -> dict:
    """Patients and events of each level, overall and per set (train/test).

    The level's population are the rows of ``cohort.csv`` whose label column is filled.
    """
    sets = split.set_index(split["patient_id"].astype(str))["set"]
    out = {}
    for name in levels:
        lab = pd.to_numeric(cohort[name], errors="coerce")
        rows = cohort[lab.notna()]
        y = lab[lab.notna()].astype(int).to_numpy()
        s = rows["patient_id"].astype(str).map(sets).to_numpy()
        out[name] = {"n": int(len(rows)), "events": int(y.sum())}
        for set_name in ("train", "test"):
            out[name][f"{set_name}_n"] = int((s == set_name).sum())
            out[name][f"{set_name}_events"] = int(y[s == set_name].sum())
    return out


def set_counts(predictions: pd.DataFrame) -> dict:
    """``{level: {set: (patients, events)}}`` from ``predictions.csv`` (one model's rows:
    every model of a set scores the same patients)."""
    out: dict = {}
    for (level, set_), g in predictions.groupby(["level", "set"], sort=True):
        one = g[g["model"] == g["model"].iloc[0]]
        out.setdefault(level, {})[set_] = (int(len(one)), int(one["y_true"].sum()))
    return out


def missing_counts(cohort: pd.DataFrame, variables: list[str]) -> dict[str, int]:
    """Empty cells of each clinical variable in ``cohort.csv``."""
    return {v: int(cohort[v].isna().sum()) for v in variables if v in cohort.columns}


def _n(x: int, word: str) -> str:
    return f"{x:,} {word}{'' if x == 1 else 's'}"


def _list(items) -> str:
    items = [str(i) for i in items]
    if not items:
        return "none"
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _variables(run: RunRecord) -> list[dict]:
    return list(run.config["clinical"]["variables"])


def _level_phrase(run: RunRecord, name: str) -> str:
    lv = run.level(name)
    pop = "all patients" if lv.population == "all" else f"patients with {lv.population}"
    desc = f" ({lv.description})" if lv.description and lv.description != name else ""
    return f"{name}{desc}: label {lv.label}, among {pop}"


def _arms_phrase(run: RunRecord) -> str:
    arms = run.design.arms
    names = {"radiomics": "a radiomics model (machine-learning learners on pyradiomics "
                          "features, giving a Rad-score)",
             "clinical": "a clinical logistic model",
             "combined": "a combined logistic model (Rad-score + independent clinical "
                         "predictors)"}
    return _list(names[a] for a in arms)


def _fmt_pct(x: float) -> str:
    return f"{100 * x:.1f} %"


# --------------------------------------------------------------------------- study
@filler("study_outline")
def study_outline(run: RunRecord) -> Filled:
    levels = run.levels
    inputs = _list((["ultrasound radiomics"] if run.design.has_images else [])
                   + (["clinical variables"] if run.design.has_clinical else []))
    text = (f"Study `{run.config['study']}`: development and internal test of diagnostic "
            f"prediction models from {inputs}. Outcomes: "
            + "; ".join(_level_phrase(run, lv) for lv in levels)
            + f". Per level: {_arms_phrase(run)}.")
    return Filled(text, (), {"levels": levels, "arms": list(run.design.arms)})


@filler("target_population")
def target_population(run: RunRecord) -> Filled:
    text = ("The models apply to the population of each level: "
            + "; ".join(_level_phrase(run, lv) for lv in run.levels)
            + ". Inputs: " + user_interaction(run).text.split("; the workflow")[0]
            .removeprefix("Users supply ") + ".")
    return Filled(text, (run.path("cohort"),), {"levels": run.levels})


@filler("objectives")
def objectives(run: RunRecord) -> Filled:
    validation = ["a random hold-out test set (internal validation)"]
    if _nested(run):
        validation.append("nested cross-validation of the whole level fit")
    if _external(run):
        validation.append("an external cohort")
    text = (f"Development of {_arms_phrase(run)} for each of {_n(len(run.levels), 'level')}, "
            f"and their evaluation on {_list(validation)}.")
    return Filled(text, (run.path("performance"),),
                  {"nested": _nested(run), "external": _external(run)})


@filler("guideline_adherence")
def guideline_adherence(run: RunRecord) -> Filled:
    return Filled("This checklist (CLEAR) and the TRIPOD+AI checklist were filled from the "
                  "run's files by the workflow (`results/checklists/`); items marked "
                  "*authors* remain to be completed.", (), {})


# --------------------------------------------------------------------------- data
@filler("data_source")
def data_source(run: RunRecord) -> Filled:
    cohort = run.table("cohort")
    if run.design.simulated:
        sim = run.config["cohort"]["simulate"]
        text = (f"In-silico cohort of {_n(len(cohort), 'patient')} written by the workflow's "
                f"seeded generator (seed {sim['seed']}): simulated B-mode images, masks and "
                "clinical data in the manifest format. **A simulation, not clinical data.** "
                "Development and test data come from the same source (random split).")
        facts = {"n_patients": len(cohort), "simulated": True, "seed": int(sim["seed"])}
    else:
        text = (f"The user's manifest `{run.config['cohort']['manifest']}`: "
                f"{_n(len(cohort), 'patient')}, each with its own row; development and test "
                "data come from this one source (random split).")
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


def _validation_report(run: RunRecord) -> Path:
    return Path(run.path("cohort")).parent / "validation_report.csv"


@filler("eligibility")
def eligibility(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    checks = ("every image and mask readable and of the same geometry, a non-empty binary "
              f"mask of at least {run.config.get('validation', {}).get('min_lesion_pixels', 64)} "
              "pixels, a pixel size, unique ids, node counts and clinical values present "
              "and in range") if run.design.has_images else (
              "unique ids, node counts and clinical values present and in range")
    text = (f"Every manifest row passed the validation before modelling ({checks}; a failing "
            f"row stops the run: `{_validation_report(run).name}`). Level populations: "
            + "; ".join(f"{_level_phrase(run, lv)}: {_n(c['n'], 'patient')}"
                        for lv, c in counts.items()) + ".")
    return Filled(text, (run.path("cohort"), str(_validation_report(run))),
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
                     f"{_list(f'{w:g} mm' for w in run.config['radiomics']['peritumoral_mm'])} "
                     "peritumoral ring(s). The same steps apply to every patient.")
    return Filled(" ".join(parts), (run.path("cohort"),) + ((run.path("params"),)
                                                          if run.design.has_images else ()), {})


@filler("outcome")
def outcome(run: RunRecord) -> Filled:
    text = ("Outcomes are derived from the manifest, never typed: "
            + "; ".join(_level_phrase(run, lv) for lv in run.levels)
            + ". Diagnostic (no time horizon): the status at surgery.")
    return Filled(text, (run.path("cohort"),),
                  {"labels": {lv: run.level(lv).label for lv in run.levels}})


@filler("candidate_predictors")
def candidate_predictors(run: RunRecord) -> Filled:
    parts = []
    if run.design.has_clinical:
        parts.append(f"{_n(len(_variables(run)), 'candidate clinical variable')} declared in "
                     f"the config: {_list(v['name'] for v in _variables(run))}; no pre-selection "
                     "(every one enters the univariable screen).")
    if run.design.has_images:
        parts.append(f"{_n(len(run.feature_columns), 'radiomic feature')} per patient "
                     "(every feature of the params file), filtered and selected on training "
                     "data only (items 12c / CLEAR 33).")
    return Filled(" ".join(parts), (run.path("cohort"),) + ((run.path("features"),)
                                                          if run.design.has_images else ()),
                  {"n_clinical": len(_variables(run)),
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
        parts.append("Clinical predictors: " + "; ".join(_spec_text(v) for v in _variables(run))
                     + ".")
    if run.design.has_images:
        parts.append("Radiomics: pyradiomics features of the lesion mask and the peritumoral "
                     "ring(s) (CLEAR 21-28); the Rad-score is the logit of the chosen "
                     "learner's probability, out-of-fold on training patients.")
    return Filled(" ".join(parts), (run.path("cohort"),), {})


@filler("segmentation")
def segmentation(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No images in this design: nothing was segmented.", (), {})
    rings = _list(f"{w:g} mm" for w in run.config["radiomics"]["peritumoral_mm"])
    src = ("drawn by the generator (simulation)" if run.design.simulated
           else "supplied with the manifest (`mask` column)")
    text = (f"One lesion mask per patient, {src}; the peritumoral ring(s) of {rings} are "
            "derived from it by a Euclidean distance map in mm (outside the lesion). The "
            "robustness to re-segmentation is measured by perturbed masks (CLEAR 31).")
    return Filled(text, (run.path("cohort"),), {})


@filler("segmentation_readers")
def segmentation_readers(run: RunRecord) -> Filled:
    base = segmentation(run)
    if not run.design.has_images:
        return base
    return Filled(base.text + " The workflow reads one mask per patient (one reader).",
                  base.evidence, {})


# --------------------------------------------------------------------------- sample size
def _optional_table(run: RunRecord, role: str) -> pd.DataFrame | None:
    return run.table(role) if run.has(role) else None


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
                 f"{lv}: {_n(c['n'], 'patient')}, {c['events']} events "
                 f"({c['train_n']} train / {c['train_events']} events, {c['test_n']} test / "
                 f"{c['test_events']} events)" for lv, c in counts.items()) + "."]
    evidence = [run.path("cohort"), run.path("split")]
    riley = _optional_table(run, "sample_size")
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
    miss = missing_counts(cohort, [v["name"] for v in _variables(run)])
    total = sum(miss.values())
    which = [f"{k} {v}" for k, v in miss.items() if v]
    parts = [f"Missing clinical values in the validated cohort ({_n(len(cohort), 'patient')}): "
             + (f"{total} ({_list(which)})" if total else "none") + ".",
             f"Validation report: `{_validation_report(run).name}`."]
    required = [v["name"] for v in _variables(run) if v.get("required", True)]
    optional = [v["name"] for v in _variables(run) if not v.get("required", True)]
    if required:
        parts.append(f"A missing value of {_list(required)} (clinical.variables `required`) "
                     "is refused by the validation, which stops the run.")
    if optional:
        parts.append(f"{_list(optional)} may be missing.")
    parts.append("Labels and images may not be missing (the validation refuses the run). "
                 "Where a value may be missing (or is missing at prediction time), it is filled "
                 "from training patients only: the clinical and combined models use the "
                 "training median (continuous, ordinal) or mode (binary, categorical); "
                 "variable screening uses complete "
                 "cases; radiomic features are median-imputed inside the training pipeline.")
    return Filled(" ".join(parts), (run.path("cohort"), str(_validation_report(run))),
                  {"missing": miss, "total": total})


# --------------------------------------------------------------------------- analysis
def _nested(run: RunRecord) -> bool:
    return bool((run.table("predictions")["set"] == "nested").any())


def _external(run: RunRecord) -> bool:
    return bool((run.table("performance")["set"] == "external").any())


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
    if _nested(run):
        parts.append("Nested cross-validation of the whole level fit gives out-of-fold "
                     "predictions (`set = nested`).")
        evidence.append(run.path("predictions"))
    if run.has("internal_validation"):
        evidence.append(run.path("internal_validation"))
        parts.append("Internal validation (apparent, optimism-corrected, nested, test) is in "
                     "`internal_validation.csv`.")
    return Filled(" ".join(parts), tuple(evidence),
                  {"n_train": n_train, "n_test": n_test, "nested": _nested(run)})


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


def _chosen(run: RunRecord) -> dict[str, str]:
    if not run.design.has_images:
        return {}
    return {lv: run.card(lv)["radiomics"]["chosen_learner"] for lv in run.levels}


@filler("model_building")
def model_building(run: RunRecord) -> Filled:
    mcfg, scfg = run.config.get("models", {}), run.config.get("selection", {})
    parts, evidence = [], []
    if run.design.has_images:
        learners = [LEARNERS[n].label for n in mcfg.get("learners", [])]
        chosen = _chosen(run)
        parts.append(
            "Radiomics: ICC filter, median imputation, z-scaling, near-constant removal "
            f"(variance < {scfg.get('variance_threshold')}), {scfg.get('redundancy')} "
            f"redundancy filter (|rho| > {scfg.get('redundancy_threshold')})"
            + (f", mRMR (k = {scfg.get('mrmr_k')})" if scfg.get("mrmr_k") else "")
            + f", LASSO ({scfg.get('lasso_cv_folds')}-fold CV); then {_list(learners)} "
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
    parts.append("Internal validation: the random hold-out test set (item 12a)"
                 + (" and nested cross-validation" if _nested(run) else "") + ".")
    return Filled(" ".join(parts), tuple(evidence), {"chosen": _chosen(run)})


@filler("clusters")
def clusters(run: RunRecord) -> Filled:
    return Filled("Not examined: the run has one data source and no centre variable.", (), {})


@filler("performance_measures")
def performance_measures(run: RunRecord) -> Filled:
    ev = run.config.get("evaluation", {})
    tables = ["performance", "calibration", "dca"] + [t for t in ("auc_delong", "subgroups",
                                                                   "reclassification")
                                                      if t in run.files]
    text = ("Discrimination: ROC AUC with DeLong 95 % CI; operating point at the cutoff "
            f"chosen on training data ({ev.get('cutoff')}) with sensitivity, specificity, "
            "accuracy, PPV, NPV (Wilson 95 % CI). Calibration: Brier score, Hosmer-Lemeshow "
            "test, calibration slope and intercept, calibration curves. Clinical utility: "
            f"decision curves (net benefit, thresholds {ev.get('dca_thresholds')})."
            + (" Paired DeLong tests between models." if "auc_delong" in run.files else "")
            + (" Continuous NRI and IDI of combined vs the other models."
               if "reclassification" in run.files else "")
            + (f" Ki-67 subgroups (cutoff {ev.get('ki67_cutoff')} %) with a z test of the "
               "difference of their AUCs."
               if "subgroups" in run.files else ""))
    return Filled(text, tuple(run.path(t) for t in tables), {"tables": tables})


@filler("model_updating")
def model_updating(run: RunRecord) -> Filled:
    if _external(run):
        return Filled("Evaluated on an external cohort without refitting; see the external "
                      "rows of performance.csv for any recalibration.",
                      (run.path("performance"),), {"external": True})
    return Filled("No model updating: the models were not recalibrated after evaluation.",
                  (), {"external": False})


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


@filler("class_imbalance")
def class_imbalance(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    text = ("No resampling or class weighting. Prevalence: "
            + "; ".join(f"{lv} {c['events']}/{c['n']} ({_fmt_pct(c['events'] / c['n'])})"
                        for lv, c in counts.items())
            + "; splits and folds are stratified, and the cutoff is chosen on training data.")
    return Filled(text, (run.path("cohort"),),
                  {"levels": {lv: {"n": c["n"], "events": c["events"]}
                              for lv, c in counts.items()}})


def _cutoffs(run: RunRecord) -> dict:
    perf = run.table("performance")
    tr = perf[perf["set"] == "train"]
    return {(r.level, r.model): float(r.cutoff) for r in tr.itertuples() if np.isfinite(r.cutoff)}


@filler("model_output")
def model_output(run: RunRecord) -> Filled:
    ev = run.config.get("evaluation", {})
    cuts = _cutoffs(run)
    shown = {k: v for k, v in cuts.items() if k[1] in run.design.arms}
    rule = ("the Youden index on the training set" if ev.get("cutoff") == "youden"
            else f"a fixed probability of {ev.get('cutoff')}")
    text = ("Each model outputs a probability; a patient is classified positive when p >= "
            f"the cutoff, chosen by {rule} and applied unchanged to the test set. Cutoffs: "
            + "; ".join(f"{lv} {m} {fmt_number(c, 3)}" for (lv, m), c in shown.items()) + ".")
    return Filled(text, (run.path("performance"),),
                  {"cutoffs": {f"{lv}/{m}": c for (lv, m), c in shown.items()}})


@filler("train_vs_evaluation")
def train_vs_evaluation(run: RunRecord) -> Filled:
    text = ("The test set is a random part of the same cohort (same setting, eligibility, "
            "outcome and predictors); Table 1 compares training and test patients.")
    if _external(run):
        text += " The external cohort's rows are evaluated with the frozen models."
    return Filled(text, (run.path("table1"),), {})


@filler("evaluation_vs_development")
def evaluation_vs_development(run: RunRecord) -> Filled:
    return Filled(train_vs_evaluation(run).text, (run.path("table1"),), {})


# --------------------------------------------------------------------------- open science
@filler("data_sharing")
def data_sharing(run: RunRecord) -> Filled:
    if run.design.simulated:
        seed = run.config["cohort"]["simulate"]["seed"]
        return Filled(f"The in-silico cohort is regenerated byte for byte from its seed ({seed}) "
                      "by the workflow; no patient data exist.", (run.path("cohort"),),
                      {"simulated": True})
    return Filled("The run read the user's manifest and images; whether they can be shared "
                  "is for the authors to state.", (run.path("cohort"),), {"simulated": False})


@filler("feature_sharing")
def feature_sharing(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No radiomic features in this design.", (), {})
    return Filled("The run writes every patient's features (`results/features/radiomics.parquet` "
                  "and `.csv`) with their provenance; the authors decide whether to share them.",
                  (run.path("features"),), {})


@filler("code_sharing")
def code_sharing(run: RunRecord) -> Filled:
    v = _version("alnburden")
    return Filled(f"The analysis is the open alnburden workflow (version {v}, Snakemake "
                  f"{_version('snakemake')}); the run's exact config is saved in "
                  "`results/logs/run_config.yaml` and every rule's log under `results/logs/`.",
                  (), {"alnburden": v})


@filler("settings_sharing")
def settings_sharing(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No radiomic features in this design.", (), {})
    meta = run.feature_metadata
    return Filled(f"pyradiomics parameter file `{meta.get('params_file')}` (sha256 "
                  f"{meta.get('params_sha256')}), stored with the features' provenance.",
                  (run.path("params"), run.path("features")),
                  {"params_sha256": meta.get("params_sha256")})


@filler("model_files")
def model_files(run: RunRecord) -> Filled:
    names = sorted({m for lv in run.levels for m in run.card(lv)["models"]})
    text = (f"Every fitted model is saved per level (`results/<level>/models/`: {_list(names)}, "
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
    return Filled(f"{_n(len(pages), 'interactive risk calculator')}, one per level (a "
                  "self-contained HTML page each, no server): "
                  + ", ".join(f"`{Path(p).name}`" for p in pages)
                  + "; it gives the points, total and probability of the level's "
                  f"{run.design.nomogram_model} model and its cutoff verdict.",
                  tuple(pages), {"pages": len(pages)})


# --------------------------------------------------------------------------- results
@filler("participant_flow")
def participant_flow(run: RunRecord) -> Filled:
    cohort = run.table("cohort")
    counts = level_counts(cohort, run.table("split"), run.levels)
    text = (f"{_n(len(cohort), 'patient')} in the manifest, all valid. " + "; ".join(
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


@filler("analysis_counts")
def analysis_counts(run: RunRecord) -> Filled:
    counts = set_counts(run.table("predictions"))
    names = {"train": "development (apparent)", "cv": "tuning / out-of-fold",
             "nested": "nested CV", "test": "test", "cascade": "cascade (test)",
             "external": "external"}
    text = "; ".join(f"{lv}: " + ", ".join(f"{names.get(s, s)} {n} ({e} events)"
                                           for s, (n, e) in sets.items())
                     for lv, sets in counts.items()) + "."
    return Filled(text, (run.path("predictions"),),
                  {"sets": {lv: {s: list(v) for s, v in sets.items()}
                            for lv, sets in counts.items()}})


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
                         f" on {_n(len(sel), 'selected feature')}")
    text = ("; ".join(parts) + ". Full models: the joblib files and model cards "
            "(item 22 / CLEAR 57); the nomogram and calculator give the points.")
    for lv in run.levels:
        if f"calculator_{lv}" in run.files:
            ev.append(run.path(f"calculator_{lv}"))
    return Filled(text, tuple(ev), {})


def _auc_text(r) -> str:
    return f"{r.model} {fmt_ci(r.auc, r.auc_ci_low, r.auc_ci_high)}"


@filler("performance")
def performance(run: RunRecord) -> Filled:
    perf = run.table("performance")
    parts = []
    facts = {}
    for lv in run.levels:
        for set_ in ("train", "cv", "nested", "test", "external"):
            g = perf[(perf["level"] == lv) & (perf["set"] == set_)
                     & perf["model"].isin(run.design.arms)]
            if g.empty:
                continue
            parts.append(f"{lv} {set_} AUC: " + ", ".join(_auc_text(r) for r in g.itertuples()))
            if set_ == "test":
                facts[lv] = {r.model: round(float(r.auc), 2) for r in g.itertuples()}
    test = perf[(perf["set"] == "test") & perf["model"].isin(run.design.arms)]
    ops = "; ".join(f"{r.level} {r.model}: sensitivity {fmt_number(r.sensitivity)}, "
                    f"specificity {fmt_number(r.specificity)}" for r in test.itertuples())
    text = "; ".join(parts) + f". Test operating points (training cutoff): {ops}."
    ev = [run.path("performance"), run.path("calibration")]
    cal = run.table("calibration")
    ct = cal[(cal["set"] == "test") & cal["model"].isin(run.design.arms)]
    text += " Test calibration: " + "; ".join(
        f"{r.level} {r.model} slope {fmt_number(r.slope)}, intercept {fmt_number(r.intercept)}, "
        f"Brier {fmt_number(r.brier, 3)}" for r in ct.itertuples()) + "."
    if "subgroups" in run.files:
        sg = run.table("subgroups")
        ev.append(run.path("subgroups"))
        text += " Ki-67 subgroups (test): " + "; ".join(
            f"{r.level} {r.model} {r.subgroup} {fmt_ci(r.auc, r.auc_ci_low, r.auc_ci_high)}"
            for r in sg.itertuples()) + "."
    if run.has("internal_validation"):
        ev.append(run.path("internal_validation"))
        text += " Optimism-corrected and nested estimates: `internal_validation.csv`."
    return Filled(text, tuple(ev), {"test_auc": facts})


@filler("comparison_results")
def comparison_results(run: RunRecord) -> Filled:
    ev, parts = [], []
    if "auc_delong" in run.files:
        d = run.table("auc_delong")
        d = d[d["set"] == "test"]
        ev.append(run.path("auc_delong"))
        parts.append("DeLong (test): " + "; ".join(
            f"{r.level} {r.model_a} vs {r.model_b} {fmt_number(r.auc_a)} vs "
            f"{fmt_number(r.auc_b)}, p {fmt_p(r.p)}" for r in d.itertuples()))
    dca = run.table("dca")
    ev.append(run.path("dca"))
    t = dca[(dca["set"] == "test") & dca["model"].isin(run.design.arms)]
    if len(t):
        best = []
        for (lv, m), g in t.groupby(["level", "model"], sort=True):
            nb = g.loc[(g["threshold"] - g["threshold"].median()).abs().idxmin()]
            best.append(f"{lv} {m} net benefit {fmt_number(nb['net_benefit'], 3)} at threshold "
                        f"{fmt_number(nb['threshold'])}")
        parts.append("Decision curves (test): " + "; ".join(best) + " (full curves in dca.csv)")
    if "reclassification" in run.files:
        ev.append(run.path("reclassification"))
        parts.append("NRI/IDI: reclassification.csv")
    return Filled(". ".join(parts) + ".", tuple(ev), {})


# --------------------------------------------------------------------------- radiomics
def _no_images(run: RunRecord) -> Filled:
    return Filled("No images in this design: no radiomics.", (), {})


@filler("imaging_protocol")
def imaging_protocol(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    cohort = run.table("cohort")
    sp = pd.to_numeric(cohort.get("pixel_spacing_mm"), errors="coerce").dropna()
    text = "2-D B-mode ultrasound images, one per patient."
    facts = {}
    if len(sp):
        text += (f" Pixel size {fmt_number(sp.median(), 3)} mm (median; range "
                 f"{fmt_number(sp.min(), 3)}-{fmt_number(sp.max(), 3)}) before resampling.")
        facts = {"spacing_median": round(float(sp.median()), 3)}
    return Filled(text, (run.path("cohort"),), facts)


@filler("preprocessing")
def preprocessing(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    s = run.params.get("setting", {})
    meta = run.feature_metadata
    text = (f"pyradiomics {meta.get('pyradiomics_version')} (SimpleITK "
            f"{meta.get('simpleitk_version')}): whole-image z-score normalisation "
            f"(normalize: {s.get('normalize')}, scale {s.get('normalizeScale')}); no other "
            "filtering, no harmonisation.")
    return Filled(text, (run.path("params"), run.path("features")),
                  {"pyradiomics": meta.get("pyradiomics_version")})


@filler("resampling")
def resampling(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    s = run.params.get("setting", {})
    return Filled(f"In-plane resampling to {s.get('resampledPixelSpacing')} mm with "
                  f"{s.get('interpolator')}.", (run.path("params"),),
                  {"spacing": s.get("resampledPixelSpacing")})


def bin_widths(params: dict) -> dict[str, float]:
    """The bin width of every image type of a pyradiomics params dict (its own or the
    global ``setting.binWidth``)."""
    default = (params.get("setting") or {}).get("binWidth", 25)
    return {name: float((cfg or {}).get("binWidth", default))
            for name, cfg in (params.get("imageType") or {}).items()}


@filler("discretisation")
def discretisation(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    bw = bin_widths(run.params)
    return Filled("Fixed bin width on the normalised scale: " + "; ".join(
        f"{k} {v:g}" for k, v in bw.items()) + ".", (run.path("params"),), {"bin_widths": bw})


@filler("image_types")
def image_types(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    parts = []
    for name, cfg in (run.params.get("imageType") or {}).items():
        extra = {k: v for k, v in (cfg or {}).items() if k != "binWidth"}
        parts.append(name + (f" ({', '.join(f'{k} {v}' for k, v in extra.items())})"
                             if extra else ""))
    return Filled("Image types: " + "; ".join(parts) + ".", (run.path("params"),),
                  {"image_types": list((run.params.get("imageType") or {}))})


def feature_class_counts(columns: list[str]) -> dict[str, int]:
    """Features per class from the feature names ``<region>_<image type>_<class>_<name>``."""
    out: dict[str, int] = {}
    for c in columns:
        parts = c.split("_")
        cls = parts[2] if len(parts) >= 4 else "other"
        out[cls] = out.get(cls, 0) + 1
    return dict(sorted(out.items()))


def region_counts(columns: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in columns:
        out[c.split("_")[0]] = out.get(c.split("_")[0], 0) + 1
    return out


@filler("extraction_software")
def extraction_software(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    meta = run.feature_metadata
    text = (f"pyradiomics {meta.get('pyradiomics_version')} (hand-crafted features, 2-D, "
            f"params file `{meta.get('params_file')}`, sha256 "
            f"{str(meta.get('params_sha256'))[:12]}...); "
            f"GLCM through alnburden's FastGLCM ({'on' if meta.get('fast_glcm') else 'off'}, "
            "equal to pyradiomics' GLCM up to rounding). Regions: lesion and peritumoral ring(s) "
            f"of {_list(f'{w:g} mm' for w in meta.get('peritumoral_mm', []))}.")
    return Filled(text, (run.path("features"), run.path("params")),
                  {"pyradiomics": meta.get("pyradiomics_version"),
                   "peritumoral_mm": meta.get("peritumoral_mm")})


@filler("feature_classes")
def feature_classes(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    counts = feature_class_counts(run.feature_columns)
    return Filled("Features per class (all regions and image types): " + ", ".join(
        f"{k} {v}" for k, v in counts.items()) + ".", (run.path("features"),),
        {"classes": counts})


@filler("feature_count")
def feature_count(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    reg = region_counts(run.feature_columns)
    return Filled(f"{_n(len(run.feature_columns), 'feature')} per patient (" + ", ".join(
        f"{k} {v}" for k, v in reg.items()) + ").", (run.path("features"),),
        {"n_features": len(run.feature_columns), "regions": reg})


@filler("default_settings")
def default_settings(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    return Filled("Every pyradiomics setting not in the params file kept its default; the "
                  "resolved settings are stored with the features.", (run.path("params"),
                                                                      run.path("features")), {})


@filler("robustness")
def robustness(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    icc = run.table("icc")
    kept = int(icc["kept"].astype(str).str.lower().isin(["true", "1"]).sum())
    rb = run.config["radiomics"]["robustness"]
    text = (f"Segmentation robustness on {fmt_number(100 * rb['fraction'], 0)} % of training "
            f"patients: {rb['n_perturbations']} perturbed masks each (erosion, dilation, "
            f"random contour changes), {rb['icc']} over the original and perturbed masks; "
            f"features with ICC < {rb['threshold']} are dropped: {kept} of {len(icc)} kept.")
    return Filled(text, (run.path("icc"),), {"kept": kept, "n": int(len(icc)),
                                              "threshold": rb["threshold"]})


@filler("feature_scaling")
def feature_scaling(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    return Filled("z-score standardisation (scikit-learn StandardScaler) of the feature "
                  "values, fitted on training rows inside every fold and applied to the "
                  "held-out rows; images are not harmonised.", (), {})


@filler("dimension_reduction")
def dimension_reduction(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    parts = [model_building(run).text.split("; then")[0] + "; all on training data only."]
    facts = {}
    for lv in run.levels:
        steps = run.card(lv)["radiomics"]["features_after_each_step"]
        facts[lv] = int(len(run.table(f"selected_{lv}")))
        parts.append(f"{lv}: " + ", ".join(f"{k} {v}" for k, v in steps.items())
                     + f" features after each step; {facts[lv]} selected.")
    return Filled(" ".join(parts), tuple(run.path(f"selected_{lv}") for lv in run.levels),
                  {"selected": facts})


@filler("feature_statistics")
def feature_statistics(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    rb, dr = robustness(run), dimension_reduction(run)
    text = (f"{rb.facts['kept']} of {rb.facts['n']} features reproducible (ICC); selected "
            "features with their LASSO coefficients: " + "; ".join(
                f"{lv} {n}" for lv, n in dr.facts["selected"].items()) + ".")
    if any(f"shap_{lv}" in run.files for lv in run.levels):
        text += " SHAP values of the radiomics learner: `<level>_shap.csv`."
    return Filled(text, rb.evidence + dr.evidence, {**rb.facts, **dr.facts})


@filler("algorithms")
def algorithms(run: RunRecord) -> Filled:
    versions = run.card(run.levels[0])["versions"]
    parts = []
    if run.design.has_images:
        parts.append("Learners: " + "; ".join(
            f"{LEARNERS[n].label} ({_list(LEARNERS[n].libraries or ('scikit-learn',))})"
            for n in run.config["models"]["learners"]))
    parts.append("logistic models: statsmodels")
    parts.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    return Filled("; ".join(parts) + ".", (run.path(f"card_{run.levels[0]}"),),
                  {"versions": versions})


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
    chosen = _chosen(run)
    return Filled("The learner with the highest mean CV AUC on training patients (ties: "
                  "config order): " + "; ".join(f"{lv} {LEARNERS[c].label}"
                                                for lv, c in chosen.items()) + ".",
                  tuple(run.path(f"learners_{lv}") for lv in run.levels), {"chosen": chosen})


@filler("testing")
def testing(run: RunRecord) -> Filled:
    split = data_split(run)
    text = (f"Internal testing on a random hold-out set ({split.facts['n_test']} patients; "
            f"{split.facts['n_train']} for development) scored once"
            + (", nested cross-validation" if _nested(run) else "")
            + ("; external testing on another cohort" if _external(run)
               else "; no external testing in this run") + ".")
    return Filled(text, (run.path("split"), run.path("performance")), split.facts)


@filler("uncertainty")
def uncertainty(run: RunRecord) -> Filled:
    return Filled("95 % confidence intervals for every AUC (DeLong) and rate (Wilson); "
                  "calibration by Brier score, Hosmer-Lemeshow test, slope and intercept; "
                  f"bootstrap ({run.config['evaluation'].get('bootstrap')} resamples) for "
                  "the ROC bands and NRI/IDI.", (run.path("performance"),
                                                   run.path("calibration")), {})


@filler("statistical_comparison")
def statistical_comparison(run: RunRecord) -> Filled:
    text = ("Paired DeLong test of AUCs (alnburden.stats, checked against a reference), "
            "two-sided, p < 0.05, no multiplicity correction; operating points at the "
            f"training cutoff ({run.config['evaluation'].get('cutoff')}). Software: "
            f"Python with scipy {_version('scipy')}, statsmodels {_version('statsmodels')}.")
    ev = (run.path("auc_delong"),) if "auc_delong" in run.files else ()
    return Filled(text, ev, {})


@filler("non_radiomic_methods")
def non_radiomic_methods(run: RunRecord) -> Filled:
    return Filled(f"Per level: {_arms_phrase(run)}; clinical utility by decision curves.",
                  (run.path("dca"),), {"arms": list(run.design.arms)})


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
    text = _list(parts)
    return Filled(text[:1].upper() + text[1:] + ".", tuple(ev), {"shap": bool(shap)})


@filler("pipeline")
def pipeline(run: RunRecord) -> Filled:
    return Filled("The run's rule graph is drawn in the Snakemake report (`results/report.html`, "
                  "Workflow); `docs/architecture.md` of the workflow describes every step.",
                  (), {})


@filler("limitations")
def limitations(run: RunRecord) -> Filled:
    counts = level_counts(run.table("cohort"), run.table("split"), run.levels)
    facts = [f"{lv}: {c['train_events']} training events" for lv, c in counts.items()]
    parts = [f"Facts to discuss: {_list(facts)}; one random split of one source"
             + ("" if _external(run) else ", no external validation")
             + ("" if _nested(run) else "; hyperparameters and clinical predictors chosen on "
                "all training rows, so CV estimates are slightly optimistic")]
    if run.design.simulated:
        parts.append("the cohort is simulated: the results are not clinical evidence")
    return Filled("; ".join(parts) + ".", (run.path("cohort"), run.path("split")), {})


@filler("input_quality")
def input_quality(run: RunRecord) -> Filled:
    return Filled("Inputs are validated before use (unreadable or mismatched images, empty "
                  "masks, out-of-range or missing values are reported per row); a missing "
                  "clinical value at prediction time takes the training median or mode; the "
                  "calculator refuses values outside the allowed range and flags values "
                  "outside the training range.", (run.path("cohort"),), {})


@filler("user_interaction")
def user_interaction(run: RunRecord) -> Filled:
    need = (["a lesion mask drawn on the ultrasound image"] if run.design.has_images else [])
    need += ["the clinical variables"] if run.design.has_clinical else []
    return Filled(f"Users supply {_list(need)}; the workflow (or the calculator, from the "
                  "Rad-score and clinical values) computes the rest.", (), {})
