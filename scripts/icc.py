"""Rule icc: per-feature ICC over perturbations and/or readers; features kept by the configured rule."""

from typing import TYPE_CHECKING

from alnburden.extraction.robustness import robustness_icc
from alnburden.io import setup_logging

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
robustness_icc(
    {key: list(snakemake.input[key]) for key in snakemake.input.keys()},
    {key: snakemake.output[key] for key in snakemake.output.keys()},
    source=snakemake.params.source,
    icc=snakemake.params.icc,
    keep_on=snakemake.params.keep_on,
    threshold=snakemake.params.threshold,
    progress_logger=log,
)
