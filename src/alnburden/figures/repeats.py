"""The repeated random splits of a level: test AUC of every model over the repeats.

Drawn from numbers computed elsewhere: the per-repeat AUCs
(:func:`alnburden.evaluation.repeats.repeat_test_aucs`) and the summary table with the
corrected interval (:func:`alnburden.evaluation.repeats.repeated_splits_table`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.figures.style import COLUMN_IN, figure_style, model_color, model_label, save_figure
from alnburden.formatting import FIGURE_DASH, fmt_ci


def plot_repeated_splits(aucs: pd.DataFrame, table: pd.DataFrame, level: str,
                         path: str | Path, title: str) -> list[Path]:
    """One row per model: a box and the points of its test AUCs over the repeats, the mean
    (diamond) with the Nadeau-Bengio corrected 95 % interval (black bar), the chance line.

    Parameters
    ----------
    aucs
        ``results/repeats/test_aucs.csv`` (``repeat, level, model, auc``).
    table
        ``results/tables/repeated_splits.csv`` (``level, model, mean, ci_low, ci_high``);
        its model order (arms first) is the figure's, top to bottom.
    level
        The level drawn.
    path, title
        Output (PDF + PNG) and the level's title.
    """
    import matplotlib.pyplot as plt

    tab = table[table["level"] == level].reset_index(drop=True)
    pts = aucs[aucs["level"] == level]
    models = list(tab["model"])
    with figure_style():
        fig, ax = plt.subplots(figsize=(COLUMN_IN * 1.6, 0.45 * len(models) + 1.2))
        rng = np.random.default_rng(0)  # jitter only: the points' vertical scatter
        for i, r in tab.iterrows():
            y = len(models) - 1 - i
            values = pts.loc[pts["model"] == r["model"], "auc"].dropna().to_numpy()
            color = model_color(r["model"])
            if len(values):
                ax.boxplot(values, positions=[y], orientation="horizontal", widths=0.5,
                           showfliers=False,
                           patch_artist=True, boxprops={"facecolor": color, "alpha": 0.25,
                                                        "edgecolor": color},
                           medianprops={"color": color}, whiskerprops={"color": color},
                           capprops={"color": color})
                ax.scatter(values, y + rng.uniform(-0.15, 0.15, len(values)), s=9,
                           color=color, alpha=0.8, linewidths=0, zorder=3)
            if np.isfinite(r["ci_low"]):
                ax.errorbar(r["mean"], y + 0.36, xerr=[[r["mean"] - r["ci_low"]],
                                                       [r["ci_high"] - r["mean"]]],
                            fmt="D", color="black", markersize=4, capsize=2.5, lw=1, zorder=4)
            ax.text(1.02, y, fmt_ci(r["mean"], r["ci_low"], r["ci_high"], 2, FIGURE_DASH),
                    transform=ax.get_yaxis_transform(), va="center", fontsize=7)
        ax.axvline(0.5, color="0.6", lw=0.8, ls="--", zorder=1)
        ax.set_yticks(range(len(models)))
        ax.set_yticklabels([model_label(m) for m in reversed(models)])
        ax.set_ylim(-0.7, len(models) - 0.3)
        lo = np.nanmin([pts["auc"].min(), tab["ci_low"].min(), 0.5])
        ax.set_xlim(max(0.0, lo - 0.05), 1.01)
        ax.text(1.02, len(models) - 0.45, "Mean (corrected 95 % CI)",
                transform=ax.get_yaxis_transform(), va="bottom", fontsize=7,
                fontweight="bold")
        ax.set_xlabel("Test AUC")
        n = int(tab["repeats"].max()) if len(tab) else 0
        ax.set_title(f"{title}: {n} repeated random splits")
        axes_in = ax.get_position().height * fig.get_figheight()
        ax.text(0.0, -0.5 / axes_in,
                "points and box: test AUC of each repeat; diamond and bar: mean with "
                "corrected 95 % CI (Nadeau & Bengio)", transform=ax.transAxes, fontsize=6.5,
                color="0.3")
        return save_figure(fig, path)
