"""Rule evaluation_tables: the study's evaluation tables (alnburden.evaluation.registry)."""

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from alnburden.evaluation.registry import TableSettings, evaluation_tables, write_tables
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
settings = TableSettings.from_config(snakemake.params.evaluation, snakemake.params.seed,
                                     snakemake.params.subgroup_models)
if "bootstrap" in snakemake.input.keys():  # the internal_validation table's bootstrap rows
    whole_fit = snakemake.input.whole_fit if "whole_fit" in snakemake.input.keys() else []
    settings = dataclasses.replace(settings, optimism=pd.concat(
        [read_table(p) for p in [*snakemake.input.bootstrap, *whole_fit]], ignore_index=True))
if "nested_folds" in snakemake.input.keys():  # its nested_fold_mean column
    settings = dataclasses.replace(settings, nested_folds=pd.concat(
        [read_table(p) for p in snakemake.input.nested_folds], ignore_index=True))
tables = evaluation_tables(read_table(snakemake.input.predictions), snakemake.params.tables,
                           **dataclasses.asdict(settings))
write_tables(tables, Path(snakemake.output[0]).parent)
