"""Rule external_features: the external cohort's features, extracted with the bundle's settings."""

from typing import TYPE_CHECKING

from alnburden.external.bundle import Bundle
from alnburden.extraction.shards import extract_shard
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
extract_shard(read_table(snakemake.input.cohort), shard=0, n_shards=1,
              params_path=snakemake.input.get("params") or Bundle.open(snakemake.input.bundle).params_path, out_path=snakemake.output[0],
              progress_logger=log, **snakemake.params.extraction)
