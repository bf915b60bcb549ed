"""Render one patient's B-mode image and tumour mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.special import expit

from alnburden.simulate import anatomy
from alnburden.simulate.clinical import STREAM_IMAGE, patient_rng
from alnburden.simulate.effects import EffectSizes
from alnburden.simulate.lesion import (
    BORDER_CLEARANCE_MM,
    N_TRAIT_DRAWS,
    Placement,
    Traits,
    calc_rate,
    draw_traits,
    extent_mm,
    outline,
    rasterise,
    signed_distance,
    spicule_rays,
)

IMAGE_SHAPE = (288, 360)  # rows (depth) x columns (lateral), pixels
SPACING_RANGE_MM = (0.14, 0.20)  # usual pixel spacing; larger when a big tumour needs it
MIN_LESION_PIXELS = 64


@dataclass(frozen=True)
class Rendered:
    """One rendered patient: 8-bit image, boolean mask, spacing and what was drawn."""

    image: np.ndarray
    mask: np.ndarray
    spacing_mm: float
    traits: Traits
    lesion_area_mm2: float


def _one_component(mask: np.ndarray) -> np.ndarray:
    """Largest 4-connected component, holes filled (thin spike tips can rasterise into
    isolated pixels; a tumour mask is one solid region)."""
    lab, k = ndimage.label(mask)
    if k > 1:
        sizes = np.bincount(lab.ravel())[1:]
        mask = lab == 1 + int(np.argmax(sizes))
    return ndimage.binary_fill_holes(mask)


def render_patient(seed: int, index: int, z: float, size_mm: float,
                   eff: EffectSizes | None = None,
                   shape: tuple[int, int] = IMAGE_SHAPE) -> Rendered:
    """Render patient ``index`` of the cohort with ``seed``.

    Parameters
    ----------
    seed, index
        Cohort seed and 0-based patient index: the image stream is derived from them
        only, so the image does not depend on the cohort size.
    z
        Latent aggressiveness (SD units).
    size_mm
        Maximal tumour diameter, mm (the outline is scaled to it).
    eff
        Effect sizes (defaults to ``EffectSizes()``).
    shape
        Image shape (rows = depth, columns = lateral), pixels.

    Returns
    -------
    Rendered
        ``image`` (uint8, 2-D), ``mask`` (bool), pixel ``spacing_mm`` and the traits.
    """
    eff = eff or EffectSizes()
    rng = patient_rng(seed, index, STREAM_IMAGE)
    h, w = shape
    e = rng.standard_normal(N_TRAIT_DRAWS - 1)
    n_calc = int(rng.poisson(calc_rate(z, eff)))
    traits = draw_traits(z, e, n_calc, eff)
    tilt = float(rng.normal(0.0, 0.12))
    radius, spikes = outline(rng, traits)
    mm_per_unit, (xmin, xmax, ymin, ymax) = extent_mm(radius, tilt, size_mm)

    # spacing: the usual range, coarser when the tumour would not fit with clearance
    c = BORDER_CLEARANCE_MM
    need = max((xmax - xmin + 2 * c) / (w - 6), (ymax - ymin + 2 * c + 3.0) / (h - 6))
    spacing = round(max(rng.uniform(*SPACING_RANGE_MM), need * 1.01), 4)
    s = spacing
    depth_mm = h * s

    # placement: layers first, then the tumour in the gland, near the lateral centre
    layout, top = anatomy.draw_layout(rng, ymax - ymin, depth_mm, c)
    cy = (top - ymin) / s
    lo, hi = (c - xmin) / s + 2, w - (c + xmax) / s - 2
    cx = 0.5 * (lo + hi) + (rng.random() - 0.5) * 0.8 * max(hi - lo, 0.0)
    place = Placement(cy=cy, cx=cx, tilt=tilt, scale=mm_per_unit / s)
    mask = _one_component(rasterise(radius, place, shape))
    amp = anatomy.reflectivity(rng, shape, s, layout)

    # tumour echo pattern, margin sharpness and echogenic halo
    halo_mm = 0.4 + 1.8 * traits.halo  # rim thickness
    sd, sl = signed_distance(mask, margin=int(np.ceil((3 * halo_mm + 1.0) / s)) + 2)
    sub = amp[sl]
    edge_mm = 0.10 + 4.0 * traits.roughness  # indistinct margins are blurrier
    inside = expit(-sd * s / edge_mm)
    het = anatomy.smooth_field(rng, sub.shape, (1.0 / s, 1.6 / s))
    dark = anatomy.smooth_field(rng, sub.shape, (2.0 / s, 2.0 / s))
    lesion_amp = traits.echo * np.exp(traits.heterogeneity * het
                                      - 0.5 * traits.heterogeneity ** 2)
    lesion_amp *= 1.0 - 0.6 * traits.heterogeneity * expit((dark - 1.2) / 0.2)
    ring_mod = 0.6 + 0.4 * np.clip(1 + anatomy.smooth_field(rng, sub.shape,
                                                            (1.5 / s, 1.5 / s)), 0, 2) / 2
    rim = expit((halo_mm - np.clip(sd, 0, None) * s) / 0.35) * expit(sd * s / 0.15)
    gain = traits.halo * rim * ring_mod  # echogenic rim: about +10 dB at full strength
    amp[sl] = (sub * (1 + 2.2 * gain) + 0.8 * gain) * (1 - inside) + lesion_amp * inside
    if traits.spiculation > 0.02:  # hypoechoic spicules radiating through the halo
        yy, xx = np.mgrid[sl[0], sl[1]]
        rays = spicule_rays(radius, spikes, place, yy.astype(float), xx.astype(float),
                            length_px=(0.8 + 1.5 * halo_mm) / s, width_px=0.12 / s)
        amp[sl] *= 1.0 - min(1.0, 2.0 * traits.spiculation) * 0.8 * rays * (sd > 0)

    # posterior features: attenuation (or enhancement) grows with the path in the tumour
    cum = np.cumsum(mask, axis=0)
    chord = cum[-1]
    frac = np.where(chord > 0, cum / np.maximum(chord, 1), 0.0)
    frac = np.where(mask, 0.3 * frac, frac)  # weaker inside: internal echoes stay visible
    frac *= np.clip(chord * s / 3.0, 0, 1)
    post_db = (-18.0 * traits.posterior if traits.posterior > 0 else -5.0 * traits.posterior)
    streaks = 1.0 + 0.35 * anatomy.smooth_curve(rng, w, 0.6 / s)
    db_map = post_db * frac * np.clip(streaks, 0.2, None)[None, :]
    if traits.posterior < 0:  # refractive edge shadows below the lateral margins
        cols = np.nonzero(chord)[0]
        x = np.arange(w)[None, :]
        y = np.arange(h)[:, None]
        edge = (np.exp(-0.5 * ((x - cols[0]) * s / 0.5) ** 2)
                + np.exp(-0.5 * ((x - cols[-1]) * s / 0.5) ** 2))
        db_map = db_map + 10.0 * traits.posterior * edge * (y > cy)
    db_map = ndimage.gaussian_filter(db_map, (0.8 / s, 1.4 / s), truncate=3.0)
    amp *= 10.0 ** (db_map / 20.0)

    # microcalcifications: bright punctate specular foci inside the tumour
    coherent = None
    if traits.n_calcifications > 0:
        iy, ix = np.nonzero(sd < -2.0)
        if len(iy):
            pick = rng.choice(len(iy), size=min(traits.n_calcifications, len(iy)),
                              replace=False)
            coherent = np.zeros(shape)
            coherent[iy[pick] + sl[0].start, ix[pick] + sl[1].start] = (
                rng.uniform(4.0, 9.0, len(pick)))
            coherent = ndimage.gaussian_filter(coherent, 0.12 / s, truncate=3.0) * (
                2 * np.pi * (0.12 / s) ** 2)

    env, _ = anatomy.speckle(rng, amp, s, coherent)
    image = anatomy.display(rng, env, s)
    return Rendered(image=image, mask=mask, spacing_mm=spacing, traits=traits,
                    lesion_area_mm2=float(mask.sum() * s * s))
