"""Latent aggressiveness, clinicopathological variables, node count and ALN class.

Everything here is vectorised over patients but driven by per-patient random draws
(:func:`patient_rng`), so patient ``i`` gets the same values whatever the cohort size.
The model and its parameters are documented in :mod:`alnburden.simulate.effects`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy import stats
from scipy.special import expit, logit

from alnburden.simulate.effects import EffectSizes

# Independent random streams of one patient, keyed (seed, patient index, stream[, attempt]).
STREAM_CLINICAL = 0
STREAM_NODES = 1
STREAM_ALN = 2
STREAM_IMAGE = 3

SUBTYPES = ("luminal_a", "luminal_b", "her2_enriched", "triple_negative")
_N_MAX = 120  # support of the node-count distribution used for exact probabilities
_GH_X, _GH_W = hermegauss(40)
_GH_W = _GH_W / _GH_W.sum()


def patient_rng(seed: int, index: int, stream: int, attempt: int = 0) -> np.random.Generator:
    """Random generator of one patient's stream.

    Parameters
    ----------
    seed
        Cohort seed.
    index
        0-based patient index (patient ``P0001`` is index 0).
    stream
        One of the ``STREAM_*`` constants: separate streams keep, e.g., the images
        unchanged when a node-model effect size is tuned.
    attempt
        Redraw number (used to sample node-positive patients by rejection).
    """
    key = (int(index), int(stream)) if attempt == 0 else (int(index), int(stream), int(attempt))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=key))


def clinical_draws(seed: int, index: int, attempt: int = 0) -> np.ndarray:
    """Base draws of a patient's latent and clinical variables.

    Returns 9 numbers: ``z, e_age, e_size, e_ki67, e_grade`` (standard normal) then
    ``u_er, u_pr, u_her2, u_pos`` (uniform on [0, 1)).
    """
    rng = patient_rng(seed, index, STREAM_CLINICAL, attempt)
    return np.concatenate([rng.standard_normal(5), rng.random(4)])


def ki67_standardised(ki67, eff: EffectSizes) -> np.ndarray:
    """``k``: logit of the Ki-67 fraction, centred and scaled to unit SD."""
    frac = np.clip(np.asarray(ki67, dtype=float), 0.5, 99.5) / 100.0
    sd = np.hypot(eff.ki67_latent, eff.ki67_sd)
    return (logit(frac) - eff.ki67_logit_mean) / sd


def _ki67_from(z, e, eff: EffectSizes, rounded: bool = True) -> np.ndarray:
    val = 100.0 * expit(eff.ki67_logit_mean + eff.ki67_latent * z + eff.ki67_sd * e)
    if rounded:
        val = np.round(val)
    return np.clip(val, 1.0, 95.0)


def clinical_from_draws(draws: np.ndarray, eff: EffectSizes) -> pd.DataFrame:
    """Latent and clinical variables from an ``(n, 9)`` array of :func:`clinical_draws`.

    Returns
    -------
    DataFrame with ``latent, age, tumor_size_mm, ki67, grade, er, pr, her2, subtype, u_pos``.
    """
    d = np.atleast_2d(draws)
    z, e_age, e_size, e_ki67, e_grade = (d[:, j] for j in range(5))
    u_er, u_pr, u_her2, u_pos = (d[:, j] for j in range(5, 9))
    age = np.clip(np.round(eff.age_mean + eff.age_latent * z + eff.age_sd * e_age), 25, 85)
    size = np.exp(np.log(eff.size_median_mm) + eff.size_latent * z + eff.size_sd * e_size)
    size = np.round(np.clip(size, eff.size_min_mm, eff.size_max_mm), 1)
    ki67 = _ki67_from(z, e_ki67, eff)
    k = ki67_standardised(ki67, eff)
    gscore = eff.grade_latent * z + eff.grade_ki67 * k + eff.grade_noise * e_grade
    grade = 1 + np.searchsorted(np.asarray(eff.grade_cuts), gscore)
    er = (u_er < expit(eff.er_intercept + eff.er_latent * z + eff.er_ki67 * k)).astype(int)
    p_pr = np.where(er == 1, expit(eff.pr_if_er_intercept + eff.pr_if_er_latent * z),
                    eff.pr_if_er_negative)
    pr = (u_pr < p_pr).astype(int)
    her2 = (u_her2 < expit(eff.her2_intercept + eff.her2_latent * z
                            + eff.her2_er_negative * (1 - er))).astype(int)
    hr = (er == 1) | (pr == 1)
    subtype = np.where(
        hr,
        np.where((her2 == 0) & (ki67 < eff.subtype_ki67_cutoff), SUBTYPES[0], SUBTYPES[1]),
        np.where(her2 == 1, SUBTYPES[2], SUBTYPES[3]),
    )
    return pd.DataFrame({
        "latent": z, "age": age.astype(int), "tumor_size_mm": size, "ki67": ki67.astype(int),
        "grade": grade.astype(int), "er": er, "pr": pr, "her2": her2, "subtype": subtype,
        "u_pos": u_pos,
    })


def node_logits(z, ki67, eff: EffectSizes) -> tuple[np.ndarray, np.ndarray]:
    """Linear predictors of the hurdle: ``logit P(N+)`` and ``logit P(N>=3 | N+)``."""
    z = np.asarray(z, dtype=float)
    ki67 = np.asarray(ki67, dtype=float)
    k = ki67_standardised(ki67, eff)
    lin1 = eff.pos_intercept + eff.pos_latent * z + eff.pos_ki67 * k
    w = expit((ki67 - eff.high_ki67_switch_pct) / eff.high_ki67_switch_width)
    slope = (1.0 - w) * eff.high_latent_low_ki67 + w * eff.high_latent_high_ki67
    lin2 = (eff.high_intercept + slope * (z - eff.high_latent_pivot) + eff.high_ki67 * k
            + eff.high_ki67_group_shift * w)
    return lin1, lin2


def _extra_nodes_params(z, eff: EffectSizes) -> tuple[np.ndarray, np.ndarray]:
    mean = np.exp(eff.extra_nodes_log_mean + eff.extra_nodes_latent * np.asarray(z, float))
    r = eff.extra_nodes_dispersion
    return np.full_like(mean, r), r / (r + mean)


def node_draws(seed: int, index: int) -> np.ndarray:
    """Base draws of the node count: ``u_high, u_two, u_extra`` (uniform on (0, 1))."""
    rng = patient_rng(seed, index, STREAM_NODES)
    return np.clip(rng.random(3), 1e-12, 1 - 1e-12)


def sample_nodes(z, ki67, u_pos, ndraws: np.ndarray, eff: EffectSizes,
                 node_positive_only: bool = False,
                 high_burden_fraction: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Positive-node counts from the hurdle model.

    Parameters
    ----------
    z, ki67, u_pos
        Latent, Ki-67 (%) and the N+ uniform of every patient.
    ndraws
        ``(n, 3)`` array of :func:`node_draws`.
    eff
        Effect sizes.
    node_positive_only
        Every patient is N+ (the caller sampled them conditionally on N+).
    high_burden_fraction
        When given, exactly ``round(fraction * n_pos)`` N+ patients get >= 3 nodes: the
        ones with the largest ``logit P(N>=3 | N+) + logistic noise`` (a latent-threshold
        version of the same model; the threshold shift is returned).

    Returns
    -------
    n_positive_nodes, high (0/1 among N+), shift
        ``shift`` is subtracted from ``logit P(N>=3 | N+)`` to get the true probability.
    """
    lin1, lin2 = node_logits(z, ki67, eff)
    pos = np.ones(len(lin1), bool) if node_positive_only else np.asarray(u_pos) < expit(lin1)
    u_high, u_two, u_extra = ndraws[:, 0], ndraws[:, 1], ndraws[:, 2]
    score = lin2 - logit(u_high)  # > 0 with probability expit(lin2)
    shift = 0.0
    if high_burden_fraction is not None:
        n_pos = int(pos.sum())
        k = int(round(high_burden_fraction * n_pos))
        s = np.sort(score[pos])[::-1]
        if n_pos == 0:
            shift = 0.0
        elif k == 0:
            shift = float(s[0]) + 1.0
        elif k == n_pos:
            shift = float(s[-1]) - 1.0
        else:
            shift = float(0.5 * (s[k - 1] + s[k]))
    high = pos & (score > shift)
    r, p = _extra_nodes_params(z, eff)
    extra = stats.nbinom.ppf(u_extra, r, p).astype(int)
    n = np.where(~pos, 0, np.where(high, 3 + extra, 1 + (u_two < eff.two_nodes_prob)))
    return n.astype(int), high.astype(int), shift


def aln_draws(seed: int, index: int) -> float:
    """Base draw of the ALN class noise (standard normal)."""
    return float(patient_rng(seed, index, STREAM_ALN).standard_normal())


def aln_mean(n, eff: EffectSizes) -> np.ndarray:
    """Mean of the ALN class latent score for node count(s) ``n``."""
    n = np.asarray(n, dtype=float)
    return eff.aln_positive_shift * (n > 0) + eff.aln_count_slope * np.log1p(n)


def aln_class(n, e, eff: EffectSizes) -> np.ndarray:
    """ALN ultrasound morphologic class (1-6) from node count and a standard-normal draw."""
    return 1 + np.searchsorted(np.asarray(eff.aln_cuts), aln_mean(n, eff) + np.asarray(e))


def _aln_likelihood(cls, eff: EffectSizes) -> np.ndarray:
    """``(n_patients, _N_MAX + 1)`` matrix of P(class | n)."""
    cuts = np.concatenate([[-np.inf], np.asarray(eff.aln_cuts, float), [np.inf]])
    m = aln_mean(np.arange(_N_MAX + 1), eff)[None, :]
    c = np.asarray(cls, int)[:, None]
    return stats.norm.cdf(cuts[c] - m) - stats.norm.cdf(cuts[c - 1] - m)


def count_pmf(z, ki67, eff: EffectSizes, node_positive_only: bool = False,
              shift: float = 0.0) -> np.ndarray:
    """``(n_patients, _N_MAX + 1)`` matrix of P(n positive nodes | z, Ki-67)."""
    lin1, lin2 = node_logits(z, ki67, eff)
    p1 = np.ones_like(lin1) if node_positive_only else expit(lin1)
    p2 = expit(lin2 - shift)
    r, p = _extra_nodes_params(z, eff)
    j = np.arange(_N_MAX + 1 - 3)
    pmf = np.zeros((len(p1), _N_MAX + 1))
    pmf[:, 0] = 1.0 - p1
    pmf[:, 1] = p1 * (1 - p2) * (1 - eff.two_nodes_prob)
    pmf[:, 2] = p1 * (1 - p2) * eff.two_nodes_prob
    pmf[:, 3:] = (p1 * p2)[:, None] * stats.nbinom.pmf(j[None, :], r[:, None], p[:, None])
    return pmf


def truth_probabilities(z, ki67, aln, eff: EffectSizes, node_positive_only: bool = False,
                        shift: float = 0.0) -> pd.DataFrame:
    """True probabilities of the labels, given what a model could know.

    Returns
    -------
    DataFrame with
    ``p_pos`` / ``p_high_given_pos``: given the latent and Ki-67 (the causal model);
    ``p_pos_image`` / ``p_high_given_pos_image``: given the latent only (marginal over
    Ki-67): the best any image-only (radiomics) model can do;
    ``p_pos_full`` / ``p_high_given_pos_full``: given latent, Ki-67 and ALN class: the
    best a combined model can do.
    """
    z = np.asarray(z, float)
    ki67 = np.asarray(ki67, float)
    lin1, lin2 = node_logits(z, ki67, eff)
    p1 = np.ones_like(lin1) if node_positive_only else expit(lin1)
    p2 = expit(lin2 - shift)
    # image-only: integrate Ki-67's residual out (Gauss-Hermite)
    zz = np.repeat(z[:, None], len(_GH_X), axis=1)
    kk = _ki67_from(zz, _GH_X[None, :], eff, rounded=False)
    l1, l2 = node_logits(zz, kk, eff)
    q1 = np.ones_like(l1) if node_positive_only else expit(l1)
    q12 = q1 * expit(l2 - shift)
    p1_img = q1 @ _GH_W
    p2_img = (q12 @ _GH_W) / p1_img
    # full: Bayes with the ALN class likelihood
    joint = count_pmf(z, ki67, eff, node_positive_only, shift) * _aln_likelihood(aln, eff)
    tot = joint.sum(axis=1)
    pos = joint[:, 1:].sum(axis=1)
    return pd.DataFrame({
        "p_pos": p1, "p_high_given_pos": p2,
        "p_pos_image": p1_img, "p_high_given_pos_image": p2_img,
        "p_pos_full": pos / tot, "p_high_given_pos_full": joint[:, 3:].sum(axis=1) / pos,
    })
