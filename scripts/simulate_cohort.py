"""Rule simulate_cohort: write the in-silico cohort in the user manifest format."""

from pathlib import Path
from typing import TYPE_CHECKING

from alnburden.io import setup_logging
from alnburden.simulate import EffectSizes, simulate_cohort

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

setup_logging(snakemake.log[0])
sim = snakemake.params.simulate
simulate_cohort(
    Path(snakemake.output.manifest).parent,
    n_patients=sim["n_patients"],
    seed=sim["seed"],
    effects=EffectSizes().replace(**sim["effects"]),
    node_positive_only=sim["node_positive_only"],
    high_burden_fraction=sim["high_burden_fraction"],
    n_jobs=snakemake.threads,
)
