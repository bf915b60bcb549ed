"""Publication figures of the evaluation stage.

Every function draws one figure kind and writes it with :func:`alnburden.io.save_figure`
(vector PDF + 300 dpi PNG, no timestamps). Conventions shared by all figures:

- one colour per model everywhere (:data:`MODEL_COLORS`, Okabe-Ito colour-blind safe
  palette): radiomics blue, clinical green, combined vermillion; learners get their own
  fixed colours; treat-all grey, treat-none black;
- seaborn ``ticks`` style and font sizes legible at journal column width (8-9 pt for a
  figure 3.5 in wide per panel), applied through a context manager (no global state);
- probabilities on 0-1 axes, square ROC/calibration panels, 95 % intervals wherever the
  statistic has one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.evaluation import tables as ev
from alnburden.figures.style import save_figure
from alnburden.formatting import FIGURE_DASH, fmt_ci
from alnburden.modeling.learners import LEARNERS
from alnburden.stats import calibration as _cal

logger = logging.getLogger(__name__)

#: Colour of the study's models and reference strategies (Okabe-Ito palette, colour-blind
#: safe); a learner's colour is its registry entry's (:data:`alnburden.modeling.learners.LEARNERS`).
MODEL_COLORS: dict[str, str] = {
    "radiomics": "#0072B2",      # blue
    "clinical": "#009E73",       # bluish green
    "combined": "#D55E00",       # vermillion
    "treat_all": "#8C8C8C",      # grey
    "treat_none": "#000000",     # black
    **{lr.name: lr.color for lr in LEARNERS.values()},
}
_FALLBACK_COLORS = ("#332288", "#882255", "#44AA99", "#999933", "#AA4499", "#117733")

#: Display names of models (anything else is shown as its name).
MODEL_LABELS: dict[str, str] = {
    "radiomics": "Radiomics", "clinical": "Clinical", "combined": "Combined",
    "treat_all": "Treat all", "treat_none": "Treat none",
    **{lr.name: lr.label for lr in LEARNERS.values()},
}
#: Display names of sets.
SET_LABELS: dict[str, str] = {"train": "Training set, apparent", "cv": "Training set, out-of-fold",
                              "test": "Test set"}

#: Width of a single journal column and of a full page (inches).
COLUMN_IN, PAGE_IN = 3.5, 7.2

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7.5,
    # a borderless white box: curves crossing the legend (a chance-level clinical arm on the
    # test set, say) pass behind its text instead of through it
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.facecolor": "white",
    "legend.edgecolor": "none",
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.4,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "pdf.fonttype": 42,          # TrueType in PDFs: editable text in Illustrator/Inkscape
    "svg.fonttype": "none",
    "savefig.dpi": 300,
    "figure.dpi": 100,
}


@contextlib.contextmanager
def figure_style():
    """Context of the project's figure style (seaborn ``ticks`` + :data:`_RC`)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    with sns.axes_style("ticks"), plt.rc_context(_RC):
        yield


def model_color(model: str) -> str:
    """Colour of ``model``: fixed for known models, a stable fallback for others."""
    if model in MODEL_COLORS:
        return MODEL_COLORS[model]
    return _FALLBACK_COLORS[sum(map(ord, model)) % len(_FALLBACK_COLORS)]


def model_label(model: str) -> str:
    """Display name of ``model``."""
    return MODEL_LABELS.get(model, model.replace("_", " "))


def level_title(level: str, label: str | None = None) -> str:
    """Figure title of a level: ``label`` if given, else ``"level1"`` -> ``"Level 1"``."""
    if label:
        return label
    import re

    m = re.fullmatch(r"level\s*_?(\d+)", level)
    return f"Level {m.group(1)}" if m else level.replace("_", " ")


def _square_unit_axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.plot([0, 1], [0, 1], ls=(0, (4, 3)), color="#9E9E9E", lw=0.8, zorder=0)


def _subset(pred: pd.DataFrame, level: str) -> pd.DataFrame:
    pred = ev._evaluable(ev.check_predictions(pred))
    sub = pred[pred["level"] == level]
    if sub.empty:
        raise ValueError(f"no predictions for level {level!r}; levels present: "
                         f"{sorted(pred['level'].unique())}")
    return sub


def _titles(ax, left: str, right: str = "") -> None:
    """Bold panel title on the left, sample size in small grey type on the right."""
    ax.set_title(left, loc="left")
    if right:
        ax.set_title(right, loc="right", fontsize=7, fontweight="normal", color="#404040")


def _panel_letter(ax, letter: str) -> None:
    ax.text(-0.2, 1.04, letter, transform=ax.transAxes, fontsize=10, fontweight="bold",
            va="bottom", ha="left")


# --------------------------------------------------------------------------- ROC
def _draw_roc_panel(ax, sub: pd.DataFrame, set_: str, models: Sequence[str],
                    cutoffs: Mapping[str, float] | None, labels: Mapping[str, str] | None = None,
                    alpha: float = 0.05, n_boot: int = 0, random_state: int = 0) -> None:
    from sklearn.metrics import roc_curve

    from alnburden.stats import delong, roc_band

    _square_unit_axes(ax, "1 \u2212 specificity (false-positive rate)",
                      "Sensitivity (true-positive rate)")
    n_txt = ""
    for m in models:
        g = sub[(sub["model"] == m) & (sub["set"] == set_)]
        y, p = g["y_true"].to_numpy(), g["p"].to_numpy()
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, p)
        auc, lo, hi = delong.auc_ci(y, p, alpha=alpha)
        name = (labels or {}).get(m, model_label(m))
        if n_boot:
            band = roc_band(y, p, n_boot=n_boot, alpha=alpha, random_state=random_state)
            ax.fill_between(band["fpr"], band["lo"], band["hi"], step="post",
                            color=model_color(m), alpha=0.13, lw=0, zorder=1)
        ax.step(fpr, tpr, where="post", color=model_color(m), lw=1.5,
                label=f"{name}: {fmt_ci(auc, lo, hi, dash=FIGURE_DASH)}")
        if cutoffs is not None and np.isfinite(cutoffs.get(m, np.nan)):
            c = cutoffs[m]
            ax.plot(np.mean(p[y == 0] >= c), np.mean(p[y == 1] >= c), "o", ms=4,
                    mfc="white", mec=model_color(m), mew=1.2, zorder=5)
        n_txt = f"n = {len(y)} ({int(y.sum())} events)"
    _titles(ax, SET_LABELS.get(set_, set_), n_txt)
    title = "AUC (95% CI)" + ("; shaded: 95% band" if n_boot else "")
    ax.legend(loc="lower right", title=title, handlelength=1.5, borderaxespad=0.3,
              alignment="left")


def plot_roc(pred: pd.DataFrame, level: str, path: str | Path,
             sets: Sequence[str] = ("train", "cv", "test"),
             models: Sequence[str] = ev.PRIMARY_MODELS, cutoff: str | float = "youden",
             level_label: str | None = None, n_boot: int = 1000,
             random_state: int = 0) -> list[Path]:
    """ROC curves of the radiomics, clinical and combined models, one panel per set.

    Parameters
    ----------
    pred
        Predictions table.
    level
        Level name (e.g. ``"level1"``).
    path
        Output path; ``<stem>.pdf`` and ``<stem>.png`` are written.
    sets
        One panel per set present (default: training apparent, training out-of-fold, test).
    models
        Models drawn (those present).
    cutoff
        Operating point marked on each curve (open circle): ``"youden"`` or a fixed
        probability, chosen on the training set as in the performance table.
    level_label
        Figure title (default ``"Level 1"`` for ``level1``; pass e.g. the config's
        level description).
    n_boot
        Stratified bootstrap resamples of each curve's pointwise 95 % band
        (:func:`alnburden.stats.roc_band`, shaded); 0 draws no band.
    random_state
        Seed of the bootstrap (the config's seed).

    Returns
    -------
    list of Path
        The PDF and PNG written.
    """
    import matplotlib.pyplot as plt

    sub = _subset(pred, level)
    models = [m for m in models if m in set(sub["model"])]
    sets = [s for s in sets if s in set(sub["set"])]
    cuts = ev.choose_cutoffs(sub, cutoff)
    cuts = dict(zip(cuts["model"], cuts["cutoff"]))
    with figure_style():
        fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.75), squeeze=False)
        for i, (ax, s) in enumerate(zip(axes[0], sets)):
            _draw_roc_panel(ax, sub, s, models, cuts, n_boot=n_boot, random_state=random_state)
            if len(sets) > 1:
                _panel_letter(ax, "ABCDEFG"[i])
        fig.suptitle(level_title(level, level_label), fontsize=10, fontweight="bold", y=1.0)
        fig.tight_layout(w_pad=2.0)
        return save_figure(fig, path)


def _chosen_learner(sub: pd.DataFrame, learners: Sequence[str]) -> str | None:
    """The learner whose test predictions equal the radiomics model's (the chosen one)."""
    rad = sub[(sub["model"] == "radiomics") & (sub["set"] == "test")].set_index("patient_id")["p"]
    if rad.empty:
        return None
    for m in learners:
        lp = sub[(sub["model"] == m) & (sub["set"] == "test")].set_index("patient_id")["p"]
        common = rad.index.intersection(lp.index)
        if len(common) == len(rad) and np.allclose(rad[common], lp[common], atol=1e-9):
            return m
    return None


def plot_roc_learners(pred: pd.DataFrame, level: str, path: str | Path,
                      sets: Sequence[str] = ("cv", "test"),
                      level_label: str | None = None) -> list[Path]:
    """ROC curves of every radiomics learner, cross-validated (training) and on test.

    The learner chosen as the radiomics model (the one whose test predictions equal the
    ``radiomics`` model's) is marked "(chosen)" in the legend. Parameters as
    :func:`plot_roc`.
    """
    import matplotlib.pyplot as plt

    sub = _subset(pred, level)
    learners = [m for m in ev.model_order(sub["model"].unique())
                if m not in ev.PRIMARY_MODELS]
    if not learners:
        raise ValueError(f"level {level!r} has no learner predictions (models other than "
                         f"{list(ev.PRIMARY_MODELS)}); nothing to draw")
    chosen = _chosen_learner(sub, learners)
    labels = {m: model_label(m) + (" (chosen)" if m == chosen else "") for m in learners}
    with figure_style():
        fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.75), squeeze=False)
        for i, (ax, s) in enumerate(zip(axes[0], sets)):
            _draw_roc_panel(ax, sub, s, learners, None, labels=labels)
            if len(sets) > 1:
                _panel_letter(ax, "ABCDEFG"[i])
        fig.suptitle(f"{level_title(level, level_label)}: radiomics learners", fontsize=10,
                     fontweight="bold", y=1.0)
        fig.tight_layout(w_pad=2.0)
        return save_figure(fig, path)


# --------------------------------------------------------------------------- calibration
def _auto_bins(n: int, n_bins: int | None) -> int:
    """Quantile bins: the requested number, or about 20 patients per bin (3 to 10)."""
    if n_bins is not None:
        return int(n_bins)
    return int(np.clip(n // 20, 3, 10))


def plot_calibration(pred: pd.DataFrame, level: str, path: str | Path,
                     sets: Sequence[str] = ("test", "train"),
                     models: Sequence[str] = ev.PRIMARY_MODELS, n_bins: int | None = None,
                     level_label: str | None = None) -> list[Path]:
    """Calibration plots: observed event rate vs mean predicted probability per risk bin.

    One row of panels per set (default test, then training), one column per model.

    Parameters
    ----------
    pred
        Predictions table.
    level
        Level name.
    path
        Output path (PDF + PNG).
    sets
        One row of panels per set.
    models
        One column per model (those present).
    n_bins
        Quantile bins per model; default about 20 patients per bin, between 3 and 10.
    level_label
        Figure title.

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

    sub = _subset(pred, level)
    models = [m for m in models if m in set(sub["model"])]
    nr, nc = len(sets), max(len(models), 1)
    with figure_style():
        fig, axes = plt.subplots(nr, nc, figsize=(2.45 * nc, 2.65 * nr), squeeze=False,
                                 sharex=True, sharey=True)
        for i, s in enumerate(sets):
            for j, m in enumerate(models):
                ax = axes[i, j]
                _square_unit_axes(ax, "Predicted probability" if i == nr - 1 else "",
                                  "Observed proportion" if j == 0 else "")
                ax.set_ylim(-0.09, 1.02)
                g = sub[(sub["model"] == m) & (sub["set"] == s)]
                col = model_color(m)
                _titles(ax, model_label(m), SET_LABELS.get(s, s).replace(" set", ""))
                if g.empty:
                    continue
                y, p = g["y_true"].to_numpy(), g["p"].to_numpy()
                cc = _cal.calibration_curve(y, p, n_bins=_auto_bins(len(y), n_bins))
                ax.fill_between(cc["p_mean"], cc["ci_low"], cc["ci_high"], color=col,
                                alpha=0.18, lw=0, zorder=1)
                ax.plot(cc["p_mean"], cc["obs_rate"], "-o", color=col, ms=3, lw=1.2, zorder=3)
                # spike rug of the predictions: events up, non-events down, from y = -0.045
                ax.vlines(p[y == 1], -0.045, -0.015, color=col, lw=0.4, alpha=0.6)
                ax.vlines(p[y == 0], -0.075, -0.045, color="#7F7F7F", lw=0.4, alpha=0.6)
                txt = [f"n = {len(y)} ({int(y.sum())} events)",
                       f"Brier {_cal.brier(y, p):.3f}"]
                if len(np.unique(y)) == 2:
                    cs_ = _cal.calibration_slope_intercept(y, p)
                    if np.isfinite(cs_["slope"]):
                        txt += [f"Slope {cs_['slope']:.2f}",
                                f"Intercept {cs_['intercept']:.2f}"]
                    else:  # the logistic recalibration fit fails (perfect separation)
                        txt += ["Slope n/a (separated)"]
                ax.text(0.03, 0.97, "\n".join(txt), transform=ax.transAxes, va="top",
                        ha="left", fontsize=6.5, color="#303030", linespacing=1.3)
            if nr > 1:
                _panel_letter(axes[i, 0], "ABCDEFG"[i])
        fig.suptitle(f"{level_title(level, level_label)}: calibration", fontsize=10,
                     fontweight="bold", y=1.0)
        fig.tight_layout(w_pad=0.8, h_pad=1.0)
        return save_figure(fig, path)


# --------------------------------------------------------------------------- decision curves
def plot_dca(dca: pd.DataFrame, level: str, path: str | Path, sets: Sequence[str] = ("test",),
             models: Sequence[str] = ev.PRIMARY_MODELS,
             level_label: str | None = None) -> list[Path]:
    """Decision curves (net benefit vs threshold probability) from the DCA table.

    Parameters
    ----------
    dca
        Output of :func:`alnburden.evaluation.tables.dca_table`.
    level
        Level name.
    path
        Output path (PDF + PNG).
    sets
        One panel per set (default the test set).
    models
        Models drawn with treat-all and treat-none.
    level_label
        Figure title.

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
    draw = [m for m in models if m in set(d["model"])] + ["treat_all", "treat_none"]
    title = level_title(level, level_label)
    with figure_style():
        fig, axes = plt.subplots(1, len(sets), figsize=(3.7 * len(sets), 3.3), squeeze=False)
        for i, (ax, s) in enumerate(zip(axes[0], sets)):
            ds = d[d["set"] == s]
            top = max(float(ds["net_benefit"].max()) if not ds.empty else 1.0, 0.05)
            for m in draw:
                g = ds[ds["model"] == m].sort_values("threshold")
                ref = m in ev.REFERENCE_STRATEGIES
                ax.plot(g["threshold"], g["net_benefit"], color=model_color(m),
                        lw=1.0 if ref else 1.6, zorder=2 if ref else 3, label=model_label(m))
            ax.set_ylim(-0.12 * top, 1.08 * top)
            ax.set_xlim(0, 1)
            ax.set_xticks(np.linspace(0, 1, 6))
            ax.set_xlabel("Threshold probability")
            ax.set_ylabel("Net benefit")
            ax.legend(loc="upper right", handlelength=1.8)
            _cost_benefit_axis(ax)
            head = f"{title}: {SET_LABELS.get(s, s).lower()}"
            ax.set_title(head, loc="left", pad=26 if len(sets) == 1 else 26)
            if len(sets) > 1:
                _panel_letter(ax, "ABCDEFG"[i])
        fig.tight_layout(w_pad=2.0)
        return save_figure(fig, path)


def _cost_benefit_axis(ax) -> None:
    """Secondary top axis: threshold t read as the harm:benefit ratio t:(1 - t)."""
    sec = ax.secondary_xaxis("top")
    sec.set_xticks([0.1, 0.2, 1 / 3, 0.5, 2 / 3, 0.8, 0.9])
    sec.set_xticklabels(["1:9", "1:4", "1:2", "1:1", "2:1", "4:1", "9:1"], fontsize=6.5)
    sec.tick_params(pad=1)
    sec.set_xlabel("Cost:benefit ratio", fontsize=7, labelpad=2)


def plot_clinical_impact(pred: pd.DataFrame, level: str, path: str | Path,
                         thresholds: Sequence[float] | None = None, model: str = "combined",
                         set_: str = "test", population: int = 1000,
                         level_label: str | None = None) -> list[Path]:
    """Clinical impact curve of one model: patients called high risk per ``population``.

    Solid line: number classified high risk at each threshold probability; dashed line:
    number of those with the event (true positives); both per ``population`` patients.

    Parameters
    ----------
    pred
        Predictions table.
    level
        Level name.
    path
        Output path (PDF + PNG).
    thresholds
        Threshold probabilities (default 0.01-0.99 by 0.01).
    model, set_
        Model and set drawn (default the combined model on the test set).
    population
        Size of the notional population (default 1000).
    level_label
        Figure title.
    """
    import matplotlib.pyplot as plt

    thr = ev.dca_thresholds() if thresholds is None else np.asarray(thresholds, float)
    ci = ev.clinical_impact_table(pred, level, thr, model=model, set_=set_,
                                  population=population)
    col = model_color(model)
    with figure_style():
        fig, ax = plt.subplots(figsize=(COLUMN_IN + 0.3, 3.0))
        ax.plot(ci["threshold"], ci["n_high_risk"], color=col, lw=1.6,
                label="Number classified high risk")
        ax.plot(ci["threshold"], ci["n_high_risk_events"], color=col, lw=1.6, ls=(0, (4, 2)),
                label="Number high risk with event")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, population * 1.02)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.set_xlabel("Threshold probability")
        ax.set_ylabel(f"Number of patients (per {population:,})")
        ax.legend(loc="upper right", handlelength=2.2)
        _cost_benefit_axis(ax)
        ax.set_title(f"{level_title(level, level_label)}: {model_label(model).lower()} model, "
                     f"{SET_LABELS.get(set_, set_).lower()}", loc="left", pad=26)
        fig.tight_layout()
        return save_figure(fig, path)


# --------------------------------------------------------------------------- forest plot
def plot_subgroups_forest(table: pd.DataFrame, path: str | Path,
                          level_labels: Mapping[str, str] | None = None) -> list[Path]:
    """Forest plot of AUC (95 % CI) by Ki-67 subgroup, per level and model.

    Parameters
    ----------
    table
        Output of :func:`alnburden.evaluation.tables.subgroup_table`.
    path
        Output path (PDF + PNG).
    level_labels
        Display names of the levels (default ``"Level 1"`` for ``level1``).

    Notes
    -----
    One block per level and model (bold heading with the p-value of the difference
    between the subgroups), one row per subgroup: patients (events), AUC (95 % CI) as
    text and as a point with its interval. A subgroup whose AUC is undefined (one class)
    is listed with "n/a" and no point. The vertical dashed line is AUC = 0.5 (chance).
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    if table.empty:
        raise ValueError("subgroup table is empty; nothing to draw")
    rows = []   # (kind, text, level, model, row or None, p)
    for (level, model), g in table.groupby(["level", "model"], sort=False):
        p = g["p_difference"].iloc[0]
        lv_name = level_title(level, (level_labels or {}).get(level))
        head = f"{lv_name}, {model_label(model).lower()}"
        rows.append(("head", head, level, model, None, p))
        for _, r in g.iterrows():
            rows.append(("row", str(r["subgroup"]).replace(">=", "\u2265"), level, model, r, p))
    n = len(rows)
    lows = pd.to_numeric(table["auc_ci_low"], errors="coerce").dropna()
    xmin = min(0.3, np.floor(lows.min() * 10) / 10) if len(lows) else 0.3
    row_h, top_in, bottom_in = 0.22, 0.55, 0.5
    height = top_in + bottom_in + row_h * n
    # columns (figure fraction): label | patients (events) | forest | AUC (95% CI) | P
    x_label, x_n, x_auc, x_p = 0.01, 0.34, 0.855, 0.995
    with figure_style():
        fig = plt.figure(figsize=(PAGE_IN, height))
        ax = fig.add_axes([0.38, bottom_in / height, 0.33, row_h * n / height])
        ypos = np.arange(n)[::-1].astype(float)
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_xlim(xmin, 1.0)
        ax.axvline(0.5, color="#9E9E9E", ls=(0, (4, 3)), lw=0.8, zorder=0)
        tr = blended_transform_factory(fig.transFigure, ax.transData)
        for y, (kind, text, level, model, r, p) in zip(ypos, rows):
            if kind == "head":
                ax.text(x_label, y, text, transform=tr, fontweight="bold", va="center",
                        ha="left", fontsize=8)
                ptxt = "" if not np.isfinite(p) else (f"{p:.3f}" if p >= 0.001 else "<0.001")
                ax.text(x_p, y, ptxt, transform=tr, va="center", ha="right", fontsize=8)
                continue
            ax.text(x_label + 0.02, y, text, transform=tr, va="center", ha="left", fontsize=8)
            ax.text(x_n, y, f"{int(r['n'])} ({int(r['events'])})", transform=tr,
                    va="center", ha="right", fontsize=8)
            est = fmt_ci(r["auc"], r["auc_ci_low"], r["auc_ci_high"], dash=FIGURE_DASH)
            if not np.isfinite(r["auc"]) and "AUC undefined" in str(r.get("note", "")):
                est = "n/a (one class)"
            ax.text(x_auc, y, est, transform=tr, va="center", ha="right", fontsize=8)
            if np.isfinite(r["auc"]):
                col = model_color(model)
                lo, hi = r["auc_ci_low"], r["auc_ci_high"]
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([lo, hi], [y, y], color=col, lw=1.3, solid_capstyle="butt")
                ax.plot(r["auc"], y, "s", color=col, ms=4.5, zorder=3)
        for x, txt, ha in ((x_label, "Subgroup", "left"), (x_n, "Patients\n(events)", "right"),
                           (x_auc, "AUC (95% CI)", "right"), (x_p, "P for\ndifference", "right")):
            ax.text(x, n - 0.5 + 0.25, txt, transform=tr, fontweight="bold", va="bottom",
                    ha=ha, fontsize=7.5, clip_on=False)
        ax.set_yticks([])
        ax.spines[["left", "right", "top"]].set_visible(False)
        ax.set_xlabel("AUC (95% CI)")
        ax.set_xticks(np.round(np.arange(xmin, 1.0001, 0.1), 1))
        return save_figure(fig, path)


# --------------------------------------------------------------------------- cascade
def plot_cascade(confusion: pd.DataFrame, path: str | Path,
                 metrics: pd.DataFrame | Mapping | None = None,
                 title: str = "Hierarchical cascade (test set)") -> list[Path]:
    """Heatmap of the cascade's confusion matrix: counts and row percentages.

    Parameters
    ----------
    confusion
        First output of :func:`alnburden.evaluation.cascade.cascade_table` (``true_class`` then one
        column per predicted class, then ``total``).
    path
        Output path (PDF + PNG).
    metrics
        Second output of :func:`alnburden.evaluation.cascade.cascade_table` (one row); accuracy and
        weighted kappa are printed under the title.
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

    mat = confusion.set_index("true_class").drop(columns=["total"], errors="ignore")
    counts = mat.to_numpy(dtype=float)
    row_tot = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(row_tot > 0, 100 * counts / row_tot, np.nan)
    annot = np.array([[f"{int(c)}\n({p:.0f}%)" if np.isfinite(p) else f"{int(c)}"
                       for c, p in zip(cr, pr)] for cr, pr in zip(counts, pct)])
    pretty = {"N>=3": "N\u22653", "N+ (unscored)": "N+\n(unscored)"}
    xt = [pretty.get(c, c) for c in mat.columns]
    yt = [pretty.get(c, c) for c in mat.index]
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
        sub = ""
        if metrics is not None:
            m = metrics.iloc[0] if isinstance(metrics, pd.DataFrame) else metrics
            parts = [f"accuracy {m['accuracy']:.2f}"]
            if np.isfinite(m.get("kappa_linear", np.nan)):
                parts.append(f"\u03ba linear {m['kappa_linear']:.2f}")
            if np.isfinite(m.get("kappa_quadratic", np.nan)):
                parts.append(f"\u03ba quadratic {m['kappa_quadratic']:.2f}")
            sub = f"n = {int(m['n'])}; " + ", ".join(parts)
        ax.set_title(title, loc="left", fontsize=8.5, pad=14 if sub else 6)
        if sub:
            ax.text(0.0, 1.015, sub, transform=ax.transAxes, ha="left", va="bottom",
                    fontsize=7.5, color="#404040")
        fig.tight_layout()
        return save_figure(fig, path)


# --------------------------------------------------------------------------- nomogram
#: Axis titles of known predictors of the combined model.
PREDICTOR_LABELS: dict[str, str] = {
    "rad_score": "Rad-score", "ki67": "Ki-67 (%)", "age": "Age (years)",
    "tumor_size_mm": "Tumour size (mm)", "er": "ER", "pr": "PR", "her2": "HER2",
    "grade": "Histological grade", "aln_us_class": "ALN US class",
}
_STATUS_LEVELS = {0: "negative", 1: "positive"}
_LEVEL_LABELS = {"luminal_a": "luminal A", "luminal_b": "luminal B",
                 "her2_enriched": "HER2-enriched", "triple_negative": "triple negative"}
_RANGE_ATTRS = ("ranges_", "predictor_ranges_", "ranges")


def _get(obj, *names, default=None):
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if not isinstance(obj, Mapping) and hasattr(obj, n):
            return getattr(obj, n)
    return default


def nomogram_from_model(obj, ranges: Mapping | None = None, labels: Mapping | None = None,
                        kinds: Mapping | None = None, training_data: pd.DataFrame | None = None):
    """Build an :class:`alnburden.modeling.nomogram.Nomogram` from a saved combined model.

    Accepted forms (tried in this order; ``ranges`` etc. passed here override the
    model's own):

    0. the modelling stage's :class:`alnburden.modeling.clinical.LogisticModel` (``variables``,
       ``terms_``, ``coef_`` with the intercept first): continuous predictors take their
       range from the model's ``ranges_`` attribute when it has one, else from
       ``training_data`` (the training rows with the model's input columns, e.g.
       ``rad_score`` and the clinical columns); binary/ordinal/categorical predictors
       take their levels from the variable specs;
    1. an object with a ``nomogram()`` method returning a ``Nomogram``;
    2. a dict (or object) with ``coefficients`` / ``coefficients_`` (``{predictor:
       log-odds per raw unit}``, in drawing order), ``intercept`` / ``intercept_`` (float)
       and ``ranges`` / ``ranges_`` (``{predictor: (min, max)}`` for continuous
       predictors, a list of codes for binary/ordinal ones: the training data's range),
       optional ``labels``/``kinds``;
    3. a dict ``{"model": <fitted model>, "ranges": ..., ...}`` or an object with a
       ``model_``/``estimator_``/``result_`` attribute and ``ranges_``, where the fitted
       model is 4 or 5;
    4. a fitted statsmodels ``Logit``/binomial ``GLM`` result;
    5. a fitted scikit-learn ``LogisticRegression`` or ``Pipeline(StandardScaler,
       LogisticRegression)`` with ``feature_names_in_``.

    Raises
    ------
    ValueError
        If the object is none of these or no predictor ranges are available.
    """
    from alnburden.modeling.nomogram import Nomogram

    if hasattr(obj, "nomogram") and callable(obj.nomogram):
        return obj.nomogram()
    if hasattr(obj, "terms_") and hasattr(obj, "coef_") and hasattr(obj, "variables"):
        obj = _logistic_model_parts(obj, training_data)
    ranges = dict(ranges or _get(obj, *_RANGE_ATTRS, default={}) or {})
    labels = dict(labels or _get(obj, "labels", "labels_", default={}) or {})
    kinds = dict(kinds or _get(obj, "kinds", "kinds_", default={}) or {})
    coefs = _get(obj, "coefficients", "coefficients_")
    if isinstance(coefs, Mapping):
        predictors = list(coefs)
    else:
        inner = _get(obj, "model", "model_", "estimator_", "result_", "fit_")
        target = obj if inner is None else inner
        if hasattr(target, "params") and hasattr(target, "model"):
            predictors = [n for n in target.model.exog_names
                          if n not in ("const", "Intercept", "intercept", "(Intercept)")]
        elif hasattr(target, "feature_names_in_") or hasattr(target, "steps"):
            names = getattr(target, "feature_names_in_", None)
            predictors = list(names) if names is not None else []
        else:
            raise ValueError(
                f"cannot read coefficients from a {type(obj).__name__}; save the combined model "
                "as a dict {'coefficients': {name: beta}, 'intercept': b0, 'ranges': {name: "
                "(min, max) or [codes]}} or as a fitted statsmodels Logit / sklearn "
                "LogisticRegression together with 'ranges'")
    if not ranges:
        raise ValueError("the model file carries no predictor ranges ('ranges'/'ranges_'); "
                         "the nomogram needs each predictor's training range, e.g. "
                         "{'rad_score': (-3.1, 2.8), 'ki67': (1, 90), 'er': [0, 1]}")
    ranges = {k: _binary_levels(k, v) for k, v in ranges.items()}
    labels = {p: labels.get(p, PREDICTOR_LABELS.get(p, _dummy_label(p))) for p in predictors}
    kinds = {k: v for k, v in kinds.items() if k in predictors}
    if isinstance(coefs, Mapping):
        return Nomogram(coefs, float(np.ravel(_get(obj, "intercept", "intercept_"))[0]), ranges,
                        labels=labels, kinds=kinds)
    if hasattr(target, "params") and hasattr(target, "model"):
        return Nomogram.from_statsmodels(target, ranges, labels=labels, kinds=kinds)
    return Nomogram.from_sklearn(target, None, ranges, labels=labels, kinds=kinds)


def _logistic_model_parts(model, training_data: pd.DataFrame | None) -> dict:
    """Coefficients, intercept, ranges and kinds of a fitted ``LogisticModel``."""
    terms = list(model.terms_)
    coef = np.asarray(model.coef_, dtype=float)
    if terms[0] != "const":
        raise ValueError(f"LogisticModel terms_ start with {terms[0]!r}, expected 'const'")
    coefs = dict(zip(terms[1:], coef[1:]))
    ranges = dict(getattr(model, "ranges_", None) or {})
    kinds: dict[str, str] = {}
    design = None
    for spec in model.variables:
        name, typ = spec["name"], spec.get("type", "continuous")
        if typ == "categorical":
            for lv in list(spec.get("levels") or [])[1:]:
                ranges.setdefault(f"{name}[{lv}]", [0, 1])
                kinds[f"{name}[{lv}]"] = "binary"
        elif typ == "binary":
            ranges.setdefault(name, [0, 1])
            kinds[name] = "binary"
        elif typ == "ordinal" and spec.get("levels"):
            ranges.setdefault(name, [float(v) for v in spec["levels"]])
            kinds[name] = "ordinal"
        elif name not in ranges:
            if training_data is None:
                raise ValueError(
                    f"the model file carries no range for continuous predictor {name!r}; "
                    "pass training_data (the training rows with the model's input columns) "
                    "or save the model with a ranges_ attribute")
            if design is None:
                from alnburden.modeling.clinical import design_matrix

                design = design_matrix(training_data, list(model.variables))
            col = design[name].dropna()
            ranges[name] = (float(col.min()), float(col.max()))
    return {"coefficients": coefs, "intercept": float(coef[0]), "ranges": ranges,
            "kinds": kinds}


def _binary_levels(name: str, rng):
    """Readable levels of 0/1 predictors: ER/PR/HER2 negative/positive, dummies no/yes."""
    if not (isinstance(rng, (list, tuple)) and [float(v) for v in rng] == [0.0, 1.0]):
        return rng
    if name in ("er", "pr", "her2"):
        return dict(_STATUS_LEVELS)
    if name.endswith("]") or any(name.startswith(v + "_")
                                 for v in ("subtype", "grade", "aln_us_class")):
        return {0: "no", 1: "yes"}
    return rng


def _dummy_label(name: str) -> str:
    """``subtype[luminal_b]`` or ``subtype_luminal_b`` -> ``Subtype: luminal b``."""
    if name.endswith("]") and "[" in name:
        var, value = name[:-1].split("[", 1)
        var_label = PREDICTOR_LABELS.get(var, var.replace("_", " ").capitalize())
        return f"{var_label}: {_LEVEL_LABELS.get(value, value.replace('_', ' '))}"
    for var in ("subtype", "grade", "aln_us_class"):
        if name.startswith(var + "_"):
            value = name[len(var) + 1:]
            value = _LEVEL_LABELS.get(value, value.replace("_", " "))
            return f"{PREDICTOR_LABELS.get(var, var.capitalize())}: {value}"
    return name.replace("_", " ")


def nomogram_training_data(cohort: pd.DataFrame, pred: pd.DataFrame, level: str,
                           model: str = "combined") -> pd.DataFrame:
    """Training rows of a level with the combined model's inputs (for the axis ranges).

    Parameters
    ----------
    cohort
        ``results/cohort/cohort.csv`` (clinical columns per patient).
    pred
        Predictions table; the level's ``train`` rows of ``model`` give each training
        patient's Rad-score (the values the combined model was fitted on).
    level, model
        Level name and model.

    Returns
    -------
    pandas.DataFrame
        The cohort rows of the level's training patients with a ``rad_score`` column.
    """
    tr = pred[(pred["level"].astype(str) == level) & (pred["set"].astype(str) == "train")
              & (pred["model"].astype(str) == model)][["patient_id", "rad_score"]]
    if tr.empty:
        raise ValueError(f"no {model!r} training predictions for level {level!r}")
    tr = tr.assign(patient_id=tr["patient_id"].astype(str))
    co = cohort.drop(columns=["rad_score"], errors="ignore")
    co = co.assign(patient_id=co["patient_id"].astype(str))
    return co.merge(tr, on="patient_id", how="inner", validate="one_to_one")


def draw_nomograms(models_dir: str | Path, level: str, path: str | Path,
                   model: str = "combined", risk_label: str | None = None,
                   level_label: str | None = None,
                   points_csv: str | Path | None = None,
                   training_data: pd.DataFrame | None = None) -> list[Path]:
    """Draw the nomogram of a level's combined model.

    Parameters
    ----------
    models_dir
        The level's model folder (``results/{level}/models``) holding ``{model}.joblib``.
    level
        Level name (title).
    path
        Output path (PDF + PNG).
    model
        Model file stem (default ``combined``).
    risk_label
        Title of the probability axis (default "Predicted probability"; e.g. "Probability
        of N+").
    level_label
        Title (default ``"Level 1"`` for ``level1``).
    points_csv
        Optional CSV of the points table (points per predictor value, total points ->
        probability), written with :func:`alnburden.io.write_table`.
    training_data
        Training rows with the model's input columns (``rad_score`` + clinical columns);
        needed only when the model file carries no ranges for its continuous predictors
        (see :func:`nomogram_from_model`).

    Returns
    -------
    list of Path
        Files written.

    Notes
    -----
    What the model file must hold is described in :func:`nomogram_from_model`.
    """
    import joblib

    from alnburden.io import write_table

    file = Path(models_dir) / f"{model}.joblib"
    if not file.exists():
        raise FileNotFoundError(f"model file {file} not found; the modelling stage writes "
                                f"results/{{level}}/models/{model}.joblib")
    nom = nomogram_from_model(joblib.load(file), training_data=training_data)
    with figure_style():
        fig = nom.draw(risk_label=risk_label or "Predicted probability", grid=True,
                       title=f"{level_title(level, level_label)}: {model_label(model).lower()} "
                             "model nomogram", fontsize=8.5, width=PAGE_IN)
        out = save_figure(fig, path)
    if points_csv is not None:
        write_table(nom.points_table(), points_csv, title=f"Nomogram points ({level}, {model})")
        out.append(Path(points_csv))
    return out


def draw_level_figures(pred: pd.DataFrame, dca: pd.DataFrame, level: str,
                       paths: Mapping[str, str | Path], cutoff: str | float = "youden",
                       level_label: str | None = None, n_boot: int = 1000,
                       random_state: int = 0) -> None:
    """Every per-level figure named in ``paths`` (kind -> path): ``roc``, ``roc_learners``,
    ``calibration``, ``dca``, ``clinical_impact``. ``n_boot`` and ``random_state`` set the
    ROC curves' bootstrap bands (:func:`plot_roc`)."""
    pred = pred[pred["level"] == level]
    models = [m for m in ("radiomics", "clinical", "combined") if m in set(pred["model"])]
    draw = {
        "roc": lambda p: plot_roc(pred, level, p, models=models, cutoff=cutoff,
                                  level_label=level_label, n_boot=n_boot,
                                  random_state=random_state),
        "roc_learners": lambda p: plot_roc_learners(pred, level, p, level_label=level_label),
        "calibration": lambda p: plot_calibration(pred, level, p, models=models, level_label=level_label),
        "dca": lambda p: plot_dca(dca, level, p, models=models, level_label=level_label),
        "clinical_impact": lambda p: plot_clinical_impact(pred, level, p, level_label=level_label),
    }
    for kind, path in paths.items():
        draw[kind](path)
