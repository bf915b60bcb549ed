"""Rule level_figures: ROC, learners' ROC, calibration, decision curves, clinical impact of a level."""

from typing import TYPE_CHECKING

import pandas as pd

from alnburden.io import setup_logging
from alnburden.plots import draw_level_figures

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
draw_level_figures(
    pd.read_csv(snakemake.input.predictions, dtype={"patient_id": str}),
    pd.read_csv(snakemake.input.dca),
    snakemake.wildcards.level,
    paths={k: v for k, v in snakemake.output.items() if k != "pdf"},
    cutoff=snakemake.params.evaluation["cutoff"],
    level_label=snakemake.params.level_label,
)
