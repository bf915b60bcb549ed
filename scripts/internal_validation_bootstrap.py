"""Rule internal_validation_bootstrap: bootstrap optimism correction of one level's
clinical and combined logistic models (alnburden.modeling.optimism)."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging, write_table
from alnburden.levels import levels_from_config
from alnburden.modeling.optimism import level_optimism

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
table, stability = level_optimism(
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    read_table(snakemake.input.predictions),
    level,
    snakemake.params.variables,
    snakemake.params.models,
    snakemake.params.seed,
    snakemake.params.bootstrap,
)
write_table(table, snakemake.output.bootstrap,
            title=f"{level.name}: bootstrap optimism correction (rms::validate conventions)")
write_table(stability, snakemake.output.stability,
            title=f"{level.name}: selection stability over the bootstrap resamples")
