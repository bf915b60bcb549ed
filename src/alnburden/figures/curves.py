"""Curve figures of a level: ROC, calibration, decision curves and clinical impact.

Each function draws numbers that :mod:`alnburden.evaluation.curves` or
:mod:`alnburden.evaluation.tables` computed (it runs no bootstrap, test or smoother) and
writes the figure with :func:`alnburden.figures.style.save_figure`. Probabilities sit on
0-1 axes, ROC and calibration panels are square, and every statistic with an interval
shows its 95 % interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.evaluation import tables as ev
from alnburden.evaluation.curves import CalibrationCurves, RocCurves
from alnburden.figures.style import (COLUMN_IN, SET_LABELS, figure_style, model_color,
                                     model_label, save_figure)
from alnburden.formatting import FIGURE_DASH, fmt_ci

_LETTERS = "ABCDEFG"


def _square_unit_axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.plot([0, 1], [0, 1], ls=(0, (4, 3)), color="#9E9E9E", lw=0.8, zorder=0)


def _titles(ax, left: str, right: str = "") -> None:
    """Bold panel title on the left, sample size in small grey type on the right."""
    ax.set_title(left, loc="left")
    if right:
        ax.set_title(right, loc="right", fontsize=7, fontweight="normal", color="#404040")


def _panel_letter(ax, letter: str) -> None:
    ax.text(-0.2, 1.04, letter, transform=ax.transAxes, fontsize=10, fontweight="bold",
            va="bottom", ha="left")


def _n_events(n: int, events: int) -> str:
    return f"n = {int(n)} ({int(events)} events)"


# --------------------------------------------------------------------------- ROC
def _draw_roc_panel(ax, roc: RocCurves, set_: str, labels: Mapping[str, str]) -> None:
    _square_unit_axes(ax, "1 \u2212 specificity (false-positive rate)",
                      "Sensitivity (true-positive rate)")
    rows = roc.summary[roc.summary["set"] == set_]
    for _, r in rows.iterrows():
        m, col = r["model"], model_color(r["model"])
        if roc.n_boot:
            b = roc.bands[(roc.bands["set"] == set_) & (roc.bands["model"] == m)]
            ax.fill_between(b["fpr"].to_numpy(), b["lo"].to_numpy(), b["hi"].to_numpy(),
                            step="post", color=col, alpha=0.13, lw=0, zorder=1)
        c = roc.curves[(roc.curves["set"] == set_) & (roc.curves["model"] == m)]
        ax.step(c["fpr"].to_numpy(), c["tpr"].to_numpy(), where="post", color=col, lw=1.5,
                label=f"{labels.get(m, model_label(m))}: "
                      f"{fmt_ci(r['auc'], r['auc_ci_low'], r['auc_ci_high'], dash=FIGURE_DASH)}")
        if np.isfinite(r["cutoff_fpr"]):
            ax.plot(r["cutoff_fpr"], r["cutoff_tpr"], "o", ms=4, mfc="white", mec=col,
                    mew=1.2, zorder=5)
    n_txt = _n_events(rows["n"].iloc[-1], rows["events"].iloc[-1]) if len(rows) else ""
    _titles(ax, SET_LABELS.get(set_, set_), n_txt)
    title = "AUC (95% CI)" + ("; shaded: 95% band" if roc.n_boot else "")
    ax.legend(loc="lower right", title=title, handlelength=1.5, borderaxespad=0.3,
              alignment="left")


def plot_roc(roc: RocCurves, path: str | Path, title: str,
             labels: Mapping[str, str] | None = None) -> list[Path]:
    """ROC curves, one panel per set, one curve per model.

    Parameters
    ----------
    roc
        Output of :func:`alnburden.evaluation.curves.roc_curves`.
    path
        Output path; ``<stem>.pdf`` and ``<stem>.png`` are written.
    title
        Figure title (the level's description).
    labels
        Legend names of models (default :func:`~alnburden.figures.style.model_label`).

    Returns
    -------
    list of Path
        The PDF and PNG written.

    Notes
    -----
    The legend gives each model's AUC (95 % DeLong CI); the shaded band (when ``roc`` has
    one) is the curve's pointwise 95 % bootstrap band; the open circle is the operating
    point at the model's cutoff; the dashed diagonal is chance.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        n = len(roc.sets)
        fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.75), squeeze=False)
        for i, (ax, s) in enumerate(zip(axes[0], roc.sets)):
            _draw_roc_panel(ax, roc, s, labels or {})
            if n > 1:
                _panel_letter(ax, _LETTERS[i])
        fig.suptitle(title, fontsize=10, fontweight="bold", y=1.0)
        fig.tight_layout(w_pad=2.0)
        return save_figure(fig, path)


# --------------------------------------------------------------------------- calibration
def _calibration_text(r: pd.Series) -> str:
    txt = [_n_events(r["n"], r["events"]), f"Brier {r['brier']:.3f}"]
    if r["two_classes"]:
        if np.isfinite(r["slope"]):
            txt += [f"Slope {r['slope']:.2f}", f"Intercept {r['intercept']:.2f}"]
        else:  # the logistic recalibration fit failed (perfect separation)
            txt += ["Slope n/a (separated)"]
    return "\n".join(txt)


def _draw_calibration_panel(ax, cal: CalibrationCurves, set_: str, model: str) -> None:
    col = model_color(model)
    _titles(ax, model_label(model), SET_LABELS.get(set_, set_).replace(" set", ""))
    rows = cal.summary[(cal.summary["set"] == set_) & (cal.summary["model"] == model)]
    if rows.empty:
        return
    cc = cal.bins[(cal.bins["set"] == set_) & (cal.bins["model"] == model)]
    pts = cal.points[(cal.points["set"] == set_) & (cal.points["model"] == model)]
    y, p = pts["y_true"].to_numpy(), pts["p"].to_numpy()
    ax.fill_between(cc["p_mean"].to_numpy(), cc["ci_low"].to_numpy(), cc["ci_high"].to_numpy(),
                    color=col, alpha=0.18, lw=0, zorder=1)
    ax.plot(cc["p_mean"].to_numpy(), cc["obs_rate"].to_numpy(), "-o", color=col, ms=3, lw=1.2,
            zorder=3)
    # spike rug of the predictions: events up, non-events down, from y = -0.045
    ax.vlines(p[y == 1], -0.045, -0.015, color=col, lw=0.4, alpha=0.6)
    ax.vlines(p[y == 0], -0.075, -0.045, color="#7F7F7F", lw=0.4, alpha=0.6)
    ax.text(0.03, 0.97, _calibration_text(rows.iloc[0]), transform=ax.transAxes, va="top",
            ha="left", fontsize=6.5, color="#303030", linespacing=1.3)


def plot_calibration(cal: CalibrationCurves, path: str | Path, title: str) -> list[Path]:
    """Calibration plots: observed event rate vs mean predicted probability per risk bin.

    One row of panels per set, one column per model.

    Parameters
    ----------
    cal
        Output of :func:`alnburden.evaluation.curves.calibration_curves`.
    path
        Output path (PDF + PNG).
    title
        Figure title (the level's description).

    Notes
    -----
    Points are bins of equal size (quantiles of the predicted probability) placed at the
    bin's mean predicted probability; the shaded band is the 95 % Wilson interval of each
    bin's observed proportion; the dashed diagonal is perfect calibration. The ticks
    along the bottom show the predicted probability of every patient (events above the
    axis, non-events below it). Each panel gives the Brier score, the calibration slope
    and the calibration-in-the-large (intercept).
    """
    import matplotlib.pyplot as plt

    nr, nc = len(cal.sets), max(len(cal.models), 1)
    with figure_style():
        fig, axes = plt.subplots(nr, nc, figsize=(2.45 * nc, 2.65 * nr), squeeze=False,
                                 sharex=True, sharey=True)
        for i, s in enumerate(cal.sets):
            for j, m in enumerate(cal.models):
                ax = axes[i, j]
                _square_unit_axes(ax, "Predicted probability" if i == nr - 1 else "",
                                  "Observed proportion" if j == 0 else "")
                ax.set_ylim(-0.09, 1.02)
                _draw_calibration_panel(ax, cal, s, m)
            if nr > 1:
                _panel_letter(axes[i, 0], _LETTERS[i])
        fig.suptitle(f"{title}: calibration", fontsize=10, fontweight="bold", y=1.0)
        fig.tight_layout(w_pad=0.8, h_pad=1.0)
        return save_figure(fig, path)


# --------------------------------------------------------------------------- decision curves
def _cost_benefit_axis(ax) -> None:
    """Secondary top axis: threshold t read as the harm:benefit ratio t:(1 - t)."""
    sec = ax.secondary_xaxis("top")
    sec.set_xticks([0.1, 0.2, 1 / 3, 0.5, 2 / 3, 0.8, 0.9])
    sec.set_xticklabels(["1:9", "1:4", "1:2", "1:1", "2:1", "4:1", "9:1"], fontsize=6.5)
    sec.tick_params(pad=1)
    sec.set_xlabel("Cost:benefit ratio", fontsize=7, labelpad=2)


def _threshold_axis(ax) -> None:
    ax.set_xlim(0, 1)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel("Threshold probability")


def _draw_dca_panel(ax, ds: pd.DataFrame, models: Sequence[str]) -> None:
    top = max(float(ds["net_benefit"].max()) if not ds.empty else 1.0, 0.05)
    for m in models:
        g = ds[ds["model"] == m].sort_values("threshold")
        ref = m in ev.REFERENCE_STRATEGIES
        ax.plot(g["threshold"], g["net_benefit"], color=model_color(m),
                lw=1.0 if ref else 1.6, zorder=2 if ref else 3, label=model_label(m))
    ax.set_ylim(-0.12 * top, 1.08 * top)
    _threshold_axis(ax)
    ax.set_ylabel("Net benefit")
    ax.legend(loc="upper right", handlelength=1.8)
    _cost_benefit_axis(ax)


def plot_dca(dca: pd.DataFrame, level: str, path: str | Path, title: str,
             sets: Sequence[str] = ("test",),
             models: Sequence[str] = ev.PRIMARY_MODELS) -> list[Path]:
    """Decision curves (net benefit vs threshold probability) from the DCA table.

    Parameters
    ----------
    dca
        Output of :func:`alnburden.evaluation.tables.dca_table`.
    level
        Level name (the rows drawn).
    path
        Output path (PDF + PNG).
    title
        Figure title (the level's description).
    sets
        One panel per set (default the test set).
    models
        Models drawn (those in the table) with treat-all and treat-none.

    Notes
    -----
    The y-axis runs from slightly below 0 to just above the largest net benefit (that of
    treat-all at threshold 0, the prevalence); treat-all's curve leaves the panel where
    it falls below that floor.
    """
    import matplotlib.pyplot as plt

    d = dca[dca["level"] == level]
    if d.empty:
        raise ValueError(f"no decision-curve rows for level {level!r}; levels present: "
                         f"{sorted(dca['level'].unique())}")
    draw = [m for m in models if m in set(d["model"])] + list(ev.REFERENCE_STRATEGIES)
    with figure_style():
        fig, axes = plt.subplots(1, len(sets), figsize=(3.7 * len(sets), 3.3), squeeze=False)
        for i, (ax, s) in enumerate(zip(axes[0], sets)):
            _draw_dca_panel(ax, d[d["set"] == s], draw)
            ax.set_title(f"{title}: {SET_LABELS.get(s, s).lower()}", loc="left", pad=26)
            if len(sets) > 1:
                _panel_letter(ax, _LETTERS[i])
        fig.tight_layout(w_pad=2.0)
        return save_figure(fig, path)


def plot_clinical_impact(impact: pd.DataFrame, path: str | Path, title: str,
                         model: str = "combined", set_: str = "test",
                         population: int = 1000) -> list[Path]:
    """Clinical impact curve of one model: patients called high risk per ``population``.

    Solid line: number classified high risk at each threshold probability; dashed line:
    number of those with the event (true positives); both per ``population`` patients.

    Parameters
    ----------
    impact
        Output of :func:`alnburden.evaluation.tables.clinical_impact_table` (``threshold,
        n_high_risk, n_high_risk_events``).
    path
        Output path (PDF + PNG).
    title
        Figure title (the level's description).
    model, set_, population
        The model, set and notional population size ``impact`` was computed for (axis
        labels and colour).
    """
    import matplotlib.pyplot as plt

    col = model_color(model)
    with figure_style():
        fig, ax = plt.subplots(figsize=(COLUMN_IN + 0.3, 3.0))
        ax.plot(impact["threshold"], impact["n_high_risk"], color=col, lw=1.6,
                label="Number classified high risk")
        ax.plot(impact["threshold"], impact["n_high_risk_events"], color=col, lw=1.6,
                ls=(0, (4, 2)), label="Number high risk with event")
        _threshold_axis(ax)
        ax.set_ylim(0, population * 1.02)
        ax.set_ylabel(f"Number of patients (per {population:,})")
        ax.legend(loc="upper right", handlelength=2.2)
        _cost_benefit_axis(ax)
        ax.set_title(f"{title}: {model_label(model).lower()} model, "
                     f"{SET_LABELS.get(set_, set_).lower()}", loc="left", pad=26)
        fig.tight_layout()
        return save_figure(fig, path)
