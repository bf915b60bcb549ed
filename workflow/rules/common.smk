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
from alnburden.extraction.shards import n_shards_for
from alnburden.simulate import EffectSizes


validate(config, schema="../schemas/config.schema.yaml")
try:  # a misspelt effect size fails now, not after the DAG has started
    EffectSizes().replace(**config["cohort"]["simulate"]["effects"])
except (TypeError, ValueError) as err:
    raise WorkflowError(f"config cohort.simulate.effects: {err}") from None

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


def results_root(wildcards, output):
    """The results folder, from a rule's `predictions` output (results/<level>/predictions.csv)."""
    return str(Path(output.predictions).parents[1])


def clinical_variables():
    return config["clinical"]["variables"]


def model_config():
    """The config keys a level fit reads (only these: another key's change reruns nothing)."""
    return {key: config[key] for key in ("seed", "selection", "models", "harmonization")}


def level_config(wildcards):
    """The config entry of the level being fitted."""
    return next(lv for lv in config["levels"] if lv["name"] == wildcards.level)


def level_label(wildcards):
    return DESIGN.level_label(wildcards.level)


def fit_level_inputs(wildcards):
    """The cohort and split, and the features and ICC of an imaging cohort."""
    out = {"cohort": rules.validate_cohort.output.cohort, "split": rules.split_cohort.output.split}
    if DESIGN.has_images:
        out.update(features=rules.merge_features.output.parquet, icc=rules.icc.output.icc)
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
        out += [f"{RESULTS}/features/radiomics.parquet", f"{RESULTS}/features/icc.csv"]
    out.append(f"{RESULTS}/bundle.zip")  # bundle.smk: the frozen models for external validation
    return out + FIGURE_TARGETS  # figures.smk: every figure of the registry for this design

