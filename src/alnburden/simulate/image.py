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

    The steps below draw from one random stream in a fixed order (the order is part of
    the cohort: changing it changes every image): tumour traits and outline, pixel spacing,
    anatomy and placement, echo pattern and halo, spicules, posterior features,
    microcalcifications, speckle, display.

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
    tumour = _draw_tumour(rng, z, size_mm, eff)
    s = _pixel_spacing(rng, tumour.extent, shape)
    place, amp = _place_in_anatomy(rng, tumour, s, shape)
    mask = _one_component(rasterise(tumour.radius, place, shape))
    sd, sl = _add_echo_and_halo(rng, amp, mask, tumour.traits, s)
    _add_spicules(amp, sd, sl, tumour, place, s)
    amp *= _posterior_gain(rng, mask, tumour.traits, place.cy, s)
    coherent = _calcifications(rng, sd, sl, tumour.traits.n_calcifications, shape, s)
    env, _ = anatomy.speckle(rng, amp, s, coherent)
    image = anatomy.display(rng, env, s)
    return Rendered(image=image, mask=mask, spacing_mm=s, traits=tumour.traits,
                    lesion_area_mm2=float(mask.sum() * s * s))


@dataclass(frozen=True)
class _Tumour:
    """A drawn tumour before placement: traits, outline (relative units), spikes
    (``outline``'s second output), tilt (rad), scale (mm per unit) and the outline's
    bounds ``[xmin, xmax, ymin, ymax]`` around its centre (mm)."""

    traits: Traits
    radius: np.ndarray
    spikes: np.ndarray
    tilt: float
    mm_per_unit: float
    extent: np.ndarray


def _draw_tumour(rng: np.random.Generator, z: float, size_mm: float,
                 eff: EffectSizes) -> _Tumour:
    """Traits (from ``z``), tilt and outline scaled to a maximal diameter of ``size_mm``."""
    e = rng.standard_normal(N_TRAIT_DRAWS - 1)
    n_calc = int(rng.poisson(calc_rate(z, eff)))
    traits = draw_traits(z, e, n_calc, eff)
    tilt = float(rng.normal(0.0, 0.12))
    radius, spikes = outline(rng, traits)
    mm_per_unit, extent = extent_mm(radius, tilt, size_mm)
    return _Tumour(traits, radius, spikes, tilt, mm_per_unit, extent)


def _pixel_spacing(rng: np.random.Generator, extent: np.ndarray,
                   shape: tuple[int, int]) -> float:
    """Pixel spacing (mm, 4 decimals): drawn in ``SPACING_RANGE_MM``, coarser when the
    tumour (bounds ``extent``, mm) would not fit with ``BORDER_CLEARANCE_MM`` around it."""
    h, w = shape
    xmin, xmax, ymin, ymax = extent
    c = BORDER_CLEARANCE_MM
    need = max((xmax - xmin + 2 * c) / (w - 6), (ymax - ymin + 2 * c + 3.0) / (h - 6))
    return round(max(rng.uniform(*SPACING_RANGE_MM), need * 1.01), 4)


def _place_in_anatomy(rng: np.random.Generator, tumour: _Tumour, s: float,
                      shape: tuple[int, int]) -> tuple[Placement, np.ndarray]:
    """Tissue layers first, then the tumour in the gland near the lateral centre.

    Returns the placement (pixels) and the background reflectivity map.
    """
    h, w = shape
    xmin, xmax, ymin, ymax = tumour.extent
    c = BORDER_CLEARANCE_MM
    layout, top = anatomy.draw_layout(rng, ymax - ymin, h * s, c)
    cy = (top - ymin) / s
    lo, hi = (c - xmin) / s + 2, w - (c + xmax) / s - 2
    cx = 0.5 * (lo + hi) + (rng.random() - 0.5) * 0.8 * max(hi - lo, 0.0)
    place = Placement(cy=cy, cx=cx, tilt=tumour.tilt, scale=tumour.mm_per_unit / s)
    # the mask is rasterised by the caller: reflectivity() is the next draw of the stream
    return place, anatomy.reflectivity(rng, shape, s, layout)


def _halo_mm(traits: Traits) -> float:
    """Thickness (mm) of the echogenic rim."""
    return 0.4 + 1.8 * traits.halo


def _add_echo_and_halo(rng: np.random.Generator, amp: np.ndarray, mask: np.ndarray,
                       traits: Traits, s: float) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Tumour echo pattern, margin sharpness and echogenic halo, written into ``amp``
    (in place) around the tumour.

    Returns
    -------
    (numpy.ndarray, tuple[slice, slice])
        Signed distance to the outline (pixels, negative inside) on the window around
        the tumour, and that window.
    """
    halo_mm = _halo_mm(traits)
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
    return sd, sl


def _add_spicules(amp: np.ndarray, sd: np.ndarray, sl: tuple[slice, slice],
                  tumour: _Tumour, place: Placement, s: float) -> None:
    """Hypoechoic spicules radiating through the halo, darkening ``amp`` in place (none
    when ``spiculation <= 0.02``; draws nothing from the stream)."""
    traits = tumour.traits
    if traits.spiculation <= 0.02:
        return
    halo_mm = _halo_mm(traits)
    yy, xx = np.mgrid[sl[0], sl[1]]
    rays = spicule_rays(tumour.radius, tumour.spikes, place, yy.astype(float),
                        xx.astype(float), length_px=(0.8 + 1.5 * halo_mm) / s,
                        width_px=0.12 / s)
    amp[sl] *= 1.0 - min(1.0, 2.0 * traits.spiculation) * 0.8 * rays * (sd > 0)


def _posterior_gain(rng: np.random.Generator, mask: np.ndarray, traits: Traits, cy: float,
                    s: float) -> np.ndarray:
    """Amplitude factor (whole image) of the posterior features: attenuation (or
    enhancement) growing with the path through the tumour, with refractive edge shadows
    below the lateral margins when enhanced."""
    h, w = mask.shape
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
    return 10.0 ** (db_map / 20.0)


def _calcifications(rng: np.random.Generator, sd: np.ndarray, sl: tuple[slice, slice],
                    n: int, shape: tuple[int, int], s: float) -> np.ndarray | None:
    """Microcalcifications: ``n`` bright punctate specular foci inside the tumour (more
    than 2 pixels from its outline), as a coherent field for :func:`anatomy.speckle`;
    None when there are none."""
    if n <= 0:
        return None
    iy, ix = np.nonzero(sd < -2.0)
    if not len(iy):
        return None
    pick = rng.choice(len(iy), size=min(n, len(iy)), replace=False)
    coherent = np.zeros(shape)
    coherent[iy[pick] + sl[0].start, ix[pick] + sl[1].start] = rng.uniform(4.0, 9.0, len(pick))
    return ndimage.gaussian_filter(coherent, 0.12 / s, truncate=3.0) * (2 * np.pi * (0.12 / s) ** 2)
