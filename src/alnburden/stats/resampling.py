"""The corrected resampled t-test interval of Nadeau & Bengio (2003) for repeated splits.

J random train/test splits of one cohort give J test estimates (e.g. AUCs) that are not
independent: the training sets overlap, so the plain variance of their mean, ``s^2 / J``,
is too small. Nadeau and Bengio ("Inference for the generalization error", Machine
Learning 52:239-281, 2003) correct it to

    var(mean) = (1/J + n_test/n_train) * s^2,

with ``s^2`` the sample variance (ddof 1) of the J estimates; the interval is
``mean +- t_{J-1, 1 - alpha/2} * sqrt(var(mean))`` (Bouckaert & Frank 2004 call it the
corrected resampled t-test). It is conservative rather than exact.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["corrected_resampled_ci"]


def corrected_resampled_ci(values, n_train: float, n_test: float,
                           alpha: float = 0.05) -> dict[str, float]:
    """Mean of repeated-split estimates with the Nadeau-Bengio corrected interval.

    Parameters
    ----------
    values
        One estimate per repeat (NaN entries are dropped), at least 2.
    n_train, n_test
        Training and test set sizes of one split (a mean over repeats when they vary).
    alpha
        1 - confidence level (0.05: 95 % interval).

    Returns
    -------
    dict
        ``repeats`` (J), ``mean``, ``sd`` (ddof 1), ``se_corrected``
        (``sqrt((1/J + n_test/n_train) s^2)``), ``ci_low``, ``ci_high``, ``min``, ``max``.
        With fewer than 2 values the SD and interval are NaN.

    Raises
    ------
    ValueError
        ``n_train`` or ``n_test`` not positive, or ``alpha`` outside (0, 1).
    """
    if not (n_train > 0 and n_test > 0):
        raise ValueError(f"n_train = {n_train} and n_test = {n_test} must both be positive")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is {alpha}; it must be in (0, 1), e.g. 0.05")
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    j = len(x)
    out = {"repeats": j, "mean": float(x.mean()) if j else math.nan, "sd": math.nan,
           "se_corrected": math.nan, "ci_low": math.nan, "ci_high": math.nan,
           "min": float(x.min()) if j else math.nan, "max": float(x.max()) if j else math.nan}
    if j < 2:
        return out
    sd = float(x.std(ddof=1))
    se = math.sqrt((1.0 / j + n_test / n_train) * sd**2)
    half = float(stats.t.ppf(1 - alpha / 2, j - 1)) * se
    out.update(sd=sd, se_corrected=se, ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    return out
