"""Image perturbations for the robustness ICC, in physical units.

After Zwanenburg et al., "Assessing robustness of radiomic features by image perturbation",
Sci Rep 9:614 (2019): each perturbation is a CHAIN applied to a patient's image and lesion
mask,

1. **rotation** about the lesion's centroid and **translation** (image and mask move
   together, re-interpolated on the original grid: B-spline for the image, linear
   interpolation of the mask's signed distance map for the mask);
2. **noise addition**: Gaussian noise of SD ``noise_sd`` x the image's intensity SD;
3. **contour randomisation**: the contour moves by a smooth random field of SD
   ``contour_sd_mm`` mm and correlation length ``contour_smoothing_mm`` mm (neighbouring
   contour points move together, as an annotator's hand does);
4. **volume adaptation**: the mask grows or shrinks so that its area changes by a fraction
   ``volume`` of the (rotated) original area (exactly, to the pixel).

Every amount is in mm, degrees or a fraction, never in pixels, so it means the same on any
scanner's pixel spacing. :meth:`PerturbationSettings.draw` draws each perturbation's amounts
from a random generator (seeded per patient by
:func:`alnburden.extraction.robustness.patient_rng`); :func:`apply_perturbation` applies
them. The Dice of each perturbed mask is measured against the original mask carried through
the same rotation and translation (:func:`apply_perturbation`), so it measures the
segmentation change, not the rigid motion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage


@dataclass(frozen=True)
class Perturbation:
    """The amounts of one perturbation (one "rater" of the robustness ICC).

    Attributes
    ----------
    rotation_deg
        Rotation about the lesion's centroid (degrees, counter-clockwise in the image plane).
    translation_mm
        Shift of image and mask (mm, x then y).
    volume
        Relative change of the lesion's area (``0.1`` = +10 %).
    contour_sd_mm, contour_smoothing_mm
        SD (mm) and correlation length (mm) of the contour displacement field.
    noise_sd
        SD of the added Gaussian noise, as a fraction of the image's intensity SD.
    """

    rotation_deg: float = 0.0
    translation_mm: tuple[float, float] = (0.0, 0.0)
    volume: float = 0.0
    contour_sd_mm: float = 0.0
    contour_smoothing_mm: float = 2.0
    noise_sd: float = 0.0

    def as_row(self) -> dict[str, float]:
        """Flat dict for the perturbations table (``translation_x_mm``, ``translation_y_mm``)."""
        row = asdict(self)
        tx, ty = row.pop("translation_mm")
        return {**row, "translation_x_mm": float(tx), "translation_y_mm": float(ty)}


@dataclass(frozen=True)
class PerturbationSettings:
    """Ranges of the perturbation chain (``radiomics.robustness.perturbation`` in the config).

    Parameters
    ----------
    rotation_deg
        Largest rotation (degrees): angles are drawn uniformly in ``[-rotation_deg, +rotation_deg]``.
    translation_mm
        Largest shift per axis (mm), drawn uniformly in ``[-translation_mm, +translation_mm]``.
    volume
        Largest relative area change: the ``n`` perturbations get areas evenly spaced in
        ``[-volume, +volume]`` (``n = 4``, ``volume = 0.1``: -10 %, -3.3 %, +3.3 %, +10 %), so
        growing and shrinking are balanced whatever the seed.
    contour_sd_mm, contour_smoothing_mm
        SD and correlation length (mm) of the contour randomisation field.
    noise_sd
        SD of the added noise as a fraction of the image's intensity SD (0 = none).

    The defaults here are the config schema's (``tests/test_robustness.py`` checks it).
    """

    rotation_deg: float = 5.0
    translation_mm: float = 0.5
    volume: float = 0.1
    contour_sd_mm: float = 1.0
    contour_smoothing_mm: float = 2.0
    noise_sd: float = 0.05

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"perturbation setting {name}={value!r} must be a finite "
                                 "number >= 0")
        if self.volume >= 1:
            raise ValueError(f"perturbation volume={self.volume} must be < 1 (a fraction of the "
                             "lesion's area, e.g. 0.1 for +-10 %)")
        if self.contour_smoothing_mm <= 0:
            raise ValueError("perturbation contour_smoothing_mm must be > 0 (e.g. 2)")

    def draw(self, n: int, rng: np.random.Generator) -> list[Perturbation]:
        """``n`` perturbations: random rotations and shifts, evenly spaced area changes.

        Raises
        ------
        ValueError
            ``n < 1``.
        """
        if n < 1:
            raise ValueError(f"n_perturbations={n} must be >= 1")
        volumes = np.linspace(-self.volume, self.volume, n) if n > 1 else np.zeros(1)
        out = []
        for i in range(n):
            angle = rng.uniform(-self.rotation_deg, self.rotation_deg)
            shift = rng.uniform(-self.translation_mm, self.translation_mm, size=2)
            out.append(Perturbation(rotation_deg=float(angle),
                                    translation_mm=(float(shift[0]), float(shift[1])),
                                    volume=float(volumes[i]), contour_sd_mm=self.contour_sd_mm,
                                    contour_smoothing_mm=self.contour_smoothing_mm,
                                    noise_sd=self.noise_sd))
        return out


def signed_distance_mm(mask: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    """Signed distance (mm) of every pixel to the contour of ``mask``: negative inside.

    The contour lies halfway between the last inside and the first outside pixel, so a
    threshold at 0 gives ``mask`` back.

    Parameters
    ----------
    mask
        2-D boolean array (rows = y).
    spacing
        Pixel size (mm) along the array's axes (row, column).
    """
    m = np.asarray(mask, dtype=bool)
    outside = ndimage.distance_transform_edt(~m, sampling=spacing)
    inside = ndimage.distance_transform_edt(m, sampling=spacing)
    half = 0.5 * min(spacing)
    return np.where(m, -inside + half, outside - half)


def smooth_field_mm(shape: tuple[int, int], spacing: tuple[float, float], sd_mm: float,
                    smoothing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian random field (mm): white noise smoothed with a Gaussian of SD
    ``smoothing_mm`` mm, rescaled to SD ``sd_mm`` (zeros when ``sd_mm`` is 0)."""
    white = rng.standard_normal(shape)
    if sd_mm == 0:
        return np.zeros(shape)
    sigma_px = [smoothing_mm / s for s in spacing]
    field = ndimage.gaussian_filter(white, sigma_px, mode="reflect")
    sd = field.std()
    return field / sd * sd_mm if sd > 0 else field


def adapt_volume(score: np.ndarray, n_pixels: int) -> np.ndarray:
    """The ``n_pixels`` pixels of lowest ``score`` (ties broken in raster order).

    With ``score`` a signed distance (negative inside), this grows or shrinks a mask to an
    exact area.
    """
    flat = score.ravel()
    n_pixels = int(np.clip(n_pixels, 0, flat.size))
    out = np.zeros(flat.size, dtype=bool)
    out[np.argsort(flat, kind="stable")[:n_pixels]] = True
    return out.reshape(score.shape)


def _rigid(image: sitk.Image, mask: np.ndarray, p: Perturbation) -> sitk.Transform:
    """Rotation about the lesion's physical centroid plus translation (maps output to input)."""
    rows, cols = np.nonzero(mask)
    centre = image.TransformContinuousIndexToPhysicalPoint((float(cols.mean()), float(rows.mean())))
    t = sitk.Euler2DTransform()
    t.SetCenter(centre)
    t.SetAngle(np.deg2rad(p.rotation_deg))
    t.SetTranslation(tuple(float(v) for v in p.translation_mm))
    return t


def _resample(image: sitk.Image, transform: sitk.Transform, interpolator) -> sitk.Image:
    f = sitk.ResampleImageFilter()
    f.SetReferenceImage(image)
    f.SetTransform(transform)
    f.SetInterpolator(interpolator)
    f.SetUseNearestNeighborExtrapolator(True)
    return f.Execute(image)


def dice_array(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two boolean arrays (NaN when both are empty)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    total = a.sum() + b.sum()
    return float(2 * np.logical_and(a, b).sum() / total) if total else float("nan")


def apply_perturbation(image: sitk.Image, mask: sitk.Image, p: Perturbation,
                       rng: np.random.Generator) -> tuple[sitk.Image, sitk.Image, dict]:
    """Apply one perturbation chain to a 2-D image and its lesion mask.

    Parameters
    ----------
    image
        Grey-level image (float), spacing in mm.
    mask
        Lesion mask on the image's grid (non-zero = lesion).
    p
        The amounts (:meth:`PerturbationSettings.draw`).
    rng
        Draws the noise and the contour field.

    Returns
    -------
    (image, mask, info)
        The perturbed image (float32) and mask (uint8 0/1) on the original grid, and
        ``info``: ``dice`` (perturbed mask vs the original mask moved by the same rotation and
        translation), ``area_change`` (relative to the original mask), ``pixels``.

    Raises
    ------
    ValueError
        When the perturbed mask has fewer than 2 pixels (lesion too small).
    """
    arr = sitk.GetArrayFromImage(mask) != 0
    if arr.ndim != 2 or not arr.any():
        raise ValueError("perturbation needs a non-empty 2-D mask")
    spacing_rc = tuple(float(s) for s in reversed(mask.GetSpacing()))  # (row, column)
    transform = _rigid(image, arr, p)

    # 1. rotation + translation: image by B-spline, mask through its signed distance map
    img = sitk.Cast(image, sitk.sitkFloat32)
    moved = _resample(img, transform, sitk.sitkBSpline) if _moves(p) else img
    dist = sitk.GetImageFromArray(signed_distance_mm(arr, spacing_rc).astype(np.float64))
    dist.CopyInformation(mask)
    dist_moved = sitk.GetArrayFromImage(_resample(dist, transform, sitk.sitkLinear)
                                        if _moves(p) else dist)
    reference = dist_moved < 0

    # 2. noise, as a fraction of the image's intensity SD
    pixels = sitk.GetArrayFromImage(moved).astype(np.float64)
    noise = rng.standard_normal(pixels.shape)
    if p.noise_sd > 0:
        pixels = pixels + noise * p.noise_sd * float(sitk.GetArrayViewFromImage(img).std())

    # 3. + 4. contour randomisation, then the area set exactly
    field = smooth_field_mm(arr.shape, spacing_rc, p.contour_sd_mm, p.contour_smoothing_mm, rng)
    target = int(round((1 + p.volume) * reference.sum()))
    new = adapt_volume(dist_moved - field, target)
    if new.sum() < 2:
        raise ValueError(f"the perturbed mask has {int(new.sum())} pixel(s) of "
                         f"{int(arr.sum())}; the lesion is too small for the robustness step")

    out_image = sitk.GetImageFromArray(pixels.astype(np.float32))
    out_image.CopyInformation(image)
    out_mask = sitk.GetImageFromArray(new.astype(np.uint8))
    out_mask.CopyInformation(mask)
    info = {"dice": dice_array(new, reference), "area_change": float(new.sum() / arr.sum() - 1),
            "pixels": int(new.sum())}
    return out_image, out_mask, info


def _moves(p: Perturbation) -> bool:
    return p.rotation_deg != 0 or any(v != 0 for v in p.translation_mm)
