"""Rule nested_fold: the whole level fit on the outer-training folds; the held-out fold predicted."""

from typing import TYPE_CHECKING

from alnburden.extraction.shards import read_features
from alnburden.io import read_table, setup_logging
from alnburden.levels import levels_from_config
from alnburden.modeling.nested import fit_outer_fold
from alnburden.modeling.predictions import write_predictions

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
has_images = "features" in snakemake.input.keys()
rows = fit_outer_fold(
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    read_features(snakemake.input.features)[0] if has_images else None,
    {source: read_features(snakemake.input[source])[0]
     for source in ("perturbation", "readers") if source in snakemake.input.keys()}
    if has_images else None,
    level,
    snakemake.params.variables,
    snakemake.params.fit,
    fold=int(snakemake.wildcards.fold),
    nested=snakemake.params.nested,
    robustness=snakemake.params.robustness,
    cutoff=snakemake.params.cutoff,
    n_jobs=snakemake.threads,
)
write_predictions(rows, snakemake.output[0])
