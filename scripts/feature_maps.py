"""Rule feature_maps: voxel-based maps of one level's top radiomic features, drawn."""

from typing import TYPE_CHECKING

from alnburden.figures.feature_maps import draw_level_feature_maps
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
draw_level_feature_maps(
    read_table(snakemake.input.table),
    read_table(snakemake.input.predictions),
    read_table(snakemake.input.cohort),
    snakemake.wildcards.level,
    snakemake.input.params,
    snakemake.output.png,
    snakemake.params.level_label,
    explain=snakemake.params.explain,
    peritumoral_mm=snakemake.params.peritumoral_mm,
    n_jobs=snakemake.threads,
)
