"""Rule nomogram: the level's combined (or clinical) logistic model drawn as a nomogram."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.figures.nomogram import draw_nomograms
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
draw_nomograms(
    Path(snakemake.input.card).parent,
    snakemake.wildcards.level,
    snakemake.output.png,
    model=snakemake.params.model,
    level_label=snakemake.params.level_label,
    points_csv=snakemake.output.points,
)
