"""Minimum sample size for developing a binary-outcome prediction model (Riley et al.).

The three criteria of Riley et al. (Stat Med 2019;38:1276-1296, "PART II"; summarised in
BMJ 2020;368:m441), written here from the papers' formulae:

(i) **small overfitting**: an expected uniform shrinkage factor ``S`` of at least 0.9,

    ``n >= P / ((S - 1) * ln(1 - R2cs / S))``

    where ``P`` is the number of candidate predictor parameters and ``R2cs`` the
    anticipated Cox-Snell R2 of the model;

(ii) **small optimism in the apparent Nagelkerke R2** (apparent - adjusted <= ``delta``,
    0.05): the same formula with the shrinkage ``S = R2cs / (R2cs + delta * max R2cs)``,
    where ``max R2cs = 1 - exp(2 lnL_null / n)`` and ``lnL_null / n = phi ln(phi) +
    (1 - phi) ln(1 - phi)`` for the outcome proportion ``phi``;

(iii) **precise overall risk**: the intercept-only risk estimated within ``margin`` (0.05)
    with 95% confidence, ``n >= (1.96 / margin)^2 * phi * (1 - phi)``.

The minimum sample size is the largest of the three (each rounded up). Only the formulae
of the papers are used here (the GPL-licensed ``pmsampsize`` code is not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SampleSize", "riley_binary", "cox_snell_r2", "max_cox_snell_r2", "nagelkerke_r2"]


@dataclass(frozen=True)
class SampleSize:
    """Minimum sample sizes of the three criteria (:func:`riley_binary`).

    Attributes
    ----------
    n_shrinkage, n_optimism, n_risk
        Minimum n of criteria (i), (ii) and (iii).
    n_min
        The largest of the three (the minimum sample size).
    events_min
        Events expected at ``n_min`` (``n_min * prevalence``, to the nearest integer, as the papers report it).
    epp
        Events per candidate predictor parameter at ``n_min``.
    shrinkage_optimism
        The shrinkage factor criterion (ii) needs.
    max_r2cs, nagelkerke
        The largest Cox-Snell R2 the prevalence allows, and the anticipated Nagelkerke R2.
    """

    parameters: int
    prevalence: float
    r2cs: float
    shrinkage: float
    n_shrinkage: int
    n_optimism: int
    n_risk: int
    shrinkage_optimism: float
    max_r2cs: float
    nagelkerke: float

    @property
    def n_min(self) -> int:
        return max(self.n_shrinkage, self.n_optimism, self.n_risk)

    @property
    def events_min(self) -> int:
        return int(round(self.n_min * self.prevalence))

    @property
    def epp(self) -> float:
        return self.n_min * self.prevalence / self.parameters

    @property
    def binding(self) -> str:
        """Which criterion sets ``n_min`` (``shrinkage``, ``optimism`` or ``risk``)."""
        values = {"shrinkage": self.n_shrinkage, "optimism": self.n_optimism,
                  "risk": self.n_risk}
        return max(values, key=values.get)


def max_cox_snell_r2(prevalence: float) -> float:
    """The largest Cox-Snell R2 a binary outcome of this prevalence allows."""
    phi = float(prevalence)
    ln_null_per_n = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    return 1.0 - math.exp(2.0 * ln_null_per_n)


def _n_for_shrinkage(parameters: int, r2cs: float, shrinkage: float) -> int:
    return math.ceil(parameters / ((shrinkage - 1.0) * math.log(1.0 - r2cs / shrinkage)))


def riley_binary(parameters: int, prevalence: float, r2cs: float, *, shrinkage: float = 0.9,
                 delta_nagelkerke: float = 0.05, margin: float = 0.05) -> SampleSize:
    """Minimum development sample size of a binary-outcome model (three criteria).

    Parameters
    ----------
    parameters
        Candidate predictor parameters ``P`` (every coefficient considered: a categorical
        variable of k levels counts k - 1), >= 1.
    prevalence
        Anticipated outcome proportion, in (0, 1).
    r2cs
        Anticipated Cox-Snell R2 of the model, in (0, max R2cs) and below ``shrinkage``.
    shrinkage
        Target expected shrinkage of criterion (i) (0.9).
    delta_nagelkerke
        Largest acceptable apparent - adjusted Nagelkerke R2 of criterion (ii) (0.05).
    margin
        Absolute margin of error of the overall risk of criterion (iii) (0.05).

    Raises
    ------
    ValueError
        A value outside the ranges above (named, with the value).
    """
    if int(parameters) < 1:
        raise ValueError(f"parameters must be >= 1, got {parameters}")
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    max_r2 = max_cox_snell_r2(prevalence)
    if not 0.0 < r2cs < max_r2:
        raise ValueError(f"anticipated Cox-Snell R2 {r2cs} must be in (0, {max_r2:.4f}), the "
                         f"largest a prevalence of {prevalence} allows")
    if not r2cs < shrinkage < 1.0:
        raise ValueError(f"shrinkage {shrinkage} must be in (R2cs = {r2cs}, 1)")
    s2 = r2cs / (r2cs + delta_nagelkerke * max_r2)
    return SampleSize(
        parameters=int(parameters), prevalence=float(prevalence), r2cs=float(r2cs),
        shrinkage=float(shrinkage),
        n_shrinkage=_n_for_shrinkage(int(parameters), r2cs, shrinkage),
        n_optimism=_n_for_shrinkage(int(parameters), r2cs, s2),
        n_risk=math.ceil((1.96 / margin) ** 2 * prevalence * (1 - prevalence)),
        shrinkage_optimism=s2, max_r2cs=max_r2, nagelkerke=r2cs / max_r2)


def _log_lik(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def cox_snell_r2(y, p) -> float:
    """Cox-Snell R2 of predicted probabilities ``p`` for outcomes ``y`` (0/1).

    ``1 - exp(2 (lnL_null - lnL_model) / n)``, the null model predicting the observed
    proportion for everyone.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape or y.size == 0:
        raise ValueError(f"y and p must be non-empty and of one length, got {y.size} and {p.size}")
    phi = y.mean()
    if not 0 < phi < 1:
        raise ValueError("y holds one class only; the Cox-Snell R2 needs both")
    ll_null = _log_lik(y, np.full_like(y, phi))
    return float(1.0 - math.exp(2.0 * (ll_null - _log_lik(y, p)) / y.size))


def nagelkerke_r2(y, p) -> float:
    """Nagelkerke R2: the Cox-Snell R2 divided by its maximum for this prevalence."""
    return cox_snell_r2(y, p) / max_cox_snell_r2(float(np.mean(y)))
