"""Rule shap_values: SHAP values and permutation importance of one level's radiomics model."""

from typing import TYPE_CHECKING

from alnburden.evaluation.explain import explain_level
from alnburden.extraction.shards import read_features
from alnburden.io import read_table, setup_logging
from alnburden.levels import levels_from_config
from alnburden.modeling.persistence import load_model
from alnburden.schemas import with_defaults

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
cfg = with_defaults("explain", snakemake.params.explain)
explain_level(
    load_model(snakemake.input.model),
    read_features(snakemake.input.features)[0],
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    level,
    snakemake.output.table,
    snakemake.output.values,
    background=cfg["background"],
    agnostic_background=cfg["agnostic_background"],
    permutations=cfg["permutations"],
    n_repeats=cfg["permutation_repeats"],
    random_state=snakemake.params.seed,
    n_jobs=snakemake.threads,
)
