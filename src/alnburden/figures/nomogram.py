"""The nomogram figure of a level's combined (or clinical) logistic model.

:func:`draw_nomogram` draws a :class:`alnburden.modeling.nomogram.Nomogram` in the layout of
``rms::nomogram``, row by row: the ``Points`` axis, one axis per predictor, ``Total
Points``, the optional ``Linear Predictor`` and the risk axis. Every position comes from
the nomogram's own arithmetic (points, total points -> probability); the drawing only
chooses round tick values and places their labels. :func:`draw_nomograms` is the
workflow's entry point: it loads the saved model, draws it and writes its points table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from alnburden.figures.style import PAGE_IN, figure_style, level_title, model_label, save_figure
from alnburden.modeling.nomogram import (DEFAULT_RISK_TICKS, Nomogram, PredictorAxis,
                                         format_tick, has_predictor, nice_ticks,
                                         nomogram_from_model)

logger = logging.getLogger(__name__)

#: Length of a major tick (drawing units; one axis row is 1 unit high).
TICK_LEN = 0.13
_LINE = dict(color="black", lw=0.8, solid_capstyle="butt", clip_on=False)


# --------------------------------------------------------------------------- tick choice
def _continuous_ticks(lo: float, hi: float, scale: float, x0: float,
                      text_width: Callable[[str], float], gap: float) -> np.ndarray:
    """Round tick values in [lo, hi]: the most ticks whose labels fit on one row.

    ``scale`` converts a value difference to drawing units (points), ``text_width`` gives a
    label's width in drawing units. Falls back to the sparsest set of at least two
    round ticks (labels then alternate above/below).
    """
    from matplotlib.ticker import MaxNLocator

    length = abs(scale) * (hi - lo)
    candidates = []
    for nb in range(max(4, min(10, int(length / 8))), 0, -1):
        t = MaxNLocator(nbins=nb, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        tol = 1e-9 * max(1.0, abs(hi - lo))
        t = np.round(t[(t >= lo - tol) & (t <= hi + tol)], 10)
        if t.size < 2:
            continue
        candidates.append(t)
        xs = np.sort(scale * (t - x0))
        widths = np.array([text_width(format_tick(v)) for v in t])
        if np.min(np.diff(xs)) >= widths.max() + gap:
            return t
    if candidates:
        return candidates[-1]
    return np.array([lo, hi])


def _minor_ticks(major: np.ndarray, lo: float, hi: float, scale: float,
                 min_spacing: float = 2.5) -> np.ndarray:
    """Unlabelled ticks between the labelled ones of a continuous axis, in [lo, hi].

    The labelled step is split in 5 (or 2) where the minor ticks stay at least
    ``min_spacing`` drawing units (points, 0-100) apart; none otherwise.
    """
    if major.size < 2:
        return np.array([])
    step = float(np.min(np.diff(np.sort(major))))
    for parts in (5, 2):
        minor_step = step / parts
        if abs(scale) * minor_step >= min_spacing:
            start = np.ceil((lo - 1e-9 * step) / minor_step)
            vals = np.round(np.arange(start, hi / minor_step + 1e-9) * minor_step, 10)
            on_major = np.isclose(vals[:, None], major[None, :], atol=1e-9 * step).any(axis=1)
            return vals[~on_major]
    return np.array([])


def _place_labels(x: np.ndarray, widths: np.ndarray, gap: float) -> list[int]:
    """Greedy label placement: 0 = above the axis, 1 = below, -1 = not labelled.

    Labels are taken left to right (in drawing position); each goes above if it does not
    overlap the previous label above, otherwise below, otherwise it is dropped (the tick
    stays).
    """
    order = np.argsort(x)
    last_right = [-np.inf, -np.inf]
    side = [-1] * len(x)
    for i in order:
        left = x[i] - widths[i] / 2
        for s in (0, 1):
            if left >= last_right[s] + gap:
                side[i] = s
                last_right[s] = x[i] + widths[i] / 2
                break
    return side


def risk_tick_points(nom: Nomogram, risk_ticks: Sequence[float] = DEFAULT_RISK_TICKS
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities labelled on the risk axis and the total points that give them.

    Ticks outside the achievable risk (0 .. ``max_total_points`` total points) are left
    out; when none is left, round probabilities inside the achievable range are used.
    """
    rt = np.asarray([r for r in risk_ticks if 0 < r < 1], dtype=float)
    t_of_r = (np.log(rt / (1 - rt)) - nom.lp0) * 100.0 / nom.max_span
    keep = (t_of_r >= -1e-9) & (t_of_r <= nom.max_total_points + 1e-9)
    if keep.sum() == 0:
        p_lo, p_hi = nom.probability_from_points(np.array([0.0, nom.max_total_points]))
        logger.warning("no risk tick within the achievable risk %.4g .. %.4g; using round "
                       "values inside that range", p_lo, p_hi)
        rt = nice_ticks(float(p_lo), float(p_hi), 4)
        rt = rt[(rt > 0) & (rt < 1)]
        t_of_r = (np.log(rt / (1 - rt)) - nom.lp0) * 100.0 / nom.max_span
        keep = np.ones(rt.size, dtype=bool)
    return rt[keep], t_of_r[keep]


def total_point_ticks(nom: Nomogram) -> np.ndarray:
    """Round total-points values from 0 to at least ``max_total_points``."""
    vals = nice_ticks(0.0, nom.max_total_points, 10)
    if float(vals[-1]) < nom.max_total_points - 1e-9:
        vals = np.append(vals, float(vals[-1]) + (vals[1] - vals[0]))
    return vals


# --------------------------------------------------------------------------- drawing
class _Canvas:
    """The axes of a nomogram (x: 0-100 points, one unit of y per row) and its labels'
    measured widths."""

    def __init__(self, ax, fontsize: float) -> None:
        self.ax, self.fontsize, self.tick_fs = ax, fontsize, fontsize - 1
        self._renderer = ax.figure.canvas.get_renderer()
        self._units_per_pixel = 103.0 / ax.get_window_extent(self._renderer).width
        self._widths: dict[str, float] = {}
        self.gap = 1.2 * self.text_width("0")

    def text_width(self, s: str) -> float:
        """Width of a tick label in drawing units (measured by the renderer)."""
        if s not in self._widths:
            probe = self.ax.text(0, 0, s, fontsize=self.tick_fs)
            self._widths[s] = probe.get_window_extent(self._renderer).width * self._units_per_pixel
            probe.remove()
        return self._widths[s]

    def row(self, y: float, row: str, title: str, xs, texts: Sequence[str], minor_xs=(),
            line_from: float | None = None, line_to: float | None = None,
            thin: bool = True) -> None:
        """One axis: line, ticks, labels (gid ``<row>:label``) and title (``<row>:title``).

        ``line_from``/``line_to`` extend the line beyond the ticks; ``thin`` lets crowded
        labels alternate above/below or be dropped (:func:`_place_labels`).
        """
        ax, xs = self.ax, np.asarray(xs, dtype=float)
        a = float(min(xs.min(), line_from if line_from is not None else np.inf))
        b = float(max(xs.max(), line_to if line_to is not None else -np.inf))
        ax.plot([a, b], [y, y], **_LINE)
        for x in xs:
            ax.plot([x, x], [y, y + TICK_LEN], **_LINE)
        for x in minor_xs:
            ax.plot([x, x], [y, y + TICK_LEN * 0.55], **_LINE)
        widths = np.array([self.text_width(t) for t in texts])
        sides = _place_labels(xs, widths, self.gap) if thin else [0] * len(xs)
        for x, t, s in zip(xs, texts, sides):
            if s < 0:
                continue
            above = s == 0
            ax.text(x, y + TICK_LEN + 0.05 if above else y - 0.07, t, ha="center",
                    va="bottom" if above else "top", fontsize=self.tick_fs,
                    clip_on=False).set_gid(f"{row}:label")
        ax.text(-4.0, y, title, ha="right", va="center", fontsize=self.fontsize,
                clip_on=False).set_gid(f"{row}:title")


def _layout(n_rows: int, title: str | None, fontsize: float, width: float) -> _Canvas:
    """A new figure whose axes hold ``n_rows`` axis rows below y = 0."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, 0.55 * n_rows + 0.4 + 0.3 * bool(title)))
    ax.set_axis_off()
    ax.set_xlim(-1.5, 101.5)
    ax.set_ylim(-(n_rows - 1) - 0.6, 0.75)
    return _Canvas(ax, fontsize)


def _points_row(canvas: _Canvas, y: float) -> np.ndarray:
    """The Points axis (0-100, labelled every 10, minor ticks every 5); its labelled ticks."""
    major = np.arange(0, 101, 10.0)
    canvas.row(y, "points", "Points", major, [format_tick(v) for v in major],
               minor_xs=np.arange(5, 100, 10.0), thin=False)
    return major


def _predictor_row(canvas: _Canvas, y: float, nom: Nomogram, pr: PredictorAxis) -> None:
    """A predictor's axis: one tick per level, or round values along its range."""
    scale = 100.0 * pr.beta / nom.max_span
    if pr.levels:
        vals = np.asarray(pr.levels)
        canvas.row(y, pr.name, pr.label, scale * (vals - pr.x0), list(pr.level_labels))
        return
    vals = _continuous_ticks(pr.lo, pr.hi, scale, pr.x0, canvas.text_width, canvas.gap)
    minor = _minor_ticks(vals, pr.lo, pr.hi, scale)
    canvas.row(y, pr.name, pr.label, scale * (vals - pr.x0), [format_tick(v) for v in vals],
               minor_xs=scale * (minor - pr.x0), line_from=scale * (pr.lo - pr.x0),
               line_to=scale * (pr.hi - pr.x0))


def _linear_predictor_row(canvas: _Canvas, y: float, nom: Nomogram, tscale: float) -> None:
    lp_vals = nice_ticks(nom.lp0, nom.linear_predictor_from_points(nom.max_total_points), 8)
    lp_x = (lp_vals - nom.lp0) * 100.0 / nom.max_span * tscale
    canvas.row(y, "linear_predictor", "Linear Predictor", lp_x,
               [format_tick(v) for v in lp_vals], line_from=0.0,
               line_to=nom.max_total_points * tscale)


def draw_nomogram(nom: Nomogram, risk_label: str = "Risk",
                  risk_ticks: Sequence[float] = DEFAULT_RISK_TICKS, show_lp: bool = False,
                  grid: bool = False, title: str | None = None, fontsize: float = 9.0,
                  width: float = 7.0):
    """Draw a nomogram (``rms::nomogram`` layout) and return the figure.

    Rows from top to bottom: ``Points`` (0-100), one axis per predictor with a non-zero
    coefficient (continuous: ticks at round values inside its range; binary/ordinal: one
    tick per level, labelled with the level's label), ``Total Points`` (rescaled to the
    0-100 width), the optional ``Linear Predictor`` and the risk axis with ticks at
    ``risk_ticks`` placed at the total points that give them (:func:`risk_tick_points`).
    Crowded labels alternate above and below their axis; a label that still does not fit
    is dropped (its tick stays).

    Parameters
    ----------
    nom
        The nomogram.
    risk_label
        Title of the probability axis, e.g. ``"Risk of N+"`` (default ``"Risk"``).
    risk_ticks
        Probabilities to mark on the risk axis.
    show_lp
        Add a ``Linear Predictor`` (log-odds) axis (default False).
    grid
        Light vertical guide lines at every 10 points (default False).
    title
        Figure title.
    fontsize
        Axis-title font size (pt, default 9); tick labels are 1 pt smaller.
    width
        Figure width (inches, default 7).

    Returns
    -------
    matplotlib.figure.Figure
        Every tick label is a ``Text`` whose gid is ``"<row>:label"`` (row = ``points``,
        the predictor name, ``total_points``, ``linear_predictor`` or ``risk``), so the
        drawing can be read back programmatically.
    """
    drawn = [pr for pr in nom.axes if pr.span > 0]
    for pr in nom.axes:
        if pr.span == 0:
            logger.info("predictor %s has coefficient 0 and is not drawn", pr.name)
    canvas = _layout(1 + len(drawn) + 1 + int(show_lp) + 1, title, fontsize, width)
    major = _points_row(canvas, 0.0)
    y = 0.0
    for pr in drawn:
        y -= 1.0
        _predictor_row(canvas, y, nom, pr)
    y -= 1.0
    tot_vals = total_point_ticks(nom)
    tscale = 100.0 / float(tot_vals[-1])
    canvas.row(y, "total_points", "Total Points", tot_vals * tscale,
               [format_tick(v) for v in tot_vals])
    if show_lp:
        y -= 1.0
        _linear_predictor_row(canvas, y, nom, tscale)
    y -= 1.0
    rt, t_of_r = risk_tick_points(nom, risk_ticks)
    canvas.row(y, "risk", risk_label, t_of_r * tscale, [format_tick(v) for v in np.round(rt, 6)])
    if grid:
        for x in major:
            canvas.ax.plot([x, x], [y, 0.0], color="0.85", lw=0.5, zorder=0, clip_on=False)
    if title:
        canvas.ax.set_title(title, fontsize=fontsize + 1, loc="left")
    return canvas.ax.figure


def draw_nomograms(models_dir: str | Path, level: str, path: str | Path,
                   model: str = "combined", risk_label: str | None = None,
                   level_label: str | None = None,
                   points_csv: str | Path | None = None) -> list[Path]:
    """Draw the nomogram of a level's saved model and write its points table.

    Parameters
    ----------
    models_dir
        The level's model folder (``results/{level}/models``) holding ``{model}.joblib``
        (a fitted :class:`alnburden.modeling.clinical.LogisticModel`, see
        :func:`alnburden.modeling.nomogram.nomogram_from_model`).
    level
        Level name (title when ``level_label`` is not given).
    path
        Output path (PDF + PNG).
    model
        Model file stem (default ``combined``).
    risk_label
        Title of the probability axis (default "Predicted probability").
    level_label
        The level's description (the title).
    points_csv
        Optional CSV of the points table (points per predictor value, total points ->
        probability), written with :func:`alnburden.io.write_table`.

    Returns
    -------
    list of Path
        Files written.
    """
    import joblib

    from alnburden.io import write_table

    file = Path(models_dir) / f"{model}.joblib"
    if not file.exists():
        raise FileNotFoundError(f"model file {file} not found; the modelling stage writes "
                                f"results/{{level}}/models/{model}.joblib")
    fitted = joblib.load(file)
    if not has_predictor(fitted):
        return _draw_without_predictor(fitted, level, path, model, level_label, points_csv)
    nom = nomogram_from_model(fitted)
    with figure_style():
        fig = draw_nomogram(nom, risk_label=risk_label or "Predicted probability", grid=True,
                            title=f"{level_title(level, level_label)}: "
                                  f"{model_label(model).lower()} model nomogram",
                            fontsize=8.5, width=PAGE_IN)
        out = save_figure(fig, path)
    if points_csv is not None:
        write_table(nom.points_table(), points_csv, title=f"Nomogram points ({level}, {model})")
        out.append(Path(points_csv))
    return out


def _draw_without_predictor(fitted, level: str, path, model: str, level_label: str | None,
                            points_csv) -> list[Path]:
    """The figure of a model without predictor (intercept-only): a labelled statement of its
    one predicted probability instead of axes, and a points table with that risk only."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from scipy.special import expit

    from alnburden.io import write_table

    p = float(expit(np.asarray(fitted.coef_, dtype=float)[0]))
    logger.warning("%s %s model has no predictor (intercept-only); its nomogram is a note",
                   level, model)
    with figure_style():
        fig, ax = plt.subplots(figsize=(PAGE_IN, 1.6))
        ax.set_axis_off()
        ax.text(0.0, 0.62, f"The {model_label(model).lower()} model has no predictor: no "
                "clinical variable passed the selection,", fontsize=9, transform=ax.transAxes)
        ax.text(0.0, 0.38, f"so every patient gets the training prevalence, p = {p:.3f} "
                "(intercept-only model, AUC 0.5). No nomogram to draw.", fontsize=9,
                transform=ax.transAxes)
        ax.set_title(f"{level_title(level, level_label)}: {model_label(model).lower()} model "
                     "nomogram", fontsize=9.5, loc="left")
        out = save_figure(fig, path)
    if points_csv is not None:
        write_table(pd.DataFrame([{"axis": "risk", "label": "risk (intercept-only)",
                                   "value": p, "points": 0.0}]),
                    points_csv, title=f"Nomogram points ({level}, {model}): intercept-only")
        out.append(Path(points_csv))
    return out
