"""Heatmap of the hierarchical cascade's confusion matrix (from the cascade tables)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.figures.style import COLUMN_IN, figure_style, save_figure

#: Display names of the cascade's classes.
CLASS_LABELS = {"N>=3": "N\u22653", "N+ (unscored)": "N+\n(unscored)"}


def _cells(confusion: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Row percentages, cell texts (count and row percentage) and axis labels."""
    mat = confusion.set_index("true_class").drop(columns=["total"], errors="ignore")
    counts = mat.to_numpy(dtype=float)
    row_tot = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(row_tot > 0, 100 * counts / row_tot, np.nan)
    annot = np.array([[f"{int(c)}\n({p:.0f}%)" if np.isfinite(p) else f"{int(c)}"
                       for c, p in zip(cr, pr)] for cr, pr in zip(counts, pct)])
    return (pct, annot, [CLASS_LABELS.get(c, c) for c in mat.columns],
            [CLASS_LABELS.get(c, c) for c in mat.index])


def _metrics_line(metrics: pd.DataFrame | Mapping) -> str:
    """``n = 174; accuracy 0.61, κ linear 0.40, κ quadratic 0.52``."""
    m = metrics.iloc[0] if isinstance(metrics, pd.DataFrame) else metrics
    parts = [f"accuracy {m['accuracy']:.2f}"]
    if np.isfinite(m.get("kappa_linear", np.nan)):
        parts.append(f"\u03ba linear {m['kappa_linear']:.2f}")
    if np.isfinite(m.get("kappa_quadratic", np.nan)):
        parts.append(f"\u03ba quadratic {m['kappa_quadratic']:.2f}")
    return f"n = {int(m['n'])}; " + ", ".join(parts)


def plot_cascade(confusion: pd.DataFrame, path: str | Path,
                 metrics: pd.DataFrame | Mapping | None = None,
                 title: str = "Hierarchical cascade (test set)") -> list[Path]:
    """Heatmap of the cascade's confusion matrix: counts and row percentages.

    Parameters
    ----------
    confusion
        First output of :func:`alnburden.evaluation.cascade.cascade_table` (``true_class``
        then one column per predicted class, then ``total``).
    path
        Output path (PDF + PNG).
    metrics
        Second output of :func:`alnburden.evaluation.cascade.cascade_table` (one row);
        accuracy and weighted kappa are printed under the title.
    title
        Figure title.

    Notes
    -----
    Colour encodes the row percentage (share of the true class predicted as each class),
    so the diagonal reads as per-class sensitivity; each cell shows the count and the row
    percentage.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    pct, annot, xt, yt = _cells(confusion)
    sub = "" if metrics is None else _metrics_line(metrics)
    with figure_style():
        fig, ax = plt.subplots(figsize=(COLUMN_IN + 0.4 + 0.5 * (len(xt) > 3), 3.1))
        sns.heatmap(pct, annot=annot, fmt="", cmap="Blues", vmin=0, vmax=100, ax=ax,
                    cbar_kws={"label": "Row percentage (%)", "shrink": 0.85},
                    linewidths=0.8, linecolor="white", annot_kws={"fontsize": 8},
                    xticklabels=xt, yticklabels=yt, square=True)
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("Pathological class")
        ax.tick_params(axis="y", rotation=0)
        ax.tick_params(length=0)
        ax.set_title(title, loc="left", fontsize=8.5, pad=14 if sub else 6)
        if sub:
            ax.text(0.0, 1.015, sub, transform=ax.transAxes, ha="left", va="bottom",
                    fontsize=7.5, color="#404040")
        fig.tight_layout()
        return save_figure(fig, path)
