"""Fillers of the software and its versions (learners' libraries, the workflow)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from alnburden.modeling.learners import LEARNERS
from alnburden.reporting.fillers.phrases import word_list
from alnburden.reporting.fillers.record import Filled, RunRecord, filler


def package_version(dist: str) -> str:
    """The installed version of ``dist`` (``not installed`` when absent)."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


@filler("algorithms")
def algorithms(run: RunRecord) -> Filled:
    versions = run.card(run.levels[0])["versions"]
    parts = []
    if run.design.has_images:
        parts.append("Learners: " + "; ".join(
            f"{LEARNERS[n].label} ({word_list(LEARNERS[n].libraries or ('scikit-learn',))})"
            for n in run.config["models"]["learners"]))
    parts.append("logistic models: statsmodels")
    parts.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    return Filled("; ".join(parts) + ".", (run.path(f"card_{run.levels[0]}"),),
                  {"versions": versions})


@filler("code_sharing")
def code_sharing(run: RunRecord) -> Filled:
    v = package_version("alnburden")
    return Filled(f"The analysis is the open alnburden workflow (version {v}, Snakemake "
                  f"{package_version('snakemake')}); the run's exact config is saved in "
                  "`results/logs/run_config.yaml` and every rule's log under `results/logs/`.",
                  (), {"alnburden": v})
