"""SHAP figures of a level's radiomics learner: a beeswarm and a mean-|SHAP| bar chart.

Both draw numbers that :mod:`alnburden.evaluation.explain` computed
(``results/tables/<level>_shap.csv`` and ``results/<level>/explain/shap_values.parquet``);
nothing is recomputed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.figures.style import PAGE_IN, figure_style, model_color, save_figure

__all__ = ["plot_shap_beeswarm", "plot_shap_bar", "plot_shap_figures", "TOP_FEATURES"]

#: Features shown (the largest mean |SHAP|).
TOP_FEATURES = 10

_OUTPUT_LABEL = {"log-odds": "SHAP value (log-odds of a positive label)",
                 "probability": "SHAP value (probability of a positive label)"}



def _figure_title(fig, text: str) -> None:
    """The figure's title, centred over all its panels and wrapped to the figure's width (a
    long level description set as one axes' title ran past the figure and widened the saved
    page); about 12 characters of 10-point bold text per inch."""
    import textwrap

    fig.suptitle(textwrap.fill(text, int(fig.get_figwidth() * 12)), fontsize=10,
                 fontweight="bold", y=1.0)

def _top(table: pd.DataFrame, top: int) -> pd.DataFrame:
    return table.sort_values("rank").head(int(top))


def _swarm_offsets(x: np.ndarray, width: float = 0.38, bins: int = 40) -> np.ndarray:
    """Vertical offsets that spread points of similar x (a deterministic beeswarm)."""
    if x.size == 0:
        return x
    lo, hi = float(np.min(x)), float(np.max(x))
    idx = np.zeros(x.size, dtype=int) if hi == lo else np.minimum(
        ((x - lo) / (hi - lo) * bins).astype(int), bins - 1)
    offsets = np.zeros(x.size)
    for b in np.unique(idx):
        members = np.flatnonzero(idx == b)
        k = members.size
        # 0, +1, -1, +2, -2, ... scaled so the densest bin fills the row
        steps = np.array([(i + 1) // 2 * (1 if i % 2 else -1) for i in range(k)], dtype=float)
        offsets[members[np.argsort(x[members], kind="stable")]] = steps
    peak = max(1.0, np.abs(offsets).max())
    return offsets / peak * width


def plot_shap_beeswarm(values: pd.DataFrame, table: pd.DataFrame, path: str | Path,
                       title: str, top: int = TOP_FEATURES) -> list[Path]:
    """Beeswarm of the test patients' SHAP values, one row per top feature.

    Parameters
    ----------
    values
        Long SHAP values (``feature, shap, value, output``).
    table
        The level's SHAP table (``rank, feature, label``).
    path
        Output stem (PDF + PNG).
    title
        The level's title.
    top
        Features shown.
    """
    import matplotlib.pyplot as plt

    rows = _top(table, top)
    output = str(values["output"].iloc[0]) if "output" in values and len(values) else "log-odds"
    with figure_style():
        fig, ax = plt.subplots(figsize=(PAGE_IN * 0.8, 0.42 * len(rows) + 1.3))
        sc = None
        for i, (_, r) in enumerate(rows.iterrows()):
            v = values[values["feature"] == r["feature"]]
            x = v["shap"].to_numpy(dtype=float)
            y = len(rows) - 1 - i + _swarm_offsets(x)
            sc = ax.scatter(x, y, c=np.clip(v["value"].to_numpy(dtype=float), -2, 2), s=7,
                            cmap="coolwarm", vmin=-2, vmax=2, linewidths=0, alpha=0.9)
        ax.axvline(0, color="0.5", lw=0.6, zorder=0)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(list(rows["label"])[::-1])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel(_OUTPUT_LABEL.get(output, f"SHAP value ({output})"))
        _figure_title(fig, f"{title}: SHAP values of the radiomics learner (test set)")
        if sc is not None:
            cb = fig.colorbar(sc, ax=ax, pad=0.01, aspect=30)
            cb.set_label("Feature value (z-score, clipped at ±2)")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        return save_figure(fig, path)


def plot_shap_bar(table: pd.DataFrame, path: str | Path, title: str,
                  top: int = TOP_FEATURES) -> list[Path]:
    """Mean |SHAP| of the top features, beside their permutation importance (test AUC drop).

    Parameters
    ----------
    table
        The level's SHAP table (``rank, label, mean_abs_shap, output``, optionally
        ``permutation_auc_drop`` and ``permutation_auc_drop_sd``).
    path
        Output stem (PDF + PNG).
    title
        The level's title.
    top
        Features shown.
    """
    import matplotlib.pyplot as plt

    rows = _top(table, top).iloc[::-1]
    has_perm = ("permutation_auc_drop" in rows and rows["permutation_auc_drop"].notna().any())
    output = str(rows["output"].iloc[0]) if len(rows) else "log-odds"
    y = np.arange(len(rows))
    with figure_style():
        fig, axes = plt.subplots(1, 2 if has_perm else 1, sharey=True, squeeze=False,
                                 figsize=(PAGE_IN if has_perm else PAGE_IN * 0.7,
                                          0.32 * len(rows) + 1.2),
                                 gridspec_kw={"width_ratios": [1.4, 1] if has_perm else [1]})
        ax = axes[0, 0]
        ax.barh(y, rows["mean_abs_shap"], color=model_color("radiomics"), height=0.65)
        ax.set_yticks(y)
        ax.set_yticklabels(rows["label"])
        ax.set_xlabel(f"Mean |SHAP| ({output})")
        _figure_title(fig, f"{title}: feature importance (test set)")
        if has_perm:
            ax2 = axes[0, 1]
            ax2.barh(y, rows["permutation_auc_drop"], xerr=rows["permutation_auc_drop_sd"],
                     color="#8C8C8C", height=0.65, error_kw={"lw": 0.7, "capsize": 1.5})
            ax2.axvline(0, color="0.3", lw=0.6)
            ax2.set_xlabel("Permutation importance\n(drop in test AUC, mean ± SD)")
        for a in axes.ravel():
            for side in ("top", "right"):
                a.spines[side].set_visible(False)
        fig.tight_layout()
        return save_figure(fig, path)


def plot_shap_figures(table: pd.DataFrame, values: pd.DataFrame, beeswarm_path: str | Path,
                      bar_path: str | Path, title: str, top: int = TOP_FEATURES) -> list[Path]:
    """Both SHAP figures of a level (rule ``shap_figures``)."""
    return (plot_shap_beeswarm(values, table, beeswarm_path, title, top)
            + plot_shap_bar(table, bar_path, title, top))


