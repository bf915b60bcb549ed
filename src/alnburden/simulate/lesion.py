"""The tumour: its traits, its outline (the mask) and its echo pattern.

Every trait is a smooth function of the latent aggressiveness ``z`` plus residual noise
(slopes and noise in :class:`~alnburden.simulate.effects.EffectSizes`), chosen after the
BI-RADS ultrasound lexicon: margin (circumscribed -> microlobulated/angular ->
spiculated), orientation (parallel -> not parallel, "taller than wide"), echo pattern
(hypoechoic, homogeneous -> heterogeneous), posterior features (enhancement -> shadowing),
echogenic halo, and calcifications (punctate echogenic foci).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage
from scipy.special import expit

from alnburden.simulate.effects import EffectSizes

N_TRAIT_DRAWS = 9
_N_THETA = 1024
# Clearance (mm) kept between the mask and the image border: the peritumoral ring and
# the halo must fit inside the image.
BORDER_CLEARANCE_MM = 4.0


@dataclass(frozen=True)
class Traits:
    """Image traits of one tumour (all derived from ``z``; see :func:`draw_traits`).

    Attributes
    ----------
    lobulation : float
        Relative SD of the outline radius carried by harmonics 2-5 (macrolobulation).
    spiculation : float
        Relative height of the radial spikes (0: none).
    roughness : float
        Relative SD of the outline radius carried by harmonics 8-40 (angular margin).
    aspect : float
        Depth / width of the tumour (> 1: taller than wide).
    heterogeneity : float
        SD of the log internal reflectivity.
    echo : float
        Mean internal reflectivity relative to glandular tissue (hypoechoic < 1).
    halo : float
        Echogenic halo strength in [0, 1] (amplitude and thickness grow with it).
    posterior : float
        In (-1, 1): negative = posterior enhancement, positive = acoustic shadowing.
    n_calcifications : int
        Number of punctate echogenic foci inside the tumour.
    """

    lobulation: float
    spiculation: float
    roughness: float
    aspect: float
    heterogeneity: float
    echo: float
    halo: float
    posterior: float
    n_calcifications: int

    def to_dict(self) -> dict:
        return asdict(self)


def draw_traits(z: float, e: np.ndarray, n_calcifications: int, eff: EffectSizes) -> Traits:
    """Traits of a tumour with latent ``z`` and standard-normal residuals ``e`` (length 8).

    ``n_calcifications`` is drawn by the caller (Poisson, mean :func:`calc_rate`).
    """
    a, b = eff.image_signal, eff.image_noise

    def lin(prefix, k):
        return (getattr(eff, prefix + "_intercept") + a * getattr(eff, prefix + "_latent") * z
                + b * getattr(eff, prefix + "_noise") * e[k])

    return Traits(
        lobulation=0.015 + 0.13 * expit(lin("lobulation", 0)),
        spiculation=0.5 * expit(lin("spiculation", 1)) ** 1.5,
        roughness=0.004 + 0.045 * expit(lin("roughness", 2)),
        aspect=float(np.exp(lin("aspect", 3))),
        heterogeneity=0.08 + 0.75 * expit(lin("heterogeneity", 4)),
        echo=float(np.exp(lin("echo", 5))),
        halo=float(expit(lin("halo", 6))),
        posterior=float(np.tanh(lin("posterior", 7))),
        n_calcifications=int(n_calcifications),
    )


def calc_rate(z: float, eff: EffectSizes) -> float:
    """Poisson mean of the number of microcalcifications."""
    return float(np.exp(eff.calc_log_rate_intercept
                        + eff.image_signal * eff.calc_log_rate_latent * z))


def _harmonics(rng: np.random.Generator, theta: np.ndarray, hmin: int, hmax: int,
               power: float) -> np.ndarray:
    """Unit-SD periodic random function of ``theta`` with harmonics ``hmin..hmax``."""
    h = np.arange(hmin, hmax + 1)
    c = rng.standard_normal((2, len(h))) / h ** power
    f = c[0] @ np.cos(np.outer(h, theta)) + c[1] @ np.sin(np.outer(h, theta))
    return f / (f.std() + 1e-12)


def outline(rng: np.random.Generator, traits: Traits) -> tuple[np.ndarray, np.ndarray]:
    """Radius (relative units) of the tumour outline at ``_N_THETA`` angles, and spikes.

    Angles are measured in the tumour frame; the base shape is an ellipse with
    width 1 and depth ``traits.aspect``; the caller scales it to the tumour size.
    The second output is a ``(2, n_spikes)`` array: spike angles (rad) and heights
    (0.35-1, in units of ``traits.spiculation``).
    """
    theta = np.linspace(0, 2 * np.pi, _N_THETA, endpoint=False)
    ax, ay = 0.5, 0.5 * traits.aspect
    base = ax * ay / np.sqrt((ay * np.cos(theta)) ** 2 + (ax * np.sin(theta)) ** 2)
    lob = _harmonics(rng, theta, 2, 5, 0.5)
    rough = _harmonics(rng, theta, 8, 40, 0.6)
    n_spikes = int(rng.integers(6, 16))
    centres = rng.uniform(0, 2 * np.pi, n_spikes)
    heights = rng.uniform(0.35, 1.0, n_spikes)
    widths = rng.uniform(0.03, 0.07, n_spikes)
    d = np.angle(np.exp(1j * (theta[:, None] - centres[None, :])))
    spikes = (heights * np.exp(-np.abs(d / widths))).max(axis=1)
    rel = 1.0 + traits.lobulation * lob + traits.roughness * rough + traits.spiculation * spikes
    return base * np.clip(rel, 0.45, None), np.stack([centres, heights])


@dataclass(frozen=True)
class Placement:
    """Where the tumour sits: centre (pixels), tilt (radians), scale (pixels per unit)."""

    cy: float
    cx: float
    tilt: float
    scale: float


def extent_mm(radius: np.ndarray, tilt: float, size_mm: float) -> tuple[float, np.ndarray]:
    """Scale (mm per relative unit) giving the outline a maximal diameter ``size_mm``, and
    the outline's bounds relative to its centre, ``[xmin, xmax, ymin, ymax]`` (mm; y is
    depth, increasing downwards)."""
    theta = np.linspace(0, 2 * np.pi, _N_THETA, endpoint=False)
    half = _N_THETA // 2
    diam = (radius[:half] + radius[half:]).max()
    mm_per_unit = size_mm / diam
    ang = theta + tilt
    x = radius * np.cos(ang) * mm_per_unit
    y = radius * np.sin(ang) * mm_per_unit
    return mm_per_unit, np.array([x.min(), x.max(), y.min(), y.max()])


def rasterise(radius: np.ndarray, place: Placement, shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of the star-shaped outline (pixel centres inside the outline)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    dy, dx = yy - place.cy, xx - place.cx
    r = np.hypot(dy, dx)
    ang = (np.arctan2(dy, dx) - place.tilt) % (2 * np.pi)
    pos = ang / (2 * np.pi) * _N_THETA
    i0 = np.floor(pos).astype(int) % _N_THETA
    frac = pos - np.floor(pos)
    rr = (1 - frac) * radius[i0] + frac * radius[(i0 + 1) % _N_THETA]
    return r <= rr * place.scale


def signed_distance(mask: np.ndarray, margin: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Signed distance (pixels; negative inside) on the mask's bounding box + ``margin``."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    sl = (slice(max(ys.min() - margin, 0), min(ys.max() + margin + 1, h)),
          slice(max(xs.min() - margin, 0), min(xs.max() + margin + 1, w)))
    m = mask[sl]
    d_out = ndimage.distance_transform_edt(~m)
    d_in = ndimage.distance_transform_edt(m)
    return np.where(m, 0.5 - d_in, d_out - 0.5), sl


def spicule_rays(radius: np.ndarray, spikes: np.ndarray, place: Placement,
                 yy: np.ndarray, xx: np.ndarray, length_px: float,
                 width_px: float) -> np.ndarray:
    """Map (0-1) of thin radial lines continuing each spike beyond the outline.

    ``yy``/``xx`` are pixel coordinates (any shape); lines start at the outline, are
    ``length_px`` long (scaled by the spike height) and taper off.
    """
    dy, dx = yy - place.cy, xx - place.cx
    r = np.hypot(dy, dx)[..., None]
    ang = (np.arctan2(dy, dx) - place.tilt)[..., None]
    centres, heights = spikes
    idx = np.round(centres / (2 * np.pi) * _N_THETA).astype(int) % _N_THETA
    r0 = radius[idx] * place.scale
    d = ang - centres
    along = r * np.cos(d) - r0
    perp = np.abs(r * np.sin(d))
    length = length_px * heights
    t = along / length
    ray = np.exp(-0.5 * (perp / width_px) ** 2) * np.clip(1.0 - t, 0, 1) * (t > -0.2)
    ray *= np.cos(d) > 0
    return ray.max(axis=-1)
