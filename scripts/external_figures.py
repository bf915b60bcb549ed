"""Rule external_figures: ROC, calibration and decision curves of the external cohort."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.external.bundle import Bundle
from alnburden.external.figures import draw_external_figures
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
bundle = Bundle.open(snakemake.input.bundle)
pngs = [Path(p) for p in snakemake.output if p.endswith(".png")]
draw_external_figures(
    read_table(snakemake.input.predictions), read_table(snakemake.input.dca),
    cutoffs={lv["name"]: bundle.cutoffs(lv["name"]) for lv in bundle.levels},
    paths={tuple(p.stem.split("_", 1)): p for p in pngs},
    level_labels={lv["name"]: lv.get("description") or lv["name"] for lv in bundle.levels},
    n_boot=snakemake.params.n_boot, random_state=snakemake.params.seed)
