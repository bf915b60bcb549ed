"""Nomogram of a fitted binary logistic regression model: its points arithmetic.

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
code (0/1, or e.g. 1..6 for an ordinal class) and are drawn with one tick per level. An
ordinal variable coded ``categorical`` is drawn as one 0/1 axis per non-reference level
(like a categorical variable), one coded ``{threshold: k}`` as one axis ``< k`` / ``>= k``.
Values outside the plotted range are extrapolated linearly (points < 0 or > 100).

:func:`nomogram_from_model` builds the nomogram of the modelling stage's saved model
(:class:`alnburden.modeling.clinical.LogisticModel`); the drawing is
:func:`alnburden.figures.nomogram.draw_nomogram`.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_RISK_TICKS", "Nomogram", "PredictorAxis", "has_predictor",
           "nomogram_from_model"]

#: Probabilities labelled on the risk axis by default.
DEFAULT_RISK_TICKS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)

KINDS = ("continuous", "binary", "ordinal")


@dataclass(frozen=True)
class PredictorAxis:
    """One predictor of a nomogram: its coefficient and plotted range (``lo``..``hi``, or the
    sorted ``levels`` of a binary/ordinal predictor with their display labels)."""

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


def format_tick(v: float) -> str:
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
        labels = tuple(format_tick(v) for v in levels)
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


def nice_ticks(lo: float, hi: float, nbins: int) -> np.ndarray:
    """Round values in [lo, hi] (matplotlib's ``MaxNLocator``, at most ``nbins`` intervals),
    rounded to 10 decimals; ``[lo, hi]`` when fewer than two fit."""
    from matplotlib.ticker import MaxNLocator

    t = MaxNLocator(nbins=max(1, nbins), steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    tol = 1e-9 * max(1.0, abs(hi - lo))
    t = t[(t >= lo - tol) & (t <= hi + tol)]
    if t.size < 2:
        t = np.array([lo, hi])
    return np.round(t, 10)


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
            preds.append(PredictorAxis(name=name, label=str(labels.get(name, name)), kind=kind,
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

    @property
    def axes(self) -> tuple[PredictorAxis, ...]:
        """The predictors with their coefficients and ranges, in drawing order."""
        return tuple(self._preds)

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
            vals = pr.levels if pr.levels else tuple(nice_ticks(pr.lo, pr.hi, n_ticks))
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


# --------------------------------------------------------------------------- saved models
#: Axis titles of known predictors of the combined model.
PREDICTOR_LABELS: dict[str, str] = {
    "rad_score": "Rad-score", "ki67": "Ki-67 (%)", "age": "Age (years)",
    "tumor_size_mm": "Tumour size (mm)", "er": "ER", "pr": "PR", "her2": "HER2",
    "grade": "Histological grade", "aln_us_class": "ALN US class",
}
_STATUS_LEVELS = {0: "negative", 1: "positive"}
_LEVEL_LABELS = {"luminal_a": "luminal A", "luminal_b": "luminal B",
                 "her2_enriched": "HER2-enriched", "triple_negative": "triple negative"}


def has_predictor(model) -> bool:
    """A fitted ``LogisticModel`` has a predictor with a non-zero coefficient (False for an
    intercept-only model, or a penalized one whose penalty zeroed every coefficient: such a
    model has no nomogram)."""
    coef = np.asarray(getattr(model, "coef_", []), dtype=float)
    return bool(coef.size > 1 and np.any(coef[1:] != 0))


def nomogram_from_model(model) -> Nomogram:
    """The nomogram of a saved combined (or clinical) model.

    Parameters
    ----------
    model
        A fitted :class:`alnburden.modeling.clinical.LogisticModel` (what the modelling
        stage writes to ``results/{level}/models/{model}.joblib``): ``variables``,
        ``terms_``, ``coef_`` (intercept first) and ``ranges_`` (each continuous
        predictor's training range). Binary, ordinal and categorical predictors take
        their levels from the variable specs; a categorical variable becomes one 0/1 axis
        per non-reference level.

    Raises
    ------
    ValueError
        If ``model`` is not a fitted ``LogisticModel`` or lacks the range of a continuous
        predictor.
    """
    if not all(hasattr(model, a) for a in ("variables", "terms_", "coef_", "ranges_")):
        raise ValueError(
            f"cannot draw a nomogram of a {type(model).__name__}: the modelling stage saves a "
            "fitted alnburden.modeling.clinical.LogisticModel (variables, terms_, coef_, "
            "ranges_); refit the level with the current modelling stage")
    terms = list(model.terms_)
    coef = np.asarray(model.coef_, dtype=float)
    if terms[0] != "const":
        raise ValueError(f"LogisticModel terms_ start with {terms[0]!r}, expected 'const'")
    coefs = dict(zip(terms[1:], coef[1:]))
    ranges, kinds = _model_ranges(model)
    ranges = {k: _binary_levels(k, v) for k, v in ranges.items()}
    labels = {p: PREDICTOR_LABELS.get(p, _dummy_label(p)) for p in coefs}
    kinds = {k: v for k, v in kinds.items() if k in coefs}
    return Nomogram(coefs, float(coef[0]), ranges, labels=labels, kinds=kinds)


def _model_ranges(model) -> tuple[dict, dict[str, str]]:
    """Plotted range and kind of every design column of a fitted ``LogisticModel``."""
    from alnburden.modeling.clinical import coding_of, variable_terms

    ranges = dict(model.ranges_)
    kinds: dict[str, str] = {}
    for spec in model.variables:
        name, typ = spec["name"], spec.get("type", "continuous")
        coding = coding_of(spec)
        if typ == "ordinal" and coding != "linear":  # dummies or one >= threshold term
            for term in variable_terms(spec):
                ranges.setdefault(term, [0, 1])
                kinds[term] = "binary"
        elif typ == "categorical":
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
            raise ValueError(f"the model file carries no range for continuous predictor "
                             f"{name!r} (ranges_ has {sorted(ranges)}); refit the level with "
                             "the current modelling stage, which records every training range")
    return ranges, kinds


def _binary_levels(name: str, rng):
    """Readable levels of 0/1 predictors: ER/PR/HER2 negative/positive, dummies no/yes."""
    if not (isinstance(rng, (list, tuple)) and [float(v) for v in rng] == [0.0, 1.0]):
        return rng
    if name in ("er", "pr", "her2"):
        return dict(_STATUS_LEVELS)
    if name.endswith("]"):  # a level of a categorical variable
        return {0: "no", 1: "yes"}
    if ">=" in name:  # the >= k term of an ordinal variable with a threshold coding
        k = name.split(">=", 1)[1]
        return {0: f"< {k}", 1: f"\u2265 {k}"}
    return rng


def _dummy_label(name: str) -> str:
    """``subtype[luminal_b]`` -> ``Subtype: luminal B``; other names with spaces for ``_``."""
    if name.endswith("]") and "[" in name:
        var, value = name[:-1].split("[", 1)
        var_label = PREDICTOR_LABELS.get(var, var.replace("_", " ").capitalize())
        return f"{var_label}: {_LEVEL_LABELS.get(value, value.replace('_', ' '))}"
    if ">=" in name:
        var = name.split(">=", 1)[0]
        return PREDICTOR_LABELS.get(var, var.replace("_", " ").capitalize())
    return name.replace("_", " ")
