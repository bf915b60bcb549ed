"""The external cohort's figures: the study's ROC, calibration and decision-curve figures
drawn for set ``external`` (numbers from :mod:`alnburden.evaluation.curves`, drawing from
:mod:`alnburden.figures.curves`), and the drift figure.

The study's curve functions evaluate the sets ``train``, ``cv`` and ``test``; the external
rows are handed to them as the held-out ``test`` set and the results are renamed
``external`` before drawing (:func:`_renamed`), so every panel says "External cohort".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.evaluation import curves as ec
from alnburden.external.apply import EXTERNAL, as_test_rows
from alnburden.figures import curves as fc
from alnburden.figures.style import figure_style, level_title, save_figure

__all__ = ["draw_external_figures", "draw_cohort_figures", "COHORT_FIGURES", "plot_drift"]

#: The external cohort's study-level figures and the tables they are drawn from.
COHORT_FIGURES = {"subgroups_forest": ("subgroups",),
                  "cascade": ("cascade_confusion", "cascade_metrics")}


def _renamed(result):
    """A curves dataclass whose ``test`` set is renamed ``external`` (sets and every frame)."""
    changes = {"sets": tuple(EXTERNAL if s == "test" else s for s in result.sets)}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, pd.DataFrame) and "set" in value.columns:
            changes[f.name] = value.assign(set=value["set"].replace({"test": EXTERNAL}))
    return dataclasses.replace(result, **changes)


def draw_external_figures(pred: pd.DataFrame, dca: pd.DataFrame,
                          cutoffs: Mapping[str, Mapping[str, float]],
                          paths: Mapping[tuple[str, str], str | Path],
                          level_labels: Mapping[str, str] | None = None, n_boot: int = 1000,
                          random_state: int = 0) -> None:
    """ROC (with the bundle's operating points and a bootstrap band), calibration and
    decision curves of every level of an external cohort.

    Parameters
    ----------
    pred
        External predictions (``set = external``).
    dca
        The external ``dca.csv``.
    cutoffs
        Level -> model -> the bundle's cutoff (the ROC's open circles).
    paths
        ``(kind, level)`` -> output path; kinds ``roc``, ``calibration``, ``dca``.
    level_labels
        Level -> description (figure titles).
    n_boot, random_state
        Bootstrap resamples and seed of the ROC bands.
    """
    test = as_test_rows(pred)
    for (kind, level), path in paths.items():
        title = level_title(level, (level_labels or {}).get(level))
        if kind == "roc":
            roc = ec.roc_curves(test, level, sets=("test",), cutoffs=cutoffs.get(level),
                                n_boot=n_boot, random_state=random_state)
            fc.plot_roc(_renamed(roc), path, title)
        elif kind == "calibration":
            cal = ec.calibration_curves(test, level, sets=("test",))
            fc.plot_calibration(_renamed(cal), path, title)
        elif kind == "dca":
            fc.plot_dca(dca, level, path, title, sets=(EXTERNAL,))
        else:
            raise ValueError(f"no external figure kind {kind!r}; use roc, calibration, dca")


def draw_cohort_figures(tables: Mapping[str, pd.DataFrame], paths: Mapping[str, str | Path],
                        level_labels: Mapping[str, str] | None = None) -> None:
    """The Ki-67 subgroup forest plot and the hierarchical cascade of an external cohort.

    Parameters
    ----------
    tables
        The external tables by name (``subgroups``; ``cascade_confusion`` and
        ``cascade_metrics``).
    paths
        Figure (:data:`COHORT_FIGURES`) -> output path.
    level_labels
        Level -> description.
    """
    from alnburden.figures.cascade import plot_cascade
    from alnburden.figures.forest import plot_subgroups_forest

    for name, path in paths.items():
        if name == "subgroups_forest":
            plot_subgroups_forest(tables["subgroups"], path, level_labels, set_=EXTERNAL)
        elif name == "cascade":
            plot_cascade(tables["cascade_confusion"], path, metrics=tables["cascade_metrics"],
                         title="Hierarchical cascade (external cohort)")
        else:
            raise ValueError(f"no external cohort figure {name!r}; use {list(COHORT_FIGURES)}")


def plot_drift(drift: pd.DataFrame, path: str | Path, used: set[str] | None = None,
               smd_threshold: float = 0.5, top: int = 25) -> list[Path]:
    """Drift figure: standardized mean difference (external - training) of the features and
    clinical variables with the largest ``|SMD|``; the model's features highlighted.

    Parameters
    ----------
    drift
        :func:`alnburden.external.drift.drift_table`.
    path
        Output path (PDF + PNG).
    used
        Names the frozen models use (drawn in a darker colour, marked with *).
    smd_threshold
        Dashed lines at +-threshold.
    top
        Rows shown (largest ``|SMD|``).
    """
    import matplotlib.pyplot as plt

    d = drift.dropna(subset=["smd"]).copy()
    d = d[np.isfinite(d["smd"])]
    d = d.reindex(d["smd"].abs().sort_values(ascending=False).index).head(top).iloc[::-1]
    used = used or set()
    with figure_style():
        fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.2 * max(len(d), 3)))
        colors = ["#b2182b" if n in used else ("#4d4d4d" if k == "clinical" else "#92c5de")
                  for n, k in zip(d["name"], d["kind"])]
        labels = [f"{'* ' if n in used else ''}{n}" for n in d["name"]]
        ax.barh(np.arange(len(d)), d["smd"], color=colors, height=0.7)
        ax.set_yticks(np.arange(len(d)), labels, fontsize=6)
        for x in (-smd_threshold, smd_threshold):
            ax.axvline(x, color="0.4", ls="--", lw=0.8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("Standardized mean difference, external \u2212 training")
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color="#b2182b", label="used by the frozen models"),
                           Patch(color="#92c5de", label="radiomic feature"),
                           Patch(color="#4d4d4d", label="clinical variable")],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, frameon=False)
        ax.set_title(f"Drift from the training cohort (largest |SMD|; "
                     f"dashed: \u00b1{smd_threshold:g})", loc="left", fontsize=8)
        if d.empty:
            ax.text(0.5, 0.5, "no comparable feature", ha="center", transform=ax.transAxes)
        fig.tight_layout()
        return save_figure(fig, path)
