"""Rule fit_level: every model of one level, fitted on that level's training patients only."""

from typing import TYPE_CHECKING

from alnburden.extraction.shards import read_features
from alnburden.io import read_table, setup_logging
from alnburden.levels import levels_from_config
from alnburden.modeling.level_fit import fit_level

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
has_images = "features" in snakemake.input.keys()
fit_level(
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    read_features(snakemake.input.features)[0] if has_images else None,
    read_table(snakemake.input.icc) if has_images else None,
    level,
    snakemake.params.variables,
    snakemake.params.fit,
    out_dir=snakemake.params.results,
    n_jobs=snakemake.threads,
)
