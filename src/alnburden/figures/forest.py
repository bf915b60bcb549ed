"""Forest plot of the test-set AUC by Ki-67 subgroup (from the subgroup table), with the
p-value of the interaction test (linear predictor x subgroup)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.figures.style import (PAGE_IN, figure_style, level_title, model_color,
                                     model_label, save_figure)
from alnburden.formatting import FIGURE_DASH, fmt_ci, fmt_p

#: Height of a row, and the margins above and below the forest (inches).
ROW_IN, TOP_IN, BOTTOM_IN = 0.22, 0.55, 0.5
#: Column positions (figure fraction): label | patients (events) | AUC (95% CI) | P.
X_LABEL, X_N, X_AUC, X_P = 0.01, 0.34, 0.855, 0.995


@dataclass(frozen=True)
class _Row:
    """One line of the forest: a block heading (``r`` None) or a subgroup."""

    text: str
    model: str
    p: float
    r: pd.Series | None = None


def _rows(table: pd.DataFrame, level_labels: Mapping[str, str],
          set_: str = "test") -> list[_Row]:
    rows = []
    if "set" in table.columns:
        table = table[table["set"] == set_]
    col = "p_interaction" if "p_interaction" in table.columns else "p_difference"
    for (level, model), g in table.groupby(["level", "model"], sort=False):
        p = g[col].iloc[0]
        head = f"{level_title(level, level_labels.get(level))}, {model_label(model).lower()}"
        rows.append(_Row(head, model, p))
        rows += [_Row(str(r["subgroup"]).replace(">=", "\u2265"), model, p, r)
                 for _, r in g.iterrows()]
    return rows


def _estimate_text(r: pd.Series) -> str:
    if not np.isfinite(r["auc"]) and "AUC undefined" in str(r.get("note", "")):
        return "n/a (one class)"
    return fmt_ci(r["auc"], r["auc_ci_low"], r["auc_ci_high"], dash=FIGURE_DASH)


def _draw_row(ax, tr, y: float, row: _Row) -> None:
    text = dict(transform=tr, va="center", fontsize=8)
    if row.r is None:
        ax.text(X_LABEL, y, row.text, fontweight="bold", ha="left", **text)
        ax.text(X_P, y, fmt_p(row.p, missing=""), ha="right", **text)
        return
    r = row.r
    ax.text(X_LABEL + 0.02, y, row.text, ha="left", **text)
    ax.text(X_N, y, f"{int(r['n'])} ({int(r['events'])})", ha="right", **text)
    ax.text(X_AUC, y, _estimate_text(r), ha="right", **text)
    if np.isfinite(r["auc"]):
        col = model_color(row.model)
        lo, hi = r["auc_ci_low"], r["auc_ci_high"]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo, hi], [y, y], color=col, lw=1.3, solid_capstyle="butt")
        ax.plot(r["auc"], y, "s", color=col, ms=4.5, zorder=3)


def _column_heads(ax, tr, n: int) -> None:
    for x, txt, ha in ((X_LABEL, "Subgroup", "left"), (X_N, "Patients\n(events)", "right"),
                       (X_AUC, "AUC (95% CI)", "right"), (X_P, "P for\ninteraction", "right")):
        ax.text(x, n - 0.5 + 0.25, txt, transform=tr, fontweight="bold", va="bottom",
                ha=ha, fontsize=7.5, clip_on=False)


def plot_subgroups_forest(table: pd.DataFrame, path: str | Path,
                          level_labels: Mapping[str, str] | None = None,
                          set_: str = "test") -> list[Path]:
    """Forest plot of AUC (95 % CI) by Ki-67 subgroup, per level and model.

    Parameters
    ----------
    table
        Output of :func:`alnburden.evaluation.tables.subgroup_table`.
    path
        Output path (PDF + PNG).
    level_labels
        Level descriptions by level name (:meth:`alnburden.design.StudyDesign.level_label`);
        a level without one is shown as ``"Level 1"`` for ``level1``.
    set_
        The set drawn (``test``; ``external`` for an external cohort).

    Notes
    -----
    The test-set rows of the table. One block per level and model (bold heading with the
    p-value of the likelihood-ratio test of linear predictor x subgroup), one row per
    subgroup: patients (events), AUC (95 % CI) as
    text and as a point with its interval. A subgroup whose AUC is undefined (one class)
    is listed with "n/a" and no point. The vertical dashed line is AUC = 0.5 (chance).
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    if table.empty or ("set" in table.columns and not (table["set"] == set_).any()):
        raise ValueError(f"subgroup table has no {set_}-set row; nothing to draw")
    rows = _rows(table, level_labels or {}, set_)
    n = len(rows)
    lows = pd.to_numeric(table["auc_ci_low"], errors="coerce").dropna()
    xmin = min(0.3, np.floor(lows.min() * 10) / 10) if len(lows) else 0.3
    height = TOP_IN + BOTTOM_IN + ROW_IN * n
    with figure_style():
        fig = plt.figure(figsize=(PAGE_IN, height))
        ax = fig.add_axes([0.38, BOTTOM_IN / height, 0.33, ROW_IN * n / height])
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_xlim(xmin, 1.0)
        ax.axvline(0.5, color="#9E9E9E", ls=(0, (4, 3)), lw=0.8, zorder=0)
        tr = blended_transform_factory(fig.transFigure, ax.transData)
        for y, row in zip(np.arange(n)[::-1].astype(float), rows):
            _draw_row(ax, tr, y, row)
        _column_heads(ax, tr, n)
        ax.set_yticks([])
        ax.spines[["left", "right", "top"]].set_visible(False)
        ax.set_xlabel("AUC (95% CI)")
        ax.set_xticks(np.round(np.arange(xmin, 1.0001, 0.1), 1))
        return save_figure(fig, path)
