"""Breast background anatomy, speckle formation and display of the B-mode image.

The image is formed as in a linear-array scanner, in three steps:

1. a *reflectivity map* ``A`` (scatterer amplitude, arbitrary units, glandular tissue
   ~1): skin line, subcutaneous fat lobules with Cooper's ligaments, fibroglandular
   layer, retromammary fat, pectoral muscle with its fascia and fibre striations;
2. *speckle*: circular complex Gaussian scatterers weighted by ``A`` and convolved with
   an anisotropic Gaussian point-spread function (longer laterally than axially); the
   envelope (modulus) is fully developed speckle (Rayleigh-distributed at uniform ``A``);
3. *display*: depth attenuation with imperfect time-gain compensation, a focal zone,
   log compression to a dynamic range in dB, 8-bit quantisation.

None of these depends on the latent aggressiveness: they are acquisition and anatomy
nuisance. Constants below are in millimetres unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# Speckle point-spread function (Gaussian SDs, mm): lateral > axial.
PSF_LATERAL_MM = (0.50, 0.70)
PSF_AXIAL_MM = (0.12, 0.17)
# Display: dynamic range (dB) and overall gain jitter (dB).
DYNAMIC_RANGE_DB = (50.0, 58.0)
GAIN_SD_DB = 1.5
# Residual attenuation after TGC (dB/mm, may be slightly negative: over-compensation).
RESIDUAL_ATTENUATION_DB_MM = (-0.05, 0.20)
# Reflectivity of tissues relative to fibroglandular tissue.
FAT = 0.25
MUSCLE = 0.42
SKIN = 2.2
FASCIA = 1.1


def _kernel_matrix(n: int, corr_px: float) -> np.ndarray:
    """``(n, m)`` matrix of Gaussian bumps centred on a lattice of pitch ``corr_px``."""
    c = max(float(corr_px), 1.0)
    centres = (np.arange(int(np.ceil(n / c)) + 5) - 2.0) * c
    x = np.arange(n, dtype=float)[:, None]
    return np.exp(-0.5 * ((x - centres[None, :]) / (0.75 * c)) ** 2)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int],
                 corr_px: tuple[float, float]) -> np.ndarray:
    """Zero-mean, unit-SD random field with correlation lengths ``corr_px`` (rows, cols).

    A weighted sum of Gaussian bumps on a coarse lattice with standard-normal weights,
    computed as two small matrix products (fast whatever the correlation length).
    """
    ky = _kernel_matrix(shape[0], corr_px[0])
    kx = _kernel_matrix(shape[1], corr_px[1])
    f = ky @ rng.standard_normal((ky.shape[1], kx.shape[1])) @ kx.T
    return (f - f.mean()) / (f.std() + 1e-12)


def smooth_curve(rng: np.random.Generator, n: int, corr_px: float) -> np.ndarray:
    """Zero-mean, unit-SD random 1-D curve of length ``n`` with correlation ``corr_px``."""
    k = _kernel_matrix(n, corr_px)
    f = k @ rng.standard_normal(k.shape[1])
    return (f - f.mean()) / (f.std() + 1e-12)


@dataclass(frozen=True)
class Layout:
    """Depths (mm, at the image's lateral centre) of the tissue interfaces."""

    skin: float
    fat: float
    gland: float
    retro: float
    muscle: float


def draw_layout(rng: np.random.Generator, lesion_height_mm: float, depth_mm: float,
                clearance_mm: float) -> tuple[Layout, float]:
    """Random layer depths and the depth of the tumour's top (mm).

    The tumour lies mostly in the fibroglandular layer (at most its upper fifth in the
    subcutaneous fat), keeps ``clearance_mm`` from the bottom of the image and
    5 mm from the skin surface.
    """
    u = rng.random(7)
    skin = 1.4 + 1.0 * u[0]
    fat = skin + 2.0 + 8.0 * u[1]
    top_max = max(5.0, depth_mm - clearance_mm - 1.0 - lesion_height_mm)
    top_min = min(max(5.0, fat - 0.2 * lesion_height_mm), top_max)
    fat = min(fat, top_min + 0.2 * lesion_height_mm)
    top = top_min + (min(top_max, top_min + 8.0) - top_min) * u[2]
    gland = max(top + lesion_height_mm + 1.0 + 7.0 * u[3], fat + 6.0)
    retro = gland + 0.6 + 2.0 * u[4]
    muscle = retro + 5.0 + 7.0 * u[5]
    return Layout(skin, fat, gland, retro, min(muscle, depth_mm + 50.0)), top


def reflectivity(rng: np.random.Generator, shape: tuple[int, int], spacing_mm: float,
                 layout: Layout) -> np.ndarray:
    """Background reflectivity map (glandular tissue ~ 1).

    Parameters
    ----------
    rng
        Image random stream (consumed in a fixed order: interfaces, fat, gland, muscle,
        fascia, deep tissue).
    shape
        Image shape (rows = depth, columns = lateral), pixels.
    spacing_mm
        Isotropic pixel spacing, mm.
    layout
        Layer depths, mm.
    """
    h, _ = shape
    s = spacing_mm
    y = (np.arange(h) * s)[:, None]  # depth, mm
    mm = 1.0 / s  # pixels per mm
    skin_b, fat_b, gland_b, retro_b, muscle_b = _interfaces(rng, shape[1], s, layout)

    def soft(b, width_mm=0.35):  # 0 above interface b, 1 below
        return 1.0 / (1.0 + np.exp(-(y - b[None, :]) / width_mm))

    w_skin = 1 - soft(skin_b, 0.12)
    w_fat = soft(skin_b, 0.12) - soft(fat_b)
    w_gland = soft(fat_b) - soft(gland_b)
    w_retro = soft(gland_b) - soft(retro_b)
    w_muscle = soft(retro_b, 0.15) - soft(muscle_b, 0.15)
    w_deep = soft(muscle_b, 0.15)

    # skin: two bright lines (epidermis entry echo, dermis/fat interface), darker dermis
    dist_top = y / layout.skin
    skin = SKIN * (0.55 + 0.45 * np.cos(2 * np.pi * np.clip(dist_top, 0, 1)) ** 2)
    skin = np.broadcast_to(skin, shape)
    fat = _fat(rng, shape, mm)
    gland = _gland(rng, shape, mm)
    muscle = _muscle(rng, shape, y, s)
    fascia = FASCIA * (np.exp(-((y - retro_b[None, :]) / 0.3) ** 2)
                       + np.exp(-((y - muscle_b[None, :]) / 0.3) ** 2))
    fascia *= np.exp(0.5 * smooth_field(rng, shape, (1.0 * mm, 4.0 * mm)))
    deep = 0.18 * (1.0 + 0.3 * smooth_field(rng, shape, (2 * mm, 6 * mm)))

    amp = (w_skin * skin + w_fat * fat + w_gland * gland + w_retro * FAT * 1.2
           + w_muscle * muscle + w_deep * deep + fascia * (1 - w_skin))
    return np.clip(amp, 0.02, None)


def _interfaces(rng: np.random.Generator, w: int, s: float,
                layout: Layout) -> tuple[np.ndarray, ...]:
    """Depth (mm) of the skin/fat, fat/gland, gland/retromammary, retromammary/muscle and
    muscle/deep interfaces at each of the ``w`` columns: gently sloped, wavy lines."""
    mm = 1.0 / s
    tilt = rng.uniform(-0.06, 0.06) * (np.arange(w) - w / 2) * s  # gentle slope of layers

    def interface(depth, amp_mm, corr_mm):
        return depth + tilt + amp_mm * smooth_curve(rng, w, corr_mm * mm)

    skin_b = interface(layout.skin, 0.15, 15.0)
    fat_b = interface(layout.fat, 1.2, 10.0)
    gland_b = interface(layout.gland, 1.6, 12.0)
    retro_b = gland_b + (layout.retro - layout.gland) * (1 + 0.3 * smooth_curve(rng, w, 20 * mm))
    muscle_b = retro_b + (layout.muscle - layout.retro) * (1 + 0.15 * smooth_curve(rng, w, 25 * mm))
    return skin_b, fat_b, gland_b, retro_b, muscle_b


def _fat(rng: np.random.Generator, shape: tuple[int, int], mm: float) -> np.ndarray:
    """Fat: hypoechoic lobules separated by thin echogenic septa (Cooper's ligaments);
    ``mm`` is pixels per mm."""
    f1 = smooth_field(rng, shape, (2.5 * mm, 5.0 * mm))
    septa = np.exp(-(f1 / 0.22) ** 2)
    return FAT * (1.0 + 0.25 * smooth_field(rng, shape, (1.0 * mm, 2.0 * mm))) + 0.75 * septa


def _gland(rng: np.random.Generator, shape: tuple[int, int], mm: float) -> np.ndarray:
    """Fibroglandular tissue: bright, heterogeneous, laterally elongated striations with
    hypoechoic fat islands and thin bright duct walls; ``mm`` is pixels per mm."""
    g1 = smooth_field(rng, shape, (0.6 * mm, 3.0 * mm))
    g2 = smooth_field(rng, shape, (2.0 * mm, 5.0 * mm))
    islands = 1.0 / (1.0 + np.exp(-(g2 - 0.9) / 0.15))
    walls = np.exp(-((g2 - 0.2) / 0.1) ** 2)  # thin bright curvilinear echoes (duct walls)
    return np.exp(0.45 * g1) * (1.0 - 0.7 * islands) + 0.36 * walls


def _muscle(rng: np.random.Generator, shape: tuple[int, int], y: np.ndarray,
            s: float) -> np.ndarray:
    """Pectoral muscle: fibre striations oblique to the skin (``y``: depth column, mm;
    ``s``: pixel spacing, mm)."""
    mm = 1.0 / s
    ang = rng.uniform(-0.25, 0.05)
    xx = (np.arange(shape[1]) * s)[None, :]
    period = rng.uniform(1.2, 2.0)
    phase = (y * np.cos(ang) + xx * np.sin(ang)) * 2 * np.pi / period
    phase = phase + 1.5 * smooth_field(rng, shape, (2.0 * mm, 8.0 * mm))
    return MUSCLE * (0.7 + 1.3 * np.clip(np.sin(phase), 0, 1) ** 6)


def speckle(rng: np.random.Generator, amplitude: np.ndarray, spacing_mm: float,
            coherent: np.ndarray | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """Envelope of filtered complex Gaussian scatterers weighted by ``amplitude``.

    ``coherent`` (same shape, real) is added to the complex field after filtering: strong
    specular reflectors such as microcalcifications. Returns the envelope (mean ~
    amplitude) and the PSF SDs in pixels (axial, lateral).
    """
    sig = (rng.uniform(*PSF_AXIAL_MM) / spacing_mm, rng.uniform(*PSF_LATERAL_MM) / spacing_mm)
    noise = rng.standard_normal(amplitude.shape + (2,))
    field = (noise[..., 0] + 1j * noise[..., 1]) * amplitude
    re = ndimage.gaussian_filter(field.real, sig, truncate=3.0, mode="reflect")
    im = ndimage.gaussian_filter(field.imag, sig, truncate=3.0, mode="reflect")
    # unit-mean envelope for unit amplitude: each filtered component has variance
    # A^2 * sum(k^2) = A^2 / (4 pi sy sx); a Rayleigh modulus has mean sigma * sqrt(pi / 2)
    scale = np.sqrt(4 * np.pi * sig[0] * sig[1]) / np.sqrt(np.pi / 2)
    re *= scale
    im *= scale
    if coherent is not None:
        re += coherent
    env = np.hypot(re, im)
    return env, sig


def display(rng: np.random.Generator, envelope: np.ndarray, spacing_mm: float) -> np.ndarray:
    """Depth gain, focal zone, log compression and 8-bit quantisation of an envelope."""
    h, _ = envelope.shape
    y = np.arange(h)[:, None] * spacing_mm
    att = rng.uniform(*RESIDUAL_ATTENUATION_DB_MM)
    focus = rng.uniform(0.35, 0.7) * h * spacing_mm
    gain_db = rng.normal(0.0, GAIN_SD_DB)
    dr = rng.uniform(*DYNAMIC_RANGE_DB)
    depth_db = -att * y + 2.0 * np.exp(-((y - focus) / 12.0) ** 2) + gain_db
    # post-detection smoothing (scanners' video filter) softens the speckle nulls
    env = ndimage.gaussian_filter(envelope, (0.12 / spacing_mm, 0.2 / spacing_mm), truncate=2.5)
    db = 20.0 * np.log10(env + 1e-6) + depth_db
    top = 15.0  # dB shown as white: gland (0 dB, log-speckle mean ~ -2.5 dB) sits near grey 175
    grey = 255.0 * (db - top + dr) / dr
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)
