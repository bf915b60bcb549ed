"""Rule external_cohort_figures: the Ki-67 forest plot and the cascade of an external cohort."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.external.figures import draw_cohort_figures
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
draw_cohort_figures({name: read_table(path) for name, path in snakemake.input.items()},
                    {Path(p).stem: p for p in snakemake.output if p.endswith(".png")},
                    level_labels=snakemake.params.level_labels)
