"""Rule repeated_splits: test AUCs over the repeated random splits, with the corrected interval."""

from typing import TYPE_CHECKING

from alnburden.evaluation.repeats import write_repeated_splits
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
write_repeated_splits(list(snakemake.input), snakemake.output.table, snakemake.output.aucs,
                      title=snakemake.params.title)
