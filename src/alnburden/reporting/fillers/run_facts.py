"""Facts of a run that several fillers state: its variables, levels, arms, validation
report, optional tables, whether it has nested or external rows, its chosen learners and
training cutoffs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.reporting.fillers.phrases import word_list
from alnburden.reporting.fillers.record import RunRecord


def clinical_variables(run: RunRecord) -> list[dict]:
    """The config's clinical variables (``clinical.variables``)."""
    return list(run.config["clinical"]["variables"])


def level_phrase(run: RunRecord, name: str) -> str:
    """A level in words: its name, label and population."""
    lv = run.level(name)
    pop = "all patients" if lv.population == "all" else f"patients with {lv.population}"
    desc = f" ({lv.description})" if lv.description and lv.description != name else ""
    return f"{name}{desc}: label {lv.label}, among {pop}"


def arms_phrase(run: RunRecord) -> str:
    """The models each level fits (the design's arms), in words."""
    arms = run.design.arms
    names = {"radiomics": "a radiomics model (machine-learning learners on pyradiomics "
                          "features, giving a Rad-score)",
             "clinical": "a clinical logistic model",
             "combined": "a combined logistic model (Rad-score + independent clinical "
                         "predictors)"}
    return word_list(names[a] for a in arms)


def validation_report(run: RunRecord) -> Path:
    """The manifest validation report beside ``cohort.csv``."""
    return Path(run.path("cohort")).parent / "validation_report.csv"


def optional_table(run: RunRecord, role: str) -> pd.DataFrame | None:
    """The table of ``role``, or None when the run did not write it."""
    return run.table(role) if run.has(role) else None


def has_nested(run: RunRecord) -> bool:
    """Whether the run has nested cross-validation predictions."""
    return bool((run.table("predictions")["set"] == "nested").any())


def has_external(run: RunRecord) -> bool:
    """Whether the run has external-cohort rows."""
    return bool((run.table("performance")["set"] == "external").any())


def chosen_learners(run: RunRecord) -> dict[str, str]:
    """The radiomics learner each level chose (empty without images)."""
    if not run.design.has_images:
        return {}
    return {lv: run.card(lv)["radiomics"]["chosen_learner"] for lv in run.levels}


def training_cutoffs(run: RunRecord) -> dict:
    """``{(level, model): cutoff}`` chosen on the training set."""
    perf = run.table("performance")
    tr = perf[perf["set"] == "train"]
    return {(r.level, r.model): float(r.cutoff) for r in tr.itertuples() if np.isfinite(r.cutoff)}
