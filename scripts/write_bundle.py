"""Rule bundle: the study's frozen models and contract in results/bundle/ and results/bundle.zip."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.external.bundle import write_bundle
from alnburden.extraction.shards import read_features
from alnburden.io import read_table, setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
has_images = "features" in snakemake.input.keys()
features, meta = read_features(snakemake.input.features) if has_images else (None, None)
zip_path = write_bundle(
    snakemake.output.folder,
    snakemake.output.zip,
    study=snakemake.params.study,
    levels=snakemake.params.levels,
    variables=snakemake.params.variables,
    model_dirs={Path(card).parents[1].name: Path(card).parent for card in snakemake.input.cards},
    performance=read_table(snakemake.input.performance),
    cohort=read_table(snakemake.input.cohort),
    split=read_table(snakemake.input.split),
    features=features,
    feature_meta=meta,
    icc=read_table(snakemake.input.icc) if has_images else None,
    params_path=snakemake.input.params if has_images else None,
    radiomics=snakemake.params.radiomics,
    evaluation=snakemake.params.evaluation,
    harmonization=snakemake.params.harmonization,
)
log.info("bundle written: %s", zip_path)
