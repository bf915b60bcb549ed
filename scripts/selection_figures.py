"""Rule selection_figures: the LASSO path and penalty-choice figures of one level's radiomics
model (drawn from the saved model; nothing is refitted)."""

from typing import TYPE_CHECKING

from alnburden.figures.selection import plot_selection_figures
from alnburden.io import setup_logging
from alnburden.modeling.persistence import load_model

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
plot_selection_figures(
    load_model(snakemake.input.model),
    snakemake.output.lasso_path,
    snakemake.output.lasso_cv,
)
