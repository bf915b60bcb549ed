"""File-level checks of one patient's image and mask (used by :mod:`alnburden.cohort.manifest`).

Every check is read-only: files are opened with SimpleITK and never written. A check
returns a list of :class:`Problem` (column, problem, fix) rather than raising, so that the
cohort validation can report every problem of every row at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

logger = logging.getLogger(__name__)

#: File suffixes whose format stores no physical pixel size (SimpleITK reports 1.0):
#: for these the manifest's ``pixel_spacing_mm`` is required.
NO_SPACING_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")

#: Relative tolerance on spacing, origin (relative to the image's spacing) and direction
#: when comparing the geometry of an image and its mask.
GEOMETRY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Problem:
    """One problem of one manifest row: the column at fault, what is wrong, how to fix it."""

    column: str
    problem: str
    fix: str


@dataclass
class PairResult:
    """Outcome of :func:`check_image_pair`.

    Attributes
    ----------
    problems
        Every problem found (empty when the pair is usable).
    n_components
        Connected components (8-connectivity in 2D) of the lesion, or None when the mask
        could not be assessed.
    image_spacing_mm
        Spacing stored in the image file (mm), or None for formats without spacing.
    lesion_pixels
        Number of lesion (non-zero) pixels, or None when the mask could not be read.
    """

    problems: list[Problem] = field(default_factory=list)
    n_components: int | None = None
    image_spacing_mm: tuple[float, ...] | None = None
    lesion_pixels: int | None = None


def carries_spacing(path: str | Path) -> bool:
    """Whether the file format stores a physical pixel size (NRRD, NIfTI, DICOM, MHA...).

    Decided by the file name: PNG, JPEG, BMP, TIFF and GIF do not (see
    :data:`NO_SPACING_SUFFIXES`); everything else SimpleITK reads does.
    """
    return not str(path).lower().endswith(NO_SPACING_SUFFIXES)


def _sitk_reason(exc: Exception) -> str:
    """The useful line of a SimpleITK exception (drops the C++ source location)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    msg = lines[-1] if lines else type(exc).__name__
    return msg.replace("sitk::ERROR: ", "")


def read_image(path: str | Path) -> sitk.Image:
    """Read an image with SimpleITK (read-only).

    Raises
    ------
    OSError
        When SimpleITK cannot read the file; the message gives SimpleITK's reason.
    """
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:  # SimpleITK raises RuntimeError for every read failure
        raise OSError(_sitk_reason(exc)) from exc


def _size_text(size: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in size)


def _mm(values) -> str:
    return "(" + ", ".join(f"{float(v):.6g}" for v in values) + ")"


def _squeeze_size(size: tuple[int, ...]) -> tuple[int, ...]:
    """Size without trailing singleton dimensions (a 2D image saved as W x H x 1 is 2D)."""
    out = list(size)
    while len(out) > 2 and out[-1] == 1:
        out.pop()
    return tuple(out)


def _plane(arr: np.ndarray) -> np.ndarray:
    """The 2D plane of an array from ``sitk.GetArrayViewFromImage`` (drops singleton z)."""
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def _plane_geometry(image: sitk.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-plane spacing (2,), origin (2,) and direction (2, 2) of a 2D or W x H x 1 image."""
    dim = image.GetDimension()
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(dim, dim)[:2, :2]
    return (np.asarray(image.GetSpacing()[:2], dtype=float),
            np.asarray(image.GetOrigin()[:2], dtype=float), direction)


def _geometry_problems(image: sitk.Image, mask: sitk.Image, image_name: str, mask_name: str,
                       image_raster: bool, mask_raster: bool,
                       pixel_spacing_mm: float | None) -> tuple[list[Problem], bool]:
    """Geometry problems, and whether they make the mask's pixels meaningless (size).

    A raster mask (PNG...) takes the image's grid, so only its size matters. A mask that
    stores a geometry (NRRD, NIfTI...) must lie on the image's grid: the file's spacing and
    origin for an image that stores them, ``pixel_spacing_mm`` and origin 0 for a raster
    image (the way :func:`alnburden.io.images.read_mask` places it).
    """
    out: list[Problem] = []
    size_i, size_m = _squeeze_size(image.GetSize()), _squeeze_size(mask.GetSize())
    if size_i != size_m:
        out.append(Problem(
            "mask",
            f"mask {mask_name} is {_size_text(size_m)} pixels but image {image_name} is "
            f"{_size_text(size_i)} (width x height)",
            "export the image and its mask at the same size (same crop, no resizing)",
        ))
        return out, True
    if len(size_i) > 2:
        out.append(Problem(
            "image",
            f"image {image_name} is a volume of {_size_text(size_i)} voxels; alnburden measures "
            "2D ultrasound images",
            "export the single 2D frame that shows the tumour (and its mask)",
        ))
        return out, True
    if mask_raster:
        return out, False
    sp_m, or_m, dir_m = _plane_geometry(mask)
    if image_raster:
        if pixel_spacing_mm is None:
            return out, False  # the missing spacing is reported by the caller
        sp_i, or_i, dir_i = np.full(2, float(pixel_spacing_mm)), np.zeros(2), None
        source = " (pixel_spacing_mm of the manifest)"
    else:
        sp_i, or_i, dir_i = _plane_geometry(image)
        source = ""
    fix = ("save the mask on the image's grid: as a PNG of the same size, or from the image it "
           "was drawn on so that both carry the same spacing and origin")
    tol = GEOMETRY_TOLERANCE * float(np.min(sp_i))
    if not np.allclose(sp_i, sp_m, rtol=GEOMETRY_TOLERANCE, atol=0):
        out.append(Problem("mask", f"pixel spacing of mask {mask_name} is {_mm(sp_m)} mm but "
                                   f"image {image_name} has {_mm(sp_i)} mm{source}", fix))
    elif not np.allclose(or_i, or_m, rtol=0, atol=tol):
        out.append(Problem("mask", f"origin of mask {mask_name} is {_mm(or_m)} mm but image "
                                   f"{image_name} has {_mm(or_i)} mm{source}", fix))
    elif dir_i is not None and not np.allclose(dir_i, dir_m, rtol=0, atol=GEOMETRY_TOLERANCE):
        out.append(Problem("mask", f"direction (orientation) of mask {mask_name} differs from "
                                   f"image {image_name}", fix))
    return out, False


def _mask_problems(mask: sitk.Image, mask_name: str, result: PairResult,
                   min_lesion_pixels: int, allow_border_contact: bool) -> None:
    arr = _plane(sitk.GetArrayViewFromImage(mask))
    channels = [arr[..., c] for c in range(arr.shape[-1])] \
        if mask.GetNumberOfComponentsPerPixel() > 1 else [arr]
    for values in (np.unique(ch) for ch in channels):
        if values.size > 2:
            result.problems.append(Problem(
                "mask",
                f"mask {mask_name} is not binary: {values.size} distinct values "
                f"(from {values.min():g} to {values.max():g}); a mask has at most 2 (background "
                "and lesion, e.g. 0/255 or 0/1)",
                "save the mask losslessly (PNG, not JPEG) with a single lesion value; from a "
                "label map keep only the tumour label",
            ))
            return
    lesion = np.any(arr != 0, axis=-1) if len(channels) > 1 else arr != 0
    n_lesion = int(np.count_nonzero(lesion))
    result.lesion_pixels = n_lesion
    if n_lesion == 0:
        result.problems.append(Problem(
            "mask", f"mask {mask_name} is empty (no non-zero pixel)",
            "segment the tumour (non-zero pixels = lesion) or remove the patient from the manifest",
        ))
        return
    if n_lesion < min_lesion_pixels:
        result.problems.append(Problem(
            "mask",
            f"lesion in mask {mask_name} is too small: {n_lesion} pixels < "
            f"min_lesion_pixels = {min_lesion_pixels}",
            "check the segmentation; to study smaller lesions lower config "
            "validation.min_lesion_pixels (texture features need enough pixels)",
        ))
    if not allow_border_contact and lesion.ndim == 2:
        edges = {"top": lesion[0, :], "bottom": lesion[-1, :],
                 "left": lesion[:, 0], "right": lesion[:, -1]}
        touched = [name for name, edge in edges.items() if edge.any()]
        if touched:
            result.problems.append(Problem(
                "mask",
                f"lesion in mask {mask_name} touches the image border ({', '.join(touched)}), "
                "so part of the tumour may lie outside the image",
                "use an image that shows the whole tumour with a margin, or set config "
                "validation.allow_border_contact: true",
            ))
    structure = np.ones((3,) * lesion.ndim, dtype=bool)
    result.n_components = int(ndimage.label(lesion, structure=structure)[1])


def check_image_pair(image_path: Path, mask_path: Path, image_name: str, mask_name: str,
                     min_lesion_pixels: int = 64, allow_border_contact: bool = False,
                     pixel_spacing_mm: float | None = None) -> PairResult:
    """Check one patient's image and mask files.

    Parameters
    ----------
    image_path, mask_path
        Absolute paths of the files (their existence is checked here).
    image_name, mask_name
        The paths as written in the manifest (used in messages).
    min_lesion_pixels
        Smallest accepted lesion area (pixels).
    allow_border_contact
        Accept a lesion touching the image border.
    pixel_spacing_mm
        The manifest's pixel size (mm), used as the grid of a raster image when the mask
        stores a geometry; None when not given.

    Returns
    -------
    PairResult
        Problems found, connected components of the lesion and the image's stored spacing.

    Notes
    -----
    The image's pixel values are not checked (grey, grey+alpha, RGB and RGBA images are
    accepted: :func:`alnburden.io.images.read_image` converts them to luminance); only its
    readability, channels and geometry. A mask is binary when it holds at most 2 distinct
    values (per channel for a colour mask); any non-zero value (in any channel) is lesion,
    as in :func:`alnburden.io.images.read_mask`. Components use 8-connectivity (2D). A mask
    that stores a geometry (not PNG/JPEG) must match the image's spacing and origin (and
    direction) within :data:`GEOMETRY_TOLERANCE` of a pixel.
    """
    result = PairResult()
    image = mask = None
    for column, path, name in (("image", image_path, image_name), ("mask", mask_path, mask_name)):
        if not path.exists():
            result.problems.append(Problem(
                column, f"{column} file {name} not found (looked for {path})",
                "check the file name; paths are relative to the manifest's folder",
            ))
            continue
        if path.is_dir():
            result.problems.append(Problem(
                column, f"{column} {name} is a folder, not an image file ({path})",
                f"point {column} to one image file (a DICOM series must be one file per patient)",
            ))
            continue
        try:
            img = read_image(path)
        except OSError as exc:
            result.problems.append(Problem(
                column, f"{column} {name} cannot be read as an image ({exc})",
                "re-export the file as PNG, NRRD, NIfTI or DICOM; check it opens in an image viewer",
            ))
            continue
        if column == "image":
            n_channels = img.GetNumberOfComponentsPerPixel()
            if n_channels > 4:
                result.problems.append(Problem(
                    column, f"image {name} has {n_channels} channels; expected grey (1), "
                    "grey+alpha (2), RGB (3) or RGBA (4)",
                    "re-export the image as a greyscale or RGB PNG",
                ))
            image = img
        else:
            mask = img
    if image is not None and carries_spacing(image_path):
        result.image_spacing_mm = tuple(float(s) for s in image.GetSpacing())
    geometry_ok = True
    if image is not None and mask is not None:
        geo, blocking = _geometry_problems(image, mask, image_name, mask_name,
                                           not carries_spacing(image_path),
                                           not carries_spacing(mask_path), pixel_spacing_mm)
        result.problems.extend(geo)
        geometry_ok = not blocking
    if mask is not None and geometry_ok:
        _mask_problems(mask, mask_name, result, min_lesion_pixels, allow_border_contact)
    return result
