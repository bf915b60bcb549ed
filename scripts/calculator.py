"""Rule calculator: the level's logistic model as a self-contained HTML risk calculator."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.io import setup_logging
from alnburden.reporting.calculator import write_calculator

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
page = write_calculator(
    Path(snakemake.input.card).parent,
    snakemake.input.performance,
    snakemake.output[0],
    level=snakemake.wildcards.level,
    model=snakemake.params.model,
    variables=snakemake.params.variables,
    level_label=snakemake.params.level_label,
    label_rule=snakemake.params.label_rule,
    simulated=snakemake.params.simulated,
)
log.info("wrote %s", page)
