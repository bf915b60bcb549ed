"""Rule merge_whole_fit: a level's whole-fit bootstrap resamples as its optimism-corrected
indices (alnburden.modeling.whole_fit.whole_fit_table)."""

from typing import TYPE_CHECKING

from alnburden.io import read_table, setup_logging, write_table
from alnburden.levels import levels_from_config
from alnburden.modeling.persistence import load_model
from alnburden.modeling.whole_fit import level_whole_fit

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

log = setup_logging(snakemake.log[0])
(level,) = levels_from_config({"levels": [snakemake.params.level]})
table = level_whole_fit(
    [read_table(p) for p in snakemake.input.resamples],
    read_table(snakemake.input.predictions),
    read_table(snakemake.input.cohort),
    read_table(snakemake.input.split),
    level,
    load_model(snakemake.input.combined) if "combined" in snakemake.input.keys() else None,
    snakemake.params.strategy,
)
write_table(table, snakemake.output[0],
            title=f"{level.name}: bootstrap optimism correction of the whole level fit")
for r in table[table["metric"] == "auc"].itertuples():
    log.info("%s %s: apparent AUC %.3f, optimism %.3f, corrected %.3f (%d resamples)", level.name,
             r.model, r.apparent, r.optimism, r.corrected, r.n_resamples)
