"""Rule level_figures: ROC, learners' ROC, calibration, decision curves, clinical impact of a level."""

from typing import TYPE_CHECKING

from alnburden.figures.registry import draw_level_figures
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
draw_level_figures(
    read_table(snakemake.input.predictions),
    read_table(snakemake.input.dca),
    snakemake.wildcards.level,
    paths={k: v for k, v in snakemake.output.items() if k != "pdf"},
    cutoff=snakemake.params.cutoff,
    level_label=snakemake.params.level_label,
    n_boot=snakemake.params.n_boot,
    random_state=snakemake.params.seed,
)
