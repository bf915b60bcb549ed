"""Rule nested_fold: the whole level fit on the outer-training folds; the held-out fold predicted."""

from typing import TYPE_CHECKING

from alnburden.io import setup_logging
from alnburden.levels import levels_from_config
from alnburden.modeling.fit_inputs import read_refit_inputs
from alnburden.modeling.nested import fit_outer_fold
from alnburden.modeling.predictions import write_predictions

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
rows = fit_outer_fold(
    *read_refit_inputs(snakemake.input),
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
