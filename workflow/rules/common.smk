# Helpers shared by every rule file: config validation, paths, shards, input functions.
import csv
from pathlib import Path

from snakemake.utils import validate

from alnburden.features import n_shards_for
from alnburden.levels import levels_from_config


validate(config, schema="../schemas/config.schema.yaml")

LEVELS = [lv.name for lv in levels_from_config(config)]
RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
ENV = "../../envs/alnburden.yaml"


wildcard_constraints:
    level="|".join(LEVELS),
    shard=r"\d+",


def script(name):
    """Path of a script in the top-level scripts/ folder."""
    return str(Path(workflow.basedir) / "scripts" / name)


def manifest_path():
    """The manifest the run uses: the user's, or the simulated cohort's."""
    user = config["cohort"].get("manifest")
    return user if user else f"{RESULTS}/cohort/insilico/manifest.csv"


def _manifest_header_and_rows():
    user = config["cohort"].get("manifest")
    if not user:
        return None, config["cohort"]["simulate"]["n_patients"]
    with open(user, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        n = sum(1 for _ in reader)
    return header, n


_HEADER, N_PATIENTS = _manifest_header_and_rows()
HAS_IMAGES = _HEADER is None or {"image", "mask"} <= set(_HEADER)
N_SHARDS = n_shards_for(N_PATIENTS, config["radiomics"]["shards"])
SHARDS = [f"{i:03d}" for i in range(N_SHARDS)]


def clinical_variables():
    return config["clinical"]["variables"]


def radiomics_inputs(wildcards=None):
    """Feature tables a model needs; empty for a clinical-only cohort."""
    if not HAS_IMAGES:
        return {}
    return {
        "features": f"{RESULTS}/features/radiomics.parquet",
        "icc": f"{RESULTS}/features/icc.csv",
    }


def final_outputs():
    out = [
        f"{RESULTS}/cohort/cohort.csv",
        f"{RESULTS}/cohort/split.csv",
        f"{RESULTS}/tables/table1_baseline.csv",
        f"{RESULTS}/summary.md",
    ]
    if HAS_IMAGES:
        out += [
            f"{RESULTS}/figures/cohort_examples.png",
            f"{RESULTS}/features/radiomics.parquet",
            f"{RESULTS}/features/icc.csv",
        ]
    return out
