"""Rule checklists: TRIPOD+AI and CLEAR filled from this run's files."""

from typing import TYPE_CHECKING

from alnburden.io import setup_logging
from alnburden.reporting.checklists import CHECKLISTS, write_checklists
from alnburden.reporting.fillers import RunRecord

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
write_checklists(RunRecord(dict(snakemake.input.items()), snakemake.params.config),
                 {name: snakemake.output[f"checklist_{name}"] for name in CHECKLISTS})
