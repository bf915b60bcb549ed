# Helpers of the external-validation run (external.smk): the bundle read at parse time, the
# cohorts, input functions and the run's targets.
from alnburden.external.apply import external_table_names
from alnburden.external.bundle import BundleError, read_bundle_meta
from alnburden.external.contract import manifest_is_labelled_meta
from alnburden.external.figures import COHORT_FIGURES

EXT = f"{RESULTS}/external"
EXTERNAL = config["external"]
if not EXTERNAL.get("cohorts"):
    raise WorkflowError("config external.bundle is set but external.cohorts is empty; name at "
                        "least one cohort: cohorts: [{name: centre_b, manifest: path/to.csv}]")
try:  # the bundle is read at parse time to plan the run (levels, tables); unpacked by a rule
    BUNDLE_META = read_bundle_meta(EXTERNAL["bundle"])
except BundleError as err:
    raise WorkflowError(f"config external.bundle: {err} (a relative path is relative to the "
                        f"directory Snakemake runs in, {Path.cwd()})") from None
EXT_LEVELS = [lv["name"] for lv in BUNDLE_META["levels"]]
EXT_COHORTS = {c["name"]: c for c in EXTERNAL["cohorts"]}
EXT_TABLES = external_table_names(BUNDLE_META)
EXT_HAS_IMAGES = BUNDLE_META.get("radiomics") is not None


def ext_labelled(name):
    """Whether the cohort's manifest carries the label columns (else predictions only)."""
    path = EXT_COHORTS[name]["manifest"]
    if not Path(path).is_file():
        raise WorkflowError(f"config external.cohorts {name}: manifest {path!r} is not a file "
                            f"(a relative path is relative to {Path.cwd()})")
    try:
        return manifest_is_labelled_meta(manifest_header(path)[0], BUNDLE_META)
    except ValueError as err:
        raise WorkflowError(f"config external.cohorts {name}: {err}") from None


EXT_LABELLED = {name: ext_labelled(name) for name in EXT_COHORTS}


wildcard_constraints:
    cohort="|".join(EXT_COHORTS),


def ext_manifest(wildcards):
    return EXT_COHORTS[wildcards.cohort]["manifest"]


def ext_params(wildcards):
    """The bundle, and the params file the cohort names instead of the bundle's own (if any:
    the scripts use the bundle's radiomics.yaml otherwise)."""
    out = {"bundle": f"{EXT}/bundle"}
    own = EXT_COHORTS[wildcards.cohort].get("params")
    if own:
        out["params"] = config_path(own)
    return out


def ext_predict_inputs(wildcards):
    out = {"bundle": f"{EXT}/bundle", "cohort": f"{EXT}/{{cohort}}/cohort.csv",
           "contract": f"{EXT}/{{cohort}}/contract.json"}
    if EXT_HAS_IMAGES:
        out["features"] = f"{EXT}/{{cohort}}/features.parquet"
    return out


def ext_summary_inputs(wildcards):
    out = ext_predict_inputs(wildcards)
    out.update(predictions=f"{EXT}/{{cohort}}/predictions.csv", drift=f"{EXT}/{{cohort}}/drift.csv",
               check=f"{EXT}/{{cohort}}/features_check.json")
    if EXT_LABELLED[wildcards.cohort]:
        out.update(performance=f"{EXT}/{{cohort}}/tables/performance.csv",
                   recalibration=f"{EXT}/{{cohort}}/tables/recalibration.csv")
    return out


#: The study-level figures (forest plot, cascade) the bundle's tables allow.
EXT_COHORT_FIGURES = [name for name, needs in COHORT_FIGURES.items()
                      if all(t in EXT_TABLES for t in needs)]


def ext_figures(name):
    return expand(f"{EXT}/{name}/figures/{{kind}}_{{level}}.png",
                  kind=("roc", "calibration", "dca"), level=EXT_LEVELS) + expand(
        f"{EXT}/{name}/figures/{{fig}}.png", fig=EXT_COHORT_FIGURES)


def external_outputs():
    """The targets of an external run: per cohort its predictions, drift and summary, and
    for a labelled cohort every table and figure."""
    out = []
    for name in EXT_COHORTS:
        out += [f"{EXT}/{name}/predictions.csv", f"{EXT}/{name}/drift.csv",
                f"{EXT}/{name}/summary.md"]
        if EXT_LABELLED[name]:
            out += expand(f"{EXT}/{name}/tables/{{t}}.csv", t=EXT_TABLES) + ext_figures(name)
    return out
