"""Rule icc: per-feature ICC across original and perturbed masks; features kept above threshold."""

from typing import TYPE_CHECKING

from alnburden.extraction.shards import merge_shards
from alnburden.io import setup_logging, write_table
from alnburden.extraction.robustness import icc_table

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
rob = snakemake.params.robustness
table = icc_table(merge_shards(snakemake.input), icc=rob["icc"], threshold=rob["threshold"])
write_table(table, snakemake.output.icc, title="Segmentation robustness (ICC)")
log.info("%d of %d features kept (ICC >= %s)", int(table["kept"].sum()), len(table), rob["threshold"])
