"""Rule summary: our numbers beside the published ones (results/summary.md)."""

from typing import TYPE_CHECKING

import pandas as pd

from alnburden.io import setup_logging
from alnburden.summary import write_summary

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
inputs = snakemake.input
write_summary(
    pd.read_csv(inputs.performance),
    pd.read_csv(inputs.subgroups) if "subgroups" in inputs.keys() else None,
    snakemake.params.published,
    snakemake.output[0],
    simulated=snakemake.params.simulated,
    manifest=snakemake.params.manifest,
    title=snakemake.params.study,
    cascade_metrics=pd.read_csv(inputs.cascade) if "cascade" in inputs.keys() else None,
    delong=pd.read_csv(inputs.delong),
)
