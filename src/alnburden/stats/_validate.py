"""Input checks shared by the statistics modules (private)."""

from __future__ import annotations

import numpy as np


def check_y(y, name: str = "y", require_both: bool = True) -> np.ndarray:
    """Return ``y`` as a 1-D int array of 0/1, or raise a ``ValueError`` naming the problem."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}; pass one outcome per patient")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one patient with each outcome")
    if arr.dtype == bool:
        arr = arr.astype(int)
    try:
        num = arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric 0/1, got values like "
                         f"{arr[:3].tolist()}") from None
    if np.isnan(num).any():
        raise ValueError(f"{name} contains {int(np.isnan(num).sum())} missing value(s); "
                         "drop those patients first")
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"{name} must be coded 0/1, found {sorted(set(num[bad].tolist()))[:5]}; "
                         "recode the outcome as 0 = no event, 1 = event")
    out = num.astype(int)
    if require_both and np.unique(out).size < 2:
        raise ValueError(f"{name} has a single class ({int(out[0])} for all {out.size} patients); "
                         "this statistic needs both events and non-events")
    return out


def check_p(p, n: int | None = None, name: str = "p", probability: bool = False) -> np.ndarray:
    """Return ``p`` as a 1-D float array; check its length and (optionally) the [0, 1] range."""
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"length mismatch: y has {n} values but {name} has {arr.size}; "
                         "pass one prediction per patient")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains {int(np.isnan(arr).sum())} missing value(s); "
                         "drop those patients or impute the prediction")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains infinite values")
    if probability and ((arr < 0).any() or (arr > 1).any()):
        lo, hi = float(arr.min()), float(arr.max())
        raise ValueError(f"{name} must be probabilities in [0, 1], got range [{lo:g}, {hi:g}]; "
                         "pass predicted probabilities, not scores or logits")
    return arr


def check_alpha(alpha: float) -> float:
    """Check a two-sided significance level."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}; e.g. 0.05 for 95 % intervals")
    return float(alpha)


def check_n_boot(n_boot) -> int:
    """Return ``n_boot`` as an int, or raise if it is not a positive whole number."""
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    return int(n_boot)


def stratified_bootstrap(y: np.ndarray, n_boot: int, random_state: int = 0):
    """Yield ``n_boot`` index arrays of a bootstrap stratified by the 0/1 outcome ``y``.

    Events and non-events are resampled separately (with replacement, keeping their
    counts), so every resample has both classes. One ``numpy.random.default_rng`` seeded
    with ``random_state`` draws them, events first: the same seed gives the same resamples.
    """
    rng = np.random.default_rng(random_state)
    idx_pos, idx_neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    for _ in range(int(n_boot)):
        yield np.concatenate([rng.choice(idx_pos, idx_pos.size, replace=True),
                              rng.choice(idx_neg, idx_neg.size, replace=True)])
