"""Patients, events and missing values of a run, counted from its tables (pure functions)."""

from __future__ import annotations

import pandas as pd


def level_counts(cohort: pd.DataFrame, split: pd.DataFrame, levels: list[str]) -> dict:
    """Patients and events of each level, overall and per set (train/test).

    The level's population are the rows of ``cohort.csv`` whose label column is filled.
    """
    sets = split.set_index(split["patient_id"].astype(str))["set"]
    out = {}
    for name in levels:
        lab = pd.to_numeric(cohort[name], errors="coerce")
        rows = cohort[lab.notna()]
        y = lab[lab.notna()].astype(int).to_numpy()
        s = rows["patient_id"].astype(str).map(sets).to_numpy()
        out[name] = {"n": int(len(rows)), "events": int(y.sum())}
        for set_name in ("train", "test"):
            out[name][f"{set_name}_n"] = int((s == set_name).sum())
            out[name][f"{set_name}_events"] = int(y[s == set_name].sum())
    return out


def set_counts(predictions: pd.DataFrame) -> dict:
    """``{level: {set: (patients, events)}}`` from ``predictions.csv`` (one model's rows:
    every model of a set scores the same patients)."""
    out: dict = {}
    for (level, set_), g in predictions.groupby(["level", "set"], sort=True):
        one = g[g["model"] == g["model"].iloc[0]]
        out.setdefault(level, {})[set_] = (int(len(one)), int(one["y_true"].sum()))
    return out


def missing_counts(cohort: pd.DataFrame, variables: list[str]) -> dict[str, int]:
    """Empty cells of each clinical variable in ``cohort.csv``."""
    return {v: int(cohort[v].isna().sum()) for v in variables if v in cohort.columns}
