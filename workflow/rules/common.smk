# Helpers shared by all rule files (config validation, paths, shards, input functions).
import shlex
import sys
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from alnburden.cohort.manifest_file import manifest_header
from alnburden.design import StudyDesign
from alnburden.evaluation.registry import TABLES, skipped_tables, table_names
from alnburden.figures.registry import skipped_figures
from alnburden.extraction.robustness import check_source, robustness_settings
from alnburden.extraction.shards import n_shards_for
from alnburden.modeling.clinical import coding_of
from alnburden.modeling.learners import learner_grids
from alnburden.reporting.checklists import checklist_files
from alnburden.schemas import config_default
from alnburden.simulate import EffectSizes


validate(config, schema="../schemas/config.schema.yaml")
try:  # a misspelt effect size fails now, not after the DAG has started
    EffectSizes().replace(**config["cohort"]["simulate"]["effects"])
except (TypeError, ValueError) as err:
    raise WorkflowError(f"config cohort.simulate.effects: {err}") from None


def _model_config_errors():
    """Every tuning grid naming a parameter its learner lacks, and every bad ordinal coding."""
    errors = []
    try:
        learner_grids(config["models"].get("grids"), config["models"]["learners"])
    except ValueError as err:
        errors.append(str(err))
    for variable in config["clinical"]["variables"]:
        try:
            coding_of(variable)
        except ValueError as err:
            errors.append(f"config clinical.variables: {err}")
    return errors


_ERRORS = _model_config_errors()
if _ERRORS:  # found now, not after the DAG has started
    raise WorkflowError("; ".join(_ERRORS) + "; fix the config")


def study_identity():
    """The study's `study` title and `published` list: those of the config files the user
    gave (--configfile, --config) when there are any, else the default study's. Snakemake
    merges a user's file over config/config.yaml, so without this a user's cohort would be
    titled as, and compared with, the default study (Lu et al. 2026)."""
    if not workflow.overwrite_configfiles:
        return config["study"], config["published"]
    given = workflow.config_settings.overwrite_config
    return (given.get("study", config_default("study")),
            given.get("published", config_default("published")))


config["study"], config["published"] = study_identity()

RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
ENV = "../../envs/alnburden.yaml"


def script_path(name):
    """Path of a script in the top-level scripts/ folder."""
    return str(Path(workflow.basedir) / "scripts" / name)


def config_path(path):
    """A path from the config: as given if it exists from the working directory, else
    relative to the workflow (so `--directory elsewhere` still finds config/radiomics.yaml)."""
    p = Path(path)
    return str(p if p.is_absolute() or p.exists() else Path(workflow.basedir) / p)


def make_report():
    """Write the HTML report after a successful run (called from `onsuccess`).

    The exact config of this run is saved next to the logs (provenance) and handed to the
    report call, so the report describes this run, whatever --configfile/--config said.
    """
    Path(LOGS).mkdir(parents=True, exist_ok=True)
    run_config = Path(LOGS) / "run_config.yaml"
    run_config.write_text(yaml.safe_dump(config, sort_keys=False))
    shell(
        "{python} -m snakemake --report {html} --nolock --snakefile {snakefile} --configfile {cfg}"
        " > {log} 2>&1".format(
            python=shlex.quote(sys.executable),
            html=shlex.quote(f"{RESULTS}/report.html"),
            snakefile=shlex.quote(str(workflow.main_snakefile)),
            cfg=shlex.quote(str(run_config)),
            log=shlex.quote(f"{LOGS}/report.log"),
        )
    )


def study_complete():
    """Whether every final output of the study exists (the report describes a whole run;
    a run of some targets, e.g. ``snakemake results/tables/performance.csv``, skips it)."""
    return all(Path(f).exists() for f in final_outputs())


def manifest_path():
    """The manifest the run uses: the user's, or the simulated cohort's."""
    user = config["cohort"].get("manifest")
    return user if user else f"{RESULTS}/cohort/insilico/manifest.csv"


def _manifest_header_and_rows():
    user = config["cohort"].get("manifest")
    if not user:
        return None, config["cohort"]["simulate"]["n_patients"]
    if not Path(user).is_file():
        raise WorkflowError(
            f"config cohort.manifest is {user!r}, which is not a file (a relative path is "
            f"relative to the directory Snakemake runs in, {Path.cwd()}). Write the manifest "
            "first; for the BUS-BRA preset: python -m alnburden.datasets.busbra "
            "../shared/data/busbra results/busbra/manifest.csv"
        )
    try:  # the same reader as validate_cohort: CSV in any dialect, or .xlsx
        return manifest_header(user)
    except ValueError as err:
        raise WorkflowError(f"config cohort.manifest: {err}") from None


_HEADER, N_PATIENTS = _manifest_header_and_rows()
DESIGN = StudyDesign.from_config(config, _HEADER)
try:  # a design that can fit no model is refused before any job starts
    DESIGN.check()
except ValueError as err:
    raise WorkflowError(f"{err}; the manifest read: {config['cohort'].get('manifest')}") from None
LEVELS = DESIGN.level_names


wildcard_constraints:
    level="|".join(LEVELS),
    shard=r"\d+",
    fold=r"\d+",


def job_slots():
    """Jobs that can run at once: --jobs for a cluster executor, else --cores (1 if unset)."""
    if workflow.nodes:
        return int(workflow.nodes)
    try:
        return int(workflow.cores)
    except WorkflowError:
        return 1


N_SHARDS = n_shards_for(N_PATIENTS, config["radiomics"]["shards"], job_slots())
# the run's config as saved for the report and provenance carries the resolved count, so
# `--report` and a re-run with `--configfile results/logs/run_config.yaml` see the same DAG
config["radiomics"]["shards"] = N_SHARDS
SHARDS = [f"{i:03d}" for i in range(N_SHARDS)]


def repeat_fit_level_inputs(wildcards):
    """A repeat's level fit: the study's inputs with that repeat's split (repeats.smk)."""
    return {**fit_level_inputs(wildcards),
            "split": f"{RESULTS}/repeats/r{wildcards.repeat}/split.csv"}


def results_root(wildcards, output):
    """The results folder, from a rule's `predictions` output (results/<level>/predictions.csv)."""
    return str(Path(output.predictions).parents[1])


def clinical_variables():
    return config["clinical"]["variables"]


def split_config():
    """The split keys the split rules read (not split.repeats: turning the repeats on or off
    must not rerun the study's own split and everything after it)."""
    return {key: config["split"][key] for key in ("test_fraction", "seed", "column", "group")}


def model_config():
    """The config keys a level fit reads (only these: another key's change reruns nothing)."""
    return {key: config[key] for key in ("seed", "selection", "models", "harmonization")}


# The levels without their nested_folds, for all but the nested CV's jobs: a change of the
# nested CV's folds then reruns the nested CV only.
LEVEL_CONFIGS = [{k: v for k, v in lv.items() if k != "nested_folds"} for lv in config["levels"]]


def nested_level_config(wildcards):
    """The config entry of the level being fitted, whole (rule nested_fold reads its
    nested_folds)."""
    return next(lv for lv in config["levels"] if lv["name"] == wildcards.level)


def level_config(wildcards):
    """The config entry of the level being fitted, without its nested_folds: a change of the
    nested CV's folds does not refit the final models."""
    return next(lv for lv in LEVEL_CONFIGS if lv["name"] == wildcards.level)


def level_label(wildcards):
    return DESIGN.level_label(wildcards.level)


def fit_level_inputs(wildcards):
    """The cohort and split, and the features and ICC of an imaging cohort."""
    out = {"cohort": rules.validate_cohort.output.cohort, "split": rules.split_cohort.output.split}
    if DESIGN.has_images:
        out.update(features=rules.merge_features.output.parquet, icc=rules.icc.output.icc)
    return out


def nested_fold_tables(wildcards):
    """A level's outer-fold tables: its own nested_folds (or internal_validation.nested.folds)
    x repeats."""
    return expand(f"{RESULTS}/{wildcards.level}/nested/fold_{{fold}}.csv",
                  fold=DESIGN.nested_fold_ids_of(wildcards.level))


def nested_fold_inputs(wildcards):
    """A level fit's inputs, with the robustness stage's merged long tables in place of the
    ICC table (each outer fold recomputes the ICC on its own training patients)."""
    out = fit_level_inputs(wildcards)
    if DESIGN.has_images:
        out.pop("icc")
        out.update({source: rules.icc.output[source] for source in ("perturbation", "readers")
                    if source in rules.icc.output.keys()})
    return out


def whole_fit_merge_inputs(wildcards):
    """A level's resamples, its predictions, cohort and split, and its combined model
    (the apparent index of the combined pipeline: alnburden.modeling.whole_fit)."""
    out = {
        "resamples": expand(
            f"{RESULTS}/{wildcards.level}/whole_fit/resample_{{b}}.csv",
            b=DESIGN.whole_fit_resample_ids,
        ),
        "predictions": f"{RESULTS}/{wildcards.level}/predictions.csv",
        "cohort": rules.validate_cohort.output.cohort,
        "split": rules.split_cohort.output.split,
    }
    if DESIGN.has_combined:
        out["combined"] = f"{RESULTS}/{wildcards.level}/models/combined.joblib"
    return out


def level_predictions():
    """Every level's predictions (and its nested CV's), in level order: the tables that
    merge_predictions joins into results/predictions.csv."""
    out = []
    for level in LEVELS:
        out.append(f"{RESULTS}/{level}/predictions.csv")
        if DESIGN.has_nested:
            out.append(f"{RESULTS}/{level}/nested_predictions.csv")
    return out


def fit_level_outputs():
    """The files a level fit writes for this design's arms (report entries included)."""
    def entry(path, caption, subcategory):
        return report(path, caption=f"../report/{caption}.rst", category="{level}",
                      subcategory=subcategory)

    out = {"predictions": f"{RESULTS}/{{level}}/predictions.csv",
           "card": f"{RESULTS}/{{level}}/models/model_card.json"}
    if DESIGN.has_images:
        out.update(
            selected=entry(f"{RESULTS}/{{level}}/selection/selected_features.csv",
                           "selected_features", "Feature selection"),
            learners=entry(f"{RESULTS}/{{level}}/models/learners_cv.csv", "learners_cv",
                           "Learners"),
            radiomics_model=f"{RESULTS}/{{level}}/models/radiomics.joblib")
    if DESIGN.has_clinical:
        out["clinical"] = entry(f"{RESULTS}/tables/{{level}}_clinical_logistic.csv",
                                "clinical_logistic", "Clinical predictors")
    if DESIGN.has_combined:  # read by merge_whole_fit (validation.smk)
        out["combined_model"] = f"{RESULTS}/{{level}}/models/combined.joblib"
    return out


def clinical_model_config():
    """The config keys of the clinical predictor strategy (rule internal_validation_bootstrap)."""
    keys = ("clinical_strategy", "clinical_entry_p", "clinical_retention_p", "clinical_l1_ratio",
            "clinical_penalty_cs", "cv_folds")
    return {key: config["models"][key] for key in keys if key in config["models"]}


def bootstrap_inputs():
    """Every level's bootstrap optimism table (and outer-fold tables), for the
    internal_validation table."""
    if "internal_validation" not in table_names(DESIGN):
        return {}
    out = {"bootstrap": expand(f"{RESULTS}/{{level}}/internal_validation_bootstrap.csv",
                               level=LEVELS)}
    if DESIGN.has_whole_fit_bootstrap:  # validation.smk: the whole level fit in the bootstrap
        out["whole_fit"] = expand(f"{RESULTS}/{{level}}/internal_validation_whole_fit.csv",
                                  level=LEVELS)
    if DESIGN.has_nested:  # the table's nested_fold_mean column
        out["nested_folds"] = [f"{RESULTS}/{level}/nested/fold_{fold}.csv" for level in LEVELS
                               for fold in DESIGN.nested_fold_ids_of(level)]
    return out


def skipped_parts():
    """Every step, table and figure of the full study this design leaves out, with why."""
    return DESIGN.skipped_steps() + skipped_tables(DESIGN) + skipped_figures(DESIGN)


def summary_inputs(wildcards):
    out = {"performance": f"{RESULTS}/tables/performance.csv"}
    if "auc_delong" in table_names(DESIGN):
        out["delong"] = f"{RESULTS}/tables/auc_delong.csv"
    if "subgroups" in table_names(DESIGN):
        out["subgroups"] = f"{RESULTS}/tables/subgroups.csv"
    if DESIGN.has_cascade:
        out["cascade"] = f"{RESULTS}/tables/cascade_metrics.csv"
    if "internal_validation" in table_names(DESIGN):
        out["internal_validation"] = f"{RESULTS}/tables/internal_validation.csv"
    if DESIGN.has_combined:  # explain.smk: Riley et al. minimum sample size
        out["sample_size"] = f"{RESULTS}/tables/sample_size.csv"
    if DESIGN.has("repeated_splits"):
        out["repeated_splits"] = f"{RESULTS}/tables/repeated_splits.csv"
    if DESIGN.has_images:  # features.smk: robustness and discretisation lines
        out.update(icc=rules.icc.output.icc, discretisation=rules.discretisation.output.table)
        if "perturbations" in rules.icc.output.keys():
            out["perturbations"] = rules.icc.output.perturbations
    return out


def bundle_inputs(wildcards):
    """The cohort, split, performance table and model cards (and the features of an imaging study)."""
    out = {
        "cohort": rules.validate_cohort.output.cohort,
        "split": rules.split_cohort.output.split,
        "performance": f"{RESULTS}/tables/performance.csv",
        "cards": expand(f"{RESULTS}/{{level}}/models/model_card.json", level=LEVELS),
    }
    if DESIGN.has_images:
        out.update(features=rules.merge_features.output.parquet, icc=rules.icc.output.icc,
                   params=config_path(config["radiomics"]["params"]))
    return out


def final_outputs():
    out = [
        f"{RESULTS}/cohort/cohort.csv",
        f"{RESULTS}/cohort/split.csv",
        f"{RESULTS}/tables/table1_baseline.csv",
        f"{RESULTS}/summary.md",
        f"{RESULTS}/predictions.csv",
    ]
    if DESIGN.has_images:
        out += [f"{RESULTS}/features/radiomics.parquet", f"{RESULTS}/features/icc.csv",
                f"{RESULTS}/features/discretisation.csv"]
    out += REPORTING_TARGETS  # reporting.smk: checklists and risk calculators
    out.append(f"{RESULTS}/bundle.zip")  # bundle.smk: the frozen models for external validation
    return out + FIGURE_TARGETS  # figures.smk: every figure of the registry for this design


# --------------------------------------------------------------------------- reporting
def level_rule(wildcards):
    """The label rule of the level (e.g. ``n_positive_nodes > 0``)."""
    return next(lv.label for lv in DESIGN.levels if lv.name == wildcards.level)


def produced(path):
    """Whether a step of this workflow writes ``path`` (the optional inputs of the
    checklists, e.g. nested CV, sample size, SHAP, bundle, are read when a stage writes them)."""
    return any(step.is_producer(path) for step in workflow.rules)


def reporting_config():
    """The config sections the checklist fillers read (alnburden.reporting.fillers)."""
    keys = ("study", "seed", "cohort", "levels", "clinical", "validation", "split",
            "radiomics", "selection", "models", "evaluation", "internal_validation")
    return {key: config[key] for key in keys if key in config}


def checklist_inputs(wildcards):
    """The files the checklist fillers read, by role (only those this design has)."""
    params = config_path(config["radiomics"]["params"]) if DESIGN.has_images else None
    return checklist_files(DESIGN, table_names(DESIGN), params, RESULTS, produced)


# Feature robustness (features.smk): the source of the ICC filter and the icc rule's files.
ROBUSTNESS = config["radiomics"]["robustness"]
ROBUSTNESS_SOURCE = ROBUSTNESS["source"]
try:  # a readers' ICC without a second reader is refused before any job
    check_source(ROBUSTNESS_SOURCE, _HEADER)
except ValueError as err:
    raise WorkflowError(str(err)) from None
USE_PERTURBATION = ROBUSTNESS_SOURCE in ("perturbation", "both")
USE_READERS = ROBUSTNESS_SOURCE in ("readers", "both")


def icc_inputs(wildcards):
    """The robustness shards the configured source needs."""
    out = {}
    if USE_PERTURBATION:
        out["perturbation"] = expand(f"{RESULTS}/features/robustness/{{shard}}.parquet", shard=SHARDS)
        out["perturbations"] = expand(
            f"{RESULTS}/features/robustness/{{shard}}.perturbations.csv", shard=SHARDS
        )
    if USE_READERS:
        out["readers"] = expand(f"{RESULTS}/features/readers/{{shard}}.parquet", shard=SHARDS)
        out["reader_dice"] = expand(f"{RESULTS}/features/readers/{{shard}}.dice.csv", shard=SHARDS)
    return out


def icc_outputs():
    """ICC table, and the merged long tables of the source(s) (what a fold's ICC reads)."""
    out = {
        "icc": report(f"{RESULTS}/features/icc.csv", caption="../report/icc.rst", category="Radiomics")
    }
    if USE_PERTURBATION:
        out["perturbation"] = f"{RESULTS}/features/robustness_perturbation.parquet"
        out["perturbations"] = report(
            f"{RESULTS}/features/perturbations.csv",
            caption="../report/perturbations.rst",
            category="Radiomics",
        )
    if USE_READERS:
        out["readers"] = f"{RESULTS}/features/robustness_readers.parquet"
        out["reader_dice"] = f"{RESULTS}/features/reader_dice.csv"
    return out
