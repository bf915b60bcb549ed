"""Single-rater intraclass correlations of many features at once (two-way ANOVA).

The segmentation-robustness filter needs the ICC of every radiomic feature (about 1,500)
across the same patients and raters (original and perturbed masks, or two readers), and the
nested cross-validation recomputes it inside every outer fold. Calling
``pingouin.intraclass_corr`` once per feature costs about 50 ms each (a pandas ANOVA per
call); the mean squares of a complete patients x raters design are a few array reductions,
so here every feature is done in one pass. The formulas are McGraw & Wong (1996) and
Shrout & Fleiss (1979), exactly as pingouin 0.7 writes them (its ``ICC(A,1)`` and
``ICC(C,1)`` rows and their F-based 95 % intervals); ``tests/test_icc.py`` checks the two
agree (ICC to 1e-10; pingouin rounds its interval to 2 decimals, this one does not, which
matters when features are kept on the interval's lower bound).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["ICC_KINDS", "icc_single"]

#: ``ICC2`` = ICC(2,1), two-way random, absolute agreement (pingouin ``ICC(A,1)``);
#: ``ICC3`` = ICC(3,1), two-way mixed, consistency (pingouin ``ICC(C,1)``).
ICC_KINDS = ("ICC2", "ICC3")


def icc_single(values: np.ndarray, kind: str = "ICC2",
               alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ICC and its ``1 - alpha`` confidence interval for every feature.

    Parameters
    ----------
    values
        Array of shape ``(n_targets, n_raters, n_features)``: every target (patient) rated by
        every rater (complete, balanced design), one slice per feature.
    kind
        ``"ICC2"`` (absolute agreement: a systematic shift between raters, such as an eroded
        mask shrinking every lesion, lowers it) or ``"ICC3"`` (consistency: ignores it).
    alpha
        1 - confidence level of the F-based interval.

    Returns
    -------
    icc, ci_low, ci_high : ndarray of shape (n_features,)
        NaN for a feature with no variance at all (constant); a feature on which the raters
        agree exactly (residual mean square 0) has ICC 1 and CI [1, 1].

    Raises
    ------
    ValueError
        Unknown ``kind``, not a 3-D array, fewer than 2 targets or raters, non-finite values.
    """
    if kind not in ICC_KINDS:
        raise ValueError(f"ICC kind {kind!r} is unknown; use one of {list(ICC_KINDS)}")
    x = np.asarray(values, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"values must have shape (targets, raters, features), got {x.shape}")
    n, k, _ = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"ICC needs >= 2 targets and >= 2 raters, got {n} and {k}")
    if not np.isfinite(x).all():
        raise ValueError("ICC values must be finite")
    grand = x.mean(axis=(0, 1))
    row = x.mean(axis=1)                      # (n, f) target means
    col = x.mean(axis=0)                      # (k, f) rater means
    ss_total = ((x - grand) ** 2).sum(axis=(0, 1))
    ss_rows = k * ((row - grand) ** 2).sum(axis=0)
    ss_cols = n * ((col - grand) ** 2).sum(axis=0)
    ss_err = np.maximum(ss_total - ss_rows - ss_cols, 0.0)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    msb, msj, mse = ss_rows / df1, ss_cols / (k - 1), ss_err / df2
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "ICC3":
            icc = (msb - mse) / (msb + (k - 1) * mse)
            f3 = msb / mse
            fl = f3 / stats.f.ppf(1 - alpha / 2, df1, df2)
            fu = f3 * stats.f.ppf(1 - alpha / 2, df2, df1)
            lo, hi = (fl - 1) / (fl + (k - 1)), (fu - 1) / (fu + (k - 1))
        else:
            icc = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
            fj = msj / mse
            vn = df2 * (k * icc * fj + n * (1 + (k - 1) * icc) - k * icc) ** 2
            vd = df1 * k ** 2 * icc ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc) - k * icc) ** 2
            v = vn / vd
            f2u = stats.f.ppf(1 - alpha / 2, n - 1, v)
            f2l = stats.f.ppf(1 - alpha / 2, v, n - 1)
            lo = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
            hi = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    constant = np.ptp(x, axis=(0, 1)) == 0
    exact = ~constant & (ss_err <= 1e-20 * ss_total)
    icc = np.where(constant, np.nan, np.where(exact, 1.0, icc))
    lo = np.where(constant, np.nan, np.where(exact, 1.0, lo))
    hi = np.where(constant, np.nan, np.where(exact, 1.0, hi))
    return icc.astype(float), lo.astype(float), hi.astype(float)
