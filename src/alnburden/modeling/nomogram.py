"""Nomogram of a fitted binary logistic regression model, drawn from its coefficients.

The nomogram is a *view* of a model that is already fitted: it holds the coefficients, the
intercept and the range of each predictor and turns them into points (Harrell's convention,
``rms::nomogram``):

* every predictor ``j`` with coefficient ``b_j`` and plotted range ``[lo_j, hi_j]`` spans
  ``|b_j| (hi_j - lo_j)`` units of the linear predictor; the widest span gets 100 points;
* a predictor's points are ``100 |b_j| (x - x0_j) / max_span``, where ``x0_j`` is the end of
  the range with the lowest contribution (``lo_j`` if ``b_j > 0``, ``hi_j`` if ``b_j < 0``),
  so points are 0 .. (<= 100) inside the range and increase with risk;
* total points ``T`` map back exactly to the model:
  ``logit(p) = lp0 + T * max_span / 100`` with ``lp0 = intercept + sum_j b_j x0_j``.

Binary and ordinal predictors enter the model through one coefficient on their numeric
code (0/1, or e.g. 1..6 for an ordinal class) and are drawn with one tick per level.
Values outside the plotted range are extrapolated linearly (points < 0 or > 100).

Example
-------
>>> nom = Nomogram({"rad_score": 1.2, "ki67": 0.03, "aln_us_class": 0.6}, intercept=-3.0,
...                ranges={"rad_score": (-3, 3), "ki67": (0, 90),
...                        "aln_us_class": [1, 2, 3, 4, 5, 6]},
...                labels={"rad_score": "Rad-score", "ki67": "Ki-67 (%)",
...                        "aln_us_class": "ALN US class"})
>>> nom.points({"rad_score": 3, "ki67": 0, "aln_us_class": 1}).round(1).tolist()
[[100.0, 0.0, 0.0]]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["Nomogram", "DEFAULT_RISK_TICKS"]

#: Probabilities labelled on the risk axis by default.
DEFAULT_RISK_TICKS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)

KINDS = ("continuous", "binary", "ordinal")
_INTERCEPT_NAMES = ("const", "Intercept", "intercept", "(Intercept)")


@dataclass(frozen=True)
class _Predictor:
    name: str
    label: str
    kind: str
    beta: float
    lo: float
    hi: float
    levels: tuple[float, ...]          # empty for continuous
    level_labels: tuple[str, ...]

    @property
    def x0(self) -> float:
        """Value of the predictor that gets 0 points."""
        return self.lo if self.beta >= 0 else self.hi

    @property
    def span(self) -> float:
        """Range of the predictor's contribution to the linear predictor (logit units)."""
        return abs(self.beta) * (self.hi - self.lo)


def _fmt(v: float) -> str:
    """Short label for a tick value: 10 not 10.0, 0.25, -1.5."""
    v = float(round(v, 10))
    if v == 0:
        v = 0.0
    return np.format_float_positional(v, trim="-").replace("-", "\u2212")


def _parse_range(name: str, spec, kind: str | None) -> tuple[str, float, float, tuple, tuple]:
    """Return kind, lo, hi, levels, level_labels from a ``ranges`` entry."""
    if isinstance(spec, Mapping):
        levels = tuple(float(k) for k in spec)
        labels = tuple(str(v) for v in spec.values())
    elif isinstance(spec, (Sequence, np.ndarray)) and not isinstance(spec, str):
        levels = tuple(float(v) for v in spec)
        labels = tuple(_fmt(v) for v in levels)
    else:
        raise ValueError(f"ranges[{name!r}] must be a (min, max) pair, a list of levels or a "
                         f"{{level: label}} mapping, got {spec!r}")
    if any(not math.isfinite(v) for v in levels):
        raise ValueError(f"ranges[{name!r}] contains a non-finite value: {spec!r}")
    if kind is None:
        if isinstance(spec, Mapping) or len(levels) != 2:
            kind = "binary" if set(levels) == {0.0, 1.0} else "ordinal"
        elif isinstance(spec, tuple):
            kind = "continuous"
        else:
            kind = "binary" if set(levels) == {0.0, 1.0} else "continuous"
    if kind not in KINDS:
        raise ValueError(f"kinds[{name!r}] = {kind!r}; use one of {KINDS}")
    if kind == "continuous":
        if len(levels) != 2 or not levels[0] < levels[1]:
            raise ValueError(f"ranges[{name!r}] for a continuous predictor must be (min, max) "
                             f"with min < max, got {spec!r}")
        return kind, levels[0], levels[1], (), ()
    if len(set(levels)) != len(levels) or len(levels) < 2:
        raise ValueError(f"ranges[{name!r}] must list at least two distinct levels, got {spec!r}")
    if kind == "binary" and len(levels) != 2:
        raise ValueError(f"binary predictor {name!r} needs exactly two levels, got {spec!r}")
    order = np.argsort(levels)
    levels_sorted = tuple(levels[i] for i in order)
    labels_sorted = tuple(labels[i] for i in order)
    return kind, levels_sorted[0], levels_sorted[-1], levels_sorted, labels_sorted


def _nice_ticks(lo: float, hi: float, nbins: int) -> np.ndarray:
    from matplotlib.ticker import MaxNLocator

    t = MaxNLocator(nbins=max(1, nbins), steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    tol = 1e-9 * max(1.0, abs(hi - lo))
    t = t[(t >= lo - tol) & (t <= hi + tol)]
    if t.size < 2:
        t = np.array([lo, hi])
    return np.round(t, 10)


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
        widths = np.array([text_width(_fmt(v)) for v in t])
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


class Nomogram:
    """Nomogram of a fitted logistic regression model (Harrell's points convention).

    This is a view of a fitted model, not an estimator: construction computes the point
    scale from the coefficients and ranges, there is nothing to fit.

    Parameters
    ----------
    coefficients : dict of str to float
        Model coefficient (log-odds per unit) of each predictor, in drawing order.
    intercept : float
        Model intercept (log-odds).
    ranges : dict of str to (min, max) or list of levels or {level: label}
        Plotted range of each predictor: ``(min, max)`` for a continuous predictor (use the
        training data's range or e.g. its 1st-99th percentiles); a list of the numeric
        codes for a binary/ordinal predictor (``[0, 1]``, ``[1, 2, 3]``), or a mapping
        ``{code: label}`` (``{0: "negative", 1: "positive"}``) to label the levels.
    labels : dict of str to str, optional
        Axis titles (e.g. ``{"ki67": "Ki-67 (%)"}``); default: the predictor names.
    kinds : dict of str to {"continuous", "binary", "ordinal"}, optional
        Predictor types. Default, from the ``ranges`` entry: a tuple ``(min, max)`` is
        continuous; a mapping or a list of more than two values lists levels (binary if
        they are exactly {0, 1}, else ordinal); a two-element list is binary if it is
        ``[0, 1]`` and continuous otherwise (so ranges read from YAML work).

    Attributes
    ----------
    predictors : list of str
        Predictor names in drawing order.
    max_span : float
        Widest linear-predictor span over the predictors (logit units) = 100 points.
    lp0 : float
        Linear predictor at 0 total points.
    max_total_points : float
        Total points when every predictor sits at its highest-risk end of the range.

    Raises
    ------
    ValueError
        If a predictor lacks a range, a range is malformed, or every coefficient is 0.
    """

    def __init__(self, coefficients: Mapping[str, float], intercept: float,
                 ranges: Mapping[str, object], labels: Mapping[str, str] | None = None,
                 kinds: Mapping[str, str] | None = None):
        if not coefficients:
            raise ValueError("coefficients is empty; pass the model's coefficients by name")
        labels = dict(labels or {})
        kinds = dict(kinds or {})
        missing = [k for k in coefficients if k not in ranges]
        if missing:
            raise ValueError(f"no range given for predictor(s) {missing}; add them to `ranges`, "
                             "e.g. the training data's (min, max)")
        extra = sorted(set(ranges) - set(coefficients))
        if extra:
            logger.info("ranges given for predictors without coefficient (ignored): %s", extra)
        unknown = sorted((set(labels) | set(kinds)) - set(coefficients))
        if unknown:
            raise ValueError(f"labels/kinds name unknown predictor(s) {unknown}; "
                             f"known: {list(coefficients)}")
        if not math.isfinite(float(intercept)):
            raise ValueError(f"intercept must be finite, got {intercept}")
        preds = []
        for name, beta in coefficients.items():
            beta = float(beta)
            if not math.isfinite(beta):
                raise ValueError(f"coefficient of {name!r} is {beta}; the model did not converge")
            kind, lo, hi, levels, level_labels = _parse_range(name, ranges[name], kinds.get(name))
            preds.append(_Predictor(name=name, label=str(labels.get(name, name)), kind=kind,
                                    beta=beta, lo=lo, hi=hi, levels=levels,
                                    level_labels=level_labels))
        self.coefficients = {p.name: p.beta for p in preds}
        self.intercept = float(intercept)
        self.ranges = dict(ranges)
        self.labels = {p.name: p.label for p in preds}
        self.kinds = {p.name: p.kind for p in preds}
        self._preds = preds
        self.predictors = [p.name for p in preds]
        self.max_span = max(p.span for p in preds)
        if not self.max_span > 0:
            raise ValueError("every coefficient is 0 (or every range is empty): nothing to draw")
        self.lp0 = self.intercept + sum(p.beta * p.x0 for p in preds)
        self.max_total_points = float(sum(100.0 * p.span / self.max_span for p in preds))

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_statsmodels(cls, result, ranges: Mapping[str, object],
                         labels: Mapping[str, str] | None = None,
                         kinds: Mapping[str, str] | None = None) -> Nomogram:
        """Nomogram of a fitted statsmodels ``Logit`` or binomial-logit ``GLM`` result.

        Parameters
        ----------
        result
            Fitted results object (``sm.Logit(...).fit()``, ``sm.GLM(..., family=Binomial())
            .fit()`` or their formula versions with plain numeric columns). The intercept is
            the parameter named ``const`` or ``Intercept`` (0 if absent).
        ranges, labels, kinds
            As in :class:`Nomogram`; ``ranges`` needs every non-intercept parameter.
        """
        import statsmodels.api as sm

        model = result.model
        if isinstance(model, sm.GLM):
            fam = model.family
            if not (isinstance(fam, sm.families.Binomial)
                    and isinstance(fam.link, sm.families.links.Logit)):
                raise ValueError(f"GLM family {type(fam).__name__} with link "
                                 f"{type(fam.link).__name__} is not a logistic model")
        elif not isinstance(model, sm.Logit):
            raise ValueError(f"{type(model).__name__} is not a logistic model; fit sm.Logit or "
                             "sm.GLM(..., family=sm.families.Binomial())")
        names = list(model.exog_names)
        params = np.asarray(result.params, dtype=float)
        intercept, coefs = 0.0, {}
        for name, value in zip(names, params):
            if name in _INTERCEPT_NAMES:
                intercept = float(value)
            else:
                coefs[name] = float(value)
        return cls(coefs, intercept, ranges, labels=labels, kinds=kinds)

    @classmethod
    def from_sklearn(cls, lr, feature_names: Sequence[str] | None, ranges: Mapping[str, object],
                     labels: Mapping[str, str] | None = None,
                     kinds: Mapping[str, str] | None = None) -> Nomogram:
        """Nomogram of a fitted scikit-learn ``LogisticRegression`` (binary).

        Parameters
        ----------
        lr
            A fitted ``LogisticRegression``, or a ``Pipeline`` whose last step is one and
            whose earlier steps are ``StandardScaler`` (or ``"passthrough"``): the scaling is
            folded into the coefficients, so the nomogram reads raw predictor values.
        feature_names : sequence of str or None
            Names of the model's input columns in order; ``None`` uses ``feature_names_in_``.
        ranges, labels, kinds
            As in :class:`Nomogram`, on the raw (unscaled) predictor scale.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        steps = [s for _, s in lr.steps] if isinstance(lr, Pipeline) else [lr]
        final = steps[-1]
        if not isinstance(final, LogisticRegression):
            raise ValueError(f"the model's last step is {type(final).__name__}, not a "
                             "LogisticRegression")
        if not hasattr(final, "coef_"):
            raise ValueError("the LogisticRegression is not fitted; call fit first")
        if final.coef_.shape[0] != 1:
            raise ValueError(f"nomograms need a binary model, this one has "
                             f"{len(final.classes_)} classes")
        beta = final.coef_[0].astype(float).copy()
        b0 = float(final.intercept_[0])
        for step in reversed(steps[:-1]):
            if step is None or step == "passthrough":
                continue
            if not isinstance(step, StandardScaler):
                raise ValueError(f"cannot fold pipeline step {type(step).__name__} into the "
                                 "coefficients; only StandardScaler is supported")
            mean = step.mean_ if step.with_mean else np.zeros_like(beta)
            scale = step.scale_ if step.with_std else np.ones_like(beta)
            beta = beta / scale
            b0 = b0 - float(np.sum(beta * mean))
        if feature_names is None:
            feature_names = getattr(lr, "feature_names_in_", None)
            if feature_names is None:
                raise ValueError("pass feature_names: the model was fitted without column names")
        feature_names = list(feature_names)
        if len(feature_names) != beta.size:
            raise ValueError(f"{len(feature_names)} feature names for {beta.size} coefficients")
        return cls(dict(zip(feature_names, beta)), b0, ranges, labels=labels, kinds=kinds)

    # ------------------------------------------------------------------ arithmetic
    def _as_frame(self, x) -> pd.DataFrame:
        if isinstance(x, pd.DataFrame):
            df = x
        elif isinstance(x, Mapping):
            df = pd.DataFrame({k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in x.items()
                               if k in self.coefficients})
        else:
            arr = np.atleast_2d(np.asarray(x, dtype=float))
            if arr.shape[1] != len(self.predictors):
                raise ValueError(f"array input needs {len(self.predictors)} columns in the order "
                                 f"{self.predictors}, got shape {arr.shape}")
            df = pd.DataFrame(arr, columns=self.predictors)
        missing = [k for k in self.predictors if k not in df]
        if missing:
            raise ValueError(f"missing predictor(s) {missing}; the nomogram needs "
                             f"{self.predictors}")
        return df

    def points(self, x) -> np.ndarray:
        """Points of each predictor for each patient.

        Parameters
        ----------
        x : dict, DataFrame or array-like
            Predictor values: a dict of scalars (one patient) or of arrays, a DataFrame with
            (at least) the predictor columns, or an array with columns in ``predictors`` order.

        Returns
        -------
        ndarray of shape (n_patients, n_predictors)
            ``100 |b_j| (x_j - x0_j) / max_span`` in ``predictors`` order.

        Raises
        ------
        ValueError
            Missing predictor or value, or a binary/ordinal value that is not one of its levels.
        """
        df = self._as_frame(x)
        out = np.empty((len(df), len(self._preds)))
        for j, pr in enumerate(self._preds):
            v = pd.to_numeric(df[pr.name], errors="coerce").to_numpy(dtype=float)
            if np.isnan(v).any():
                raise ValueError(f"predictor {pr.name!r} has missing or non-numeric values")
            if pr.levels and not np.isin(v, pr.levels).all():
                bad = sorted(set(v[~np.isin(v, pr.levels)].tolist()))[:5]
                raise ValueError(f"predictor {pr.name!r} takes levels {list(pr.levels)}, "
                                 f"got {bad}")
            out[:, j] = 100.0 * pr.beta * (v - pr.x0) / self.max_span
        return out

    def total_points(self, x) -> np.ndarray:
        """Total points of each patient (sum of :meth:`points` over predictors)."""
        return self.points(x).sum(axis=1)

    def linear_predictor_from_points(self, total) -> np.ndarray | float:
        """Linear predictor (log-odds) for total points: ``lp0 + total * max_span / 100``."""
        lp = self.lp0 + np.asarray(total, dtype=float) * self.max_span / 100.0
        return float(lp) if lp.ndim == 0 else lp

    def probability_from_points(self, total) -> np.ndarray | float:
        """Predicted probability for total points (exactly the model's probability)."""
        lp = np.asarray(self.linear_predictor_from_points(total), dtype=float)
        p = np.where(lp >= 0, 1.0 / (1.0 + np.exp(-np.abs(lp))),
                     np.exp(-np.abs(lp)) / (1.0 + np.exp(-np.abs(lp))))
        return float(p) if p.ndim == 0 else p

    def points_from_probability(self, p) -> np.ndarray | float:
        """Total points that give predicted probability ``p`` (inverse of the above)."""
        p = np.asarray(p, dtype=float)
        if ((p <= 0) | (p >= 1)).any():
            raise ValueError("probabilities must be strictly between 0 and 1")
        t = (np.log(p / (1 - p)) - self.lp0) * 100.0 / self.max_span
        return float(t) if t.ndim == 0 else t

    def predict_proba(self, x) -> np.ndarray:
        """Probability read off the nomogram for each patient (1-D array)."""
        return np.atleast_1d(self.probability_from_points(self.total_points(x)))

    def points_table(self, risk_ticks: Sequence[float] = DEFAULT_RISK_TICKS,
                     n_ticks: int = 6) -> pd.DataFrame:
        """The nomogram as a table: points of tick values and total points of risk ticks.

        Returns
        -------
        DataFrame
            ``axis`` (predictor name, or ``risk``), ``label``, ``value``, ``points``. For the
            ``risk`` rows ``value`` is the probability and ``points`` the total points (rows
            outside the achievable 0 .. max_total_points are omitted).
        """
        rows = []
        for pr in self._preds:
            vals = pr.levels if pr.levels else tuple(_nice_ticks(pr.lo, pr.hi, n_ticks))
            pts = self.points({pr.name: np.asarray(vals)} | {
                q.name: np.full(len(vals), q.x0) for q in self._preds if q is not pr})
            j = self.predictors.index(pr.name)
            for v, s in zip(vals, pts[:, j]):
                rows.append({"axis": pr.name, "label": pr.label, "value": float(v),
                             "points": float(s)})
        for p in risk_ticks:
            t = self.points_from_probability(p)
            if 0 <= t <= self.max_total_points:
                rows.append({"axis": "risk", "label": "risk", "value": float(p),
                             "points": float(t)})
        return pd.DataFrame(rows, columns=["axis", "label", "value", "points"])

    # ------------------------------------------------------------------ drawing
    def draw(self, ax=None, risk_label: str = "Risk",
             risk_ticks: Sequence[float] = DEFAULT_RISK_TICKS,
             show_lp: bool = False, grid: bool = False, title: str | None = None,
             fontsize: float = 9.0, width: float = 7.0):
        """Draw the nomogram (``rms::nomogram`` layout) and return the figure.

        Rows from top to bottom: ``Points`` (0-100), one axis per predictor (continuous:
        ticks at round values inside its range; binary/ordinal: one tick per level, labelled
        with the level's label), ``Total Points``, the optional ``Linear Predictor`` and the
        risk axis with ticks at ``risk_ticks`` placed at the total points that give them
        (ticks outside the achievable range are left out). Crowded labels alternate above
        and below their axis; a label that still does not fit is dropped (its tick stays).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (its frame is switched off); a new figure if None.
        risk_label : str, default "Risk"
            Title of the probability axis, e.g. ``"Risk of N+"``.
        risk_ticks : sequence of float
            Probabilities to mark on the risk axis.
        show_lp : bool, default False
            Add a ``Linear Predictor`` (log-odds) axis.
        grid : bool, default False
            Light vertical guide lines at every 10 points.
        title : str, optional
            Figure title.
        fontsize : float, default 9
            Axis-title font size (pt); tick labels are 1 pt smaller.
        width : float, default 7
            Figure width in inches when a new figure is created.

        Returns
        -------
        matplotlib.figure.Figure
            Every tick label is a ``Text`` whose gid is ``"<row>:label"`` (row = ``points``,
            the predictor name, ``total_points``, ``linear_predictor`` or ``risk``), so the
            drawing can be read back programmatically.
        """
        import matplotlib.pyplot as plt

        drawn = [pr for pr in self._preds if pr.span > 0]
        for pr in self._preds:
            if pr.span == 0:
                logger.info("predictor %s has coefficient 0 and is not drawn", pr.name)
        n_rows = 1 + len(drawn) + 1 + int(show_lp) + 1
        if ax is None:
            fig, ax = plt.subplots(figsize=(width, 0.55 * n_rows + 0.4 + 0.3 * bool(title)))
        else:
            fig = ax.figure
        ax.set_axis_off()
        ax.set_xlim(-1.5, 101.5)
        ax.set_ylim(-(n_rows - 1) - 0.6, 0.75)
        tick_fs = fontsize - 1
        renderer = fig.canvas.get_renderer()
        units_per_pixel = 103.0 / ax.get_window_extent(renderer).width
        width_cache: dict[str, float] = {}

        def text_width(s: str) -> float:
            """Width of a tick label in drawing units (measured by the renderer)."""
            if s not in width_cache:
                probe = ax.text(0, 0, s, fontsize=tick_fs)
                width_cache[s] = probe.get_window_extent(renderer).width * units_per_pixel
                probe.remove()
            return width_cache[s]

        gap = 1.2 * text_width("0")
        line_kw = dict(color="black", lw=0.8, solid_capstyle="butt", clip_on=False)
        tick_len = 0.13

        def axis_row(y: float, row: str, title_txt: str, xs, texts, minor_xs=(),
                     line_from=None, line_to=None, thin: bool = True):
            xs = np.asarray(xs, dtype=float)
            a = float(min(xs.min(), line_from if line_from is not None else np.inf))
            b = float(max(xs.max(), line_to if line_to is not None else -np.inf))
            ax.plot([a, b], [y, y], **line_kw)
            for x in xs:
                ax.plot([x, x], [y, y + tick_len], **line_kw)
            for x in minor_xs:
                ax.plot([x, x], [y, y + tick_len * 0.55], **line_kw)
            widths = np.array([text_width(t) for t in texts])
            sides = _place_labels(xs, widths, gap) if thin else [0] * len(xs)
            for x, t, s in zip(xs, texts, sides):
                if s < 0:
                    continue
                if s == 0:
                    txt = ax.text(x, y + tick_len + 0.05, t, ha="center", va="bottom",
                                  fontsize=tick_fs, clip_on=False)
                else:
                    txt = ax.text(x, y - 0.07, t, ha="center", va="top", fontsize=tick_fs,
                                  clip_on=False)
                txt.set_gid(f"{row}:label")
            ax.text(-4.0, y, title_txt, ha="right", va="center", fontsize=fontsize,
                    clip_on=False).set_gid(f"{row}:title")

        y = 0.0
        # Points axis: labelled every 10, minor ticks every 5
        major = np.arange(0, 101, 10.0)
        axis_row(y, "points", "Points", major, [_fmt(v) for v in major],
                 minor_xs=np.arange(5, 100, 10.0), thin=False)
        # predictor axes
        for pr in drawn:
            y -= 1.0
            scale = 100.0 * pr.beta / self.max_span
            minor = np.array([])
            if pr.levels:
                vals = np.asarray(pr.levels)
                texts = list(pr.level_labels)
            else:
                vals = _continuous_ticks(pr.lo, pr.hi, scale, pr.x0, text_width, gap)
                texts = [_fmt(v) for v in vals]
                minor = _minor_ticks(vals, pr.lo, pr.hi, scale)
            xs = scale * (vals - pr.x0)
            axis_row(y, pr.name, pr.label, xs, texts, minor_xs=scale * (minor - pr.x0),
                     line_from=scale * (pr.lo - pr.x0) if not pr.levels else None,
                     line_to=scale * (pr.hi - pr.x0) if not pr.levels else None)
        # total points axis, rescaled to the 0-100 width
        y -= 1.0
        tot_vals = _nice_ticks(0.0, self.max_total_points, 10)
        tot_max = float(tot_vals[-1])
        if tot_max < self.max_total_points - 1e-9:
            step = tot_vals[1] - tot_vals[0]
            tot_vals = np.append(tot_vals, tot_max + step)
            tot_max = float(tot_vals[-1])
        tscale = 100.0 / tot_max
        axis_row(y, "total_points", "Total Points", tot_vals * tscale, [_fmt(v) for v in tot_vals])
        # linear predictor axis
        if show_lp:
            y -= 1.0
            lp_lo, lp_hi = self.lp0, self.linear_predictor_from_points(self.max_total_points)
            lp_vals = _nice_ticks(lp_lo, lp_hi, 8)
            lp_x = (lp_vals - self.lp0) * 100.0 / self.max_span * tscale
            axis_row(y, "linear_predictor", "Linear Predictor", lp_x, [_fmt(v) for v in lp_vals],
                     line_from=0.0, line_to=self.max_total_points * tscale)
        # risk axis
        y -= 1.0
        rt = np.asarray([r for r in risk_ticks if 0 < r < 1], dtype=float)
        t_of_r = (np.log(rt / (1 - rt)) - self.lp0) * 100.0 / self.max_span
        keep = (t_of_r >= -1e-9) & (t_of_r <= self.max_total_points + 1e-9)
        if keep.sum() == 0:
            p_lo, p_hi = self.probability_from_points(np.array([0.0, self.max_total_points]))
            logger.warning("no risk tick within the achievable risk %.4g .. %.4g; using round "
                           "values inside that range", p_lo, p_hi)
            rt = _nice_ticks(float(p_lo), float(p_hi), 4)
            rt = rt[(rt > 0) & (rt < 1)]
            t_of_r = (np.log(rt / (1 - rt)) - self.lp0) * 100.0 / self.max_span
            keep = np.ones(rt.size, dtype=bool)
        axis_row(y, "risk", risk_label, t_of_r[keep] * tscale,
                 [_fmt(v) for v in np.round(rt[keep], 6)])
        if grid:
            for x in major:
                ax.plot([x, x], [y, 0.0], color="0.85", lw=0.5, zorder=0, clip_on=False)
        if title:
            ax.set_title(title, fontsize=fontsize + 1, loc="left")
        return fig
