"""Calibration of predicted probabilities: Hosmer-Lemeshow, Brier, slope/intercept, curves.

All functions take ``y`` (0/1 outcome) and ``p`` (predicted probability in [0, 1]).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import check_alpha, check_p, check_y, stratified_bootstrap
from .rates import wilson_ci

logger = logging.getLogger(__name__)

__all__ = ["hosmer_lemeshow", "brier", "calibration_slope_intercept", "calibration_curve",
           "smoothed_calibration", "risk_groups"]

#: Probabilities are clipped to [EPS, 1 - EPS] before taking logits.
EPS = 1e-10


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.log(q / (1 - q))


def risk_groups(p, g: int = 10) -> np.ndarray:
    """Group patients by quantiles of predicted risk (the Hosmer-Lemeshow "deciles of risk").

    Parameters
    ----------
    p : array-like of shape (n_patients,)
        Predicted probabilities.
    g : int, default 10
        Requested number of groups.

    Returns
    -------
    ndarray of int, shape (n_patients,)
        Group index 0 .. G-1 with G <= g. The breaks are the ``g + 1`` sample quantiles of
        ``p`` (numpy/R type 7), duplicates removed; intervals are right-closed with the first
        one closed on both sides, i.e. R's ``cut(p, unique(quantile(p, 0:g/g)),
        include.lowest = TRUE)`` as in ``ResourceSelection::hoslem.test``. Tied predictions
        therefore always share a group, and heavy ties give fewer than ``g`` groups. Empty
        intervals are dropped and the groups renumbered consecutively. One deviation from
        R: when ``p`` has at most ``g`` distinct values, each distinct value is its own group
        (R's rule would merge the two lowest values into the first closed interval).
    """
    p = np.asarray(p, dtype=float)
    if int(g) != g or g < 1:
        raise ValueError(f"g must be a positive integer, got {g}")
    values = np.unique(p)
    if values.size <= g:
        return np.searchsorted(values, p).astype(int)
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, int(g) + 1)))
    if breaks.size == 1:
        return np.zeros(p.size, dtype=int)
    idx = np.clip(np.searchsorted(breaks, p, side="left"), 1, breaks.size - 1) - 1
    _, groups = np.unique(idx, return_inverse=True)
    return groups.astype(int)


def hosmer_lemeshow(y, p, g: int = 10, fitted: bool = True) -> dict[str, float]:
    """Hosmer-Lemeshow goodness-of-fit test over groups of predicted risk.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1].
    g : int, default 10
        Requested number of risk groups (deciles by default), see :func:`risk_groups`.
    fitted : bool, default True
        ``p`` comes from a model fitted on these patients (``df = G - 2``, Hosmer &
        Lemeshow's reference distribution for the development data); False for data the
        model was not fitted on (a test set, out-of-fold predictions): ``df = G``, since
        no parameter was estimated on them (Hosmer & Lemeshow, Applied Logistic
        Regression, 3rd ed., section 5.2.2).

    Returns
    -------
    dict
        ``chi2`` = sum over groups and both outcomes of (O - E)^2 / E (O observed, E sum of
        predicted probabilities, resp. of 1 - p); ``df`` = G - 2 (``fitted``) or G, where G
        is the number of groups actually formed (G < g when predictions are tied); ``p`` =
        upper tail of
        chi-square(df), NaN when ``df < 1``; ``groups`` = G. A cell with E = 0 contributes 0
        if O = 0 and +inf otherwise (a probability of exactly 0 or 1 contradicted by the
        data). Use the test on the data the model was *not* fitted on, or read it as a
        descriptive statistic: it is known to depend on ``g`` and on the grouping rule.
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    grp = risk_groups(p, g)
    n_groups = int(grp.max()) + 1
    obs1 = np.bincount(grp, weights=y, minlength=n_groups)
    exp1 = np.bincount(grp, weights=p, minlength=n_groups)
    cnt = np.bincount(grp, minlength=n_groups).astype(float)
    obs = np.concatenate([obs1, cnt - obs1])
    exp = np.concatenate([exp1, cnt - exp1])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(exp > 0, (obs - exp) ** 2 / exp,
                         np.where(np.isclose(obs, exp, atol=1e-12), 0.0, np.inf))
    chi2 = float(terms.sum())
    df = n_groups - 2 if fitted else n_groups
    if n_groups < g:
        logger.info("Hosmer-Lemeshow: %d groups formed instead of %d (tied predictions)",
                    n_groups, g)
    pval = float(stats.chi2.sf(chi2, df)) if df >= 1 else float("nan")
    return {"chi2": chi2, "df": int(df), "p": pval, "groups": n_groups}


def brier(y, p) -> float:
    """Brier score, the mean squared difference between ``p`` and the 0/1 outcome.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1].

    Returns
    -------
    float
        mean((p - y)^2); 0 is perfect, 0.25 is a constant prediction of 0.5.
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    return float(np.mean((p - y) ** 2))


def scaled_brier(y, p) -> float:
    """Scaled Brier score (Brier skill score): ``1 - Brier / (ybar (1 - ybar))``.

    The Brier score relative to that of a non-informative model predicting the set's own
    prevalence ``ybar`` for everyone (Steyerberg, Clinical Prediction Models, 2nd ed.,
    section 15.2.1): 1 is perfect, 0 no better than the prevalence, negative worse. NaN
    when the set holds one class.
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    ybar = float(y.mean()) if y.size else float("nan")
    ref = ybar * (1.0 - ybar)
    return float(1.0 - brier(y, p) / ref) if ref > 0 else float("nan")


def integrated_calibration_index(y, p, frac: float = 2 / 3) -> dict[str, float]:
    """Integrated calibration index (Austin & Steyerberg, Stat Med 2019;38:4051-65).

    The calibration curve is the LOWESS smooth of the outcome on the predicted probability
    (span ``frac``, no robustness iterations, as :func:`smoothed_calibration`); ``ici`` is
    the mean over patients of ``|p - smoothed(p)|``, ``e50`` and ``e90`` the median and
    90th percentile of that absolute difference, ``emax`` its maximum. 0 is perfect
    calibration; the unit is probability.

    Returns
    -------
    dict
        ``ici, e50, e90, emax``; NaN when the set holds one class or fewer than 10 patients.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    if y.size < 10 or len(np.unique(y)) < 2:
        return {"ici": np.nan, "e50": np.nan, "e90": np.nan, "emax": np.nan}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        smooth = lowess(y.astype(float), p, frac=frac, it=0, xvals=p)
    diff = np.abs(p - np.clip(smooth, 0.0, 1.0))
    return {"ici": float(diff.mean()), "e50": float(np.median(diff)),
            "e90": float(np.quantile(diff, 0.9)), "emax": float(diff.max())}


def calibration_slope_intercept(y, p, alpha: float = 0.05) -> dict[str, float]:
    """Calibration slope and calibration-in-the-large by logistic recalibration.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1; both classes must be present.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1]; clipped to ``[1e-10, 1 - 1e-10]`` before the logit.
    alpha : float, default 0.05
        Level of the Wald confidence intervals.

    Returns
    -------
    dict
        ``slope``: coefficient b of ``logit P(y=1) = a + b * logit(p)`` (ideal 1; < 1 means
        predictions too extreme, i.e. overfitting).
        ``intercept``: calibration-in-the-large, the intercept ``a`` of
        ``logit P(y=1) = a + offset(logit(p))`` (slope fixed at 1; ideal 0; > 0 means the
        model under-predicts on average). This follows Van Calster et al. (2016, J Clin
        Epidemiol 74:167) and Steyerberg's "calibration-in-the-large".
        ``intercept_joint``: the intercept ``a`` of the free-slope model (what
        ``rms::val.prob`` prints as "Intercept"), reported for completeness.
        Also ``slope_ci_low/high`` and ``intercept_ci_low/high`` (Wald).
        Values are NaN when the fit fails (e.g. perfect separation).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    alpha = check_alpha(alpha)
    y = check_y(y)
    p = check_p(p, n=y.size, probability=True)
    lp = _logit(p)
    z = stats.norm.ppf(1 - alpha / 2)
    nan = float("nan")
    out = {"slope": nan, "intercept": nan, "intercept_joint": nan, "slope_ci_low": nan,
           "slope_ci_high": nan, "intercept_ci_low": nan, "intercept_ci_high": nan}
    binom = sm.families.Binomial()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            if np.ptp(lp) == 0:
                raise np.linalg.LinAlgError("all predictions are equal: no slope to estimate")
            fit_slope = sm.GLM(y, sm.add_constant(lp, has_constant="add"), family=binom).fit()
            b, se_b = float(fit_slope.params[1]), float(fit_slope.bse[1])
            out.update(slope=b, intercept_joint=float(fit_slope.params[0]),
                       slope_ci_low=b - z * se_b, slope_ci_high=b + z * se_b)
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as err:
            logger.warning("calibration slope not estimable: %s", err)
        try:
            fit_int = sm.GLM(y, np.ones((y.size, 1)), family=binom, offset=lp).fit()
            a, se_a = float(fit_int.params[0]), float(fit_int.bse[0])
            out.update(intercept=a, intercept_ci_low=a - z * se_a, intercept_ci_high=a + z * se_a)
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as err:
            logger.warning("calibration-in-the-large not estimable: %s", err)
    return {k: float(v) for k, v in out.items()}


def calibration_curve(y, p, n_bins: int = 10, strategy: str = "quantile",
                      alpha: float = 0.05) -> pd.DataFrame:
    """Binned calibration curve (observed event rate vs mean predicted risk) with Wilson band.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1].
    n_bins : int, default 10
        Requested number of bins.
    strategy : {"quantile", "uniform"}, default "quantile"
        ``"quantile"``: bins of (nearly) equal size from the quantiles of ``p`` (the grouping
        of :func:`risk_groups`, so tied predictions share a bin and fewer bins may result);
        ``"uniform"``: ``n_bins`` equal-width bins on [0, 1], right-closed (the first is
        [0, 1/n_bins]); empty bins are dropped.
    alpha : float, default 0.05
        Level of the Wilson interval of each bin's observed rate.

    Returns
    -------
    DataFrame
        One row per non-empty bin, ordered by risk: ``bin`` (0-based), ``p_mean`` (mean
        predicted probability), ``obs_rate`` (observed event proportion), ``n``, ``events``,
        ``ci_low``, ``ci_high`` (Wilson interval of ``obs_rate``).
    """
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    if strategy == "quantile":
        grp = risk_groups(p, int(n_bins))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
        grp = np.clip(np.searchsorted(edges, p, side="left"), 1, n_bins) - 1
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    df = pd.DataFrame({"g": grp, "p": p, "y": y}).groupby("g", sort=True)
    tab = pd.DataFrame({"p_mean": df["p"].mean(), "n": df["y"].size(), "events": df["y"].sum()})
    tab = tab.reset_index(drop=True)
    tab.insert(0, "bin", np.arange(len(tab)))
    tab["obs_rate"] = tab["events"] / tab["n"]
    lo, hi = wilson_ci(tab["events"].to_numpy(), tab["n"].to_numpy(), alpha=alpha)
    tab["ci_low"], tab["ci_high"] = lo, hi
    tab["n"] = tab["n"].astype(int)
    tab["events"] = tab["events"].astype(int)
    return tab[["bin", "p_mean", "obs_rate", "n", "events", "ci_low", "ci_high"]]


def smoothed_calibration(y, p, frac: float = 2 / 3, n_boot: int = 200, random_state: int = 0,
                         n_points: int = 100, alpha: float = 0.05) -> pd.DataFrame:
    """Smoothed (LOWESS) calibration curve with a percentile bootstrap band.

    Parameters
    ----------
    y : array-like of shape (n_patients,)
        Outcome coded 0/1.
    p : array-like of shape (n_patients,)
        Predicted probabilities in [0, 1].
    frac : float, default 2/3
        LOWESS span (fraction of the data used at each point), as in
        ``statsmodels.nonparametric.lowess``; no robustness iterations (``it=0``), like
        ``rms::val.prob``.
    n_boot : int, default 200
        Bootstrap resamples (patients resampled with replacement, stratified by ``y``);
        0 skips the band.
    random_state : int, default 0
        Seed of the bootstrap.
    n_points : int, default 100
        Size of the evaluation grid, evenly spaced from min(p) to max(p).
    alpha : float, default 0.05
        Level of the pointwise percentile band.

    Returns
    -------
    DataFrame
        ``p`` (grid of predicted probability), ``obs_smooth`` (smoothed observed
        probability, clipped to [0, 1]), ``ci_low``, ``ci_high`` (pointwise band; a
        resample only contributes at grid points inside its own range of ``p``, so it never
        extrapolates; NaN when fewer than 10 resamples cover a point).
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    alpha = check_alpha(alpha)
    y = check_y(y, require_both=False)
    p = check_p(p, n=y.size, probability=True)
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    grid = np.linspace(p.min(), p.max(), int(n_points))

    def smooth(yy: np.ndarray, pp: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = lowess(yy.astype(float), pp, frac=frac, it=0, xvals=grid)
        fit = np.clip(fit, 0.0, 1.0)
        fit[(grid < pp.min()) | (grid > pp.max())] = np.nan
        return fit

    est = smooth(y, p)
    lo = np.full(grid.size, np.nan)
    hi = np.full(grid.size, np.nan)
    if n_boot > 0:
        boots = np.empty((int(n_boot), grid.size))
        for b, idx in enumerate(stratified_bootstrap(y, n_boot, random_state)):
            boots[b] = smooth(y[idx], p[idx])
        enough = np.sum(np.isfinite(boots), axis=0) >= 10
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(boots, [alpha / 2, 1 - alpha / 2], axis=0)
        lo = np.where(enough, q[0], np.nan)
        hi = np.where(enough, q[1], np.nan)
    return pd.DataFrame({"p": grid, "obs_smooth": est, "ci_low": lo, "ci_high": hi})
