"""Rule whole_fit_resample: the whole level fit on one bootstrap resample of the training
patients, scored on the resample and on the original patients (alnburden.modeling.whole_fit)."""

from typing import TYPE_CHECKING

from alnburden.io import setup_logging
from alnburden.levels import levels_from_config
from alnburden.modeling.fit_inputs import read_refit_inputs
from alnburden.modeling.predictions import write_predictions
from alnburden.modeling.whole_fit import fit_resample

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
rows = fit_resample(
    *read_refit_inputs(snakemake.input),
    level,
    snakemake.params.variables,
    snakemake.params.fit,
    b=int(snakemake.wildcards.b),
    bootstrap=snakemake.params.bootstrap,
    tuning_repeats=snakemake.params.tuning_repeats,
    robustness=snakemake.params.robustness,
    n_jobs=snakemake.threads,
)
write_predictions(rows, snakemake.output[0])  # full precision: the merge averages them
