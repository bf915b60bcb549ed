"""Rule evaluation_tables: the study's evaluation tables (alnburden.evaluation.registry)."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.evaluation.registry import evaluation_tables, write_tables
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
ev = snakemake.params.evaluation
tables = evaluation_tables(
    read_table(snakemake.input.predictions),
    snakemake.params.tables,
    cutoff=ev["cutoff"],
    ki67_cutoff=ev["ki67_cutoff"],
    dca_grid=ev["dca_thresholds"],
    n_boot=ev["bootstrap"],
    seed=snakemake.params.seed,
    subgroup_models=snakemake.params.subgroup_models,
)
write_tables(tables, Path(snakemake.output[0]).parent)
