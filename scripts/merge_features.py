"""Rule merge_features: one row per patient, columns sorted, provenance kept."""

from typing import TYPE_CHECKING

from alnburden.extraction.shards import merge_shards, write_features
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
features = merge_shards(snakemake.input)
write_features(features, snakemake.output.parquet, features.attrs["alnburden"], csv_path=snakemake.output.csv)
log.info("%d patients x %d features", len(features), features.shape[1] - 1)
