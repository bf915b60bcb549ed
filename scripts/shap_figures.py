"""Rule shap_figures: the SHAP beeswarm and mean-|SHAP| bar figures of one level."""

import pandas as pd
from typing import TYPE_CHECKING

from alnburden.figures.explain import plot_shap_figures
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_shap_figures(
    read_table(snakemake.input.table),
    pd.read_parquet(snakemake.input.values),
    snakemake.output.beeswarm,
    snakemake.output.bar,
    snakemake.params.level_label,
    top=snakemake.params.top,
)
