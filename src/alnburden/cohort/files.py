"""File-level checks of one patient's image and mask (used by :mod:`alnburden.cohort.manifest`).

Every check is read-only: files are opened through :func:`alnburden.io.images.read_file`
(the reader under the radiomics stage's :func:`~alnburden.io.images.read_image` and
:func:`~alnburden.io.images.read_mask`) and never written. A check returns a list of
:class:`Problem` (column, problem, fix) rather than raising, so that the cohort validation
can report every problem of every row at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from alnburden.io.dicom import ImageFormatError, cine_error, is_dicom
from alnburden.io.images import (GEOMETRY_TOLERANCE, MAX_COMPONENTS, PIXEL_KINDS,
                                 UnreadableImageError, count_components,
                                 is_raster, lesion_array, plane_geometry, read_file,
                                 same_origin, same_spacing, with_ultrasound_spacing)

#: Advice for a mask that does not lie on its image's grid.
_GRID_FIX = ("save the mask on the image's grid: as a PNG of the same size, or from the image it "
             "was drawn on so that both carry the same spacing and origin")


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
    """

    problems: list[Problem] = field(default_factory=list)
    n_components: int | None = None
    image_spacing_mm: tuple[float, ...] | None = None


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


def _open(column: str, path: Path, name: str) -> tuple[sitk.Image | None, Problem | None]:
    """The stored image of ``path``, or the problem that keeps it from being read."""
    if not path.exists():
        return None, Problem(column, f"{column} file {name} not found (looked for {path})",
                             "check the file name; paths are relative to the manifest's folder")
    if path.is_dir():
        return None, Problem(
            column, f"{column} {name} is a folder, not an image file ({path})",
            f"point {column} to one image file (a DICOM series must be one file per patient)")
    try:
        return read_file(path), None
    except UnreadableImageError as exc:
        return None, Problem(
            column, f"{column} {name} cannot be read as an image ({exc.reason})",
            "re-export the file as PNG, NRRD, NIfTI or DICOM; check it opens in an image viewer")


def _channel_problem(image: sitk.Image, image_name: str) -> Problem | None:
    """More components per pixel than :func:`alnburden.io.images.read_image` converts."""
    n_channels = image.GetNumberOfComponentsPerPixel()
    if n_channels <= MAX_COMPONENTS:
        return None
    return Problem("image", f"image {image_name} has {n_channels} channels; expected {PIXEL_KINDS}",
                   "re-export the image as a greyscale or RGB PNG")


def _format_problem(column: str, name: str, exc: ImageFormatError) -> Problem:
    return Problem(column, f"{column} {name}: {exc.problem}", exc.fix)


def _frames_problem(image: sitk.Image, path: Path, image_name: str) -> Problem | None:
    """A multi-frame DICOM (cine loop): refused as :func:`alnburden.io.images.read_image`
    refuses it."""
    size = _squeeze_size(image.GetSize())
    if len(size) < 3 or not is_dicom(path):
        return None
    return _format_problem("image", image_name, cine_error(path, size[2]))


def _calibrated(column: str, image: sitk.Image, path: Path, name: str,
                lesion: np.ndarray | None, result: PairResult) -> sitk.Image | None:
    """The image with its ultrasound regions' spacing (in memory), or None after adding the
    problem of a calibration that gives no pixel size for the lesion."""
    try:
        return with_ultrasound_spacing(image, path, lesion)
    except ImageFormatError as exc:
        result.problems.append(_format_problem(column, name, exc))
        return None


def _size_problems(image: sitk.Image, mask: sitk.Image, image_name: str,
                   mask_name: str) -> list[Problem]:
    """Image and mask of different sizes, or a volume: the mask's pixels are meaningless."""
    size_i, size_m = _squeeze_size(image.GetSize()), _squeeze_size(mask.GetSize())
    if size_i != size_m:
        return [Problem("mask", f"mask {mask_name} is {_size_text(size_m)} pixels but image "
                                f"{image_name} is {_size_text(size_i)} (width x height)",
                        "export the image and its mask at the same size (same crop, no resizing)")]
    if len(size_i) > 2:
        return [Problem("image", f"image {image_name} is a volume of {_size_text(size_i)} voxels; "
                                 "alnburden measures 2D ultrasound images",
                        "export the single 2D frame that shows the tumour (and its mask)")]
    return []


def _grid_problems(image: sitk.Image, mask: sitk.Image, image_name: str, mask_name: str,
                   image_raster: bool, pixel_spacing_mm: float | None) -> list[Problem]:
    """A mask storing a geometry that is not the image's grid (spacing, origin, direction).

    The image's grid is the file's spacing and origin for an image that stores them,
    ``pixel_spacing_mm`` and origin 0 for a raster image (the way
    :func:`alnburden.io.images.read_mask` places the mask). At most one problem is given.
    """
    sp_m, or_m, dir_m = plane_geometry(mask)
    if image_raster:
        if pixel_spacing_mm is None:
            return []  # the missing spacing is reported by the caller
        sp_i, or_i, dir_i = np.full(2, float(pixel_spacing_mm)), np.zeros(2), None
        source = " (pixel_spacing_mm of the manifest)"
    else:
        sp_i, or_i, dir_i = plane_geometry(image)
        source = ""
    if not same_spacing(sp_i, sp_m):
        return [Problem("mask", f"pixel spacing of mask {mask_name} is {_mm(sp_m)} mm but "
                                f"image {image_name} has {_mm(sp_i)} mm{source}", _GRID_FIX)]
    if not same_origin(or_i, or_m, sp_i):
        return [Problem("mask", f"origin of mask {mask_name} is {_mm(or_m)} mm but image "
                                f"{image_name} has {_mm(or_i)} mm{source}", _GRID_FIX)]
    if dir_i is not None and not np.allclose(dir_i, dir_m, rtol=0, atol=GEOMETRY_TOLERANCE):
        return [Problem("mask", f"direction (orientation) of mask {mask_name} differs from "
                                f"image {image_name}", _GRID_FIX)]
    return []


def _not_binary(mask: sitk.Image, mask_name: str) -> Problem | None:
    """More than 2 distinct values in the mask (in any channel of a colour mask)."""
    arr = _plane(sitk.GetArrayViewFromImage(mask))
    channels = [arr[..., c] for c in range(arr.shape[-1])] \
        if mask.GetNumberOfComponentsPerPixel() > 1 else [arr]
    for values in (np.unique(ch) for ch in channels):
        if values.size > 2:
            return Problem(
                "mask",
                f"mask {mask_name} is not binary: {values.size} distinct values "
                f"(from {values.min():g} to {values.max():g}); a mask has at most 2 (background "
                "and lesion, e.g. 0/255 or 0/1)",
                "save the mask losslessly (PNG, not JPEG) with a single lesion value; from a "
                "label map keep only the tumour label",
            )
    return None


def _border_problem(lesion: np.ndarray, mask_name: str) -> Problem | None:
    """The lesion touches an edge of the (2D) image."""
    edges = {"top": lesion[0, :], "bottom": lesion[-1, :],
             "left": lesion[:, 0], "right": lesion[:, -1]}
    touched = [name for name, edge in edges.items() if edge.any()]
    if not touched:
        return None
    return Problem("mask", f"lesion in mask {mask_name} touches the image border "
                           f"({', '.join(touched)}), so part of the tumour may lie outside the image",
                   "use an image that shows the whole tumour with a margin, or set config "
                   "validation.allow_border_contact: true")


def _mask_problems(mask: sitk.Image, mask_name: str, result: PairResult,
                   min_lesion_pixels: int, allow_border_contact: bool) -> None:
    """Content of the mask: binary, not empty, large enough, inside the image; components."""
    not_binary = _not_binary(mask, mask_name)
    if not_binary is not None:
        result.problems.append(not_binary)
        return
    lesion = _plane(lesion_array(mask))
    n_lesion = int(np.count_nonzero(lesion))
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
    border = None if allow_border_contact or lesion.ndim != 2 else _border_problem(lesion, mask_name)
    if border is not None:
        result.problems.append(border)
    result.n_components = count_components(sitk.GetImageFromArray(lesion.astype(np.uint8)))


def check_image_pair(image_path: Path, mask_path: Path, image_name: str, mask_name: str,
                     min_lesion_pixels: int, allow_border_contact: bool,
                     pixel_spacing_mm: float | None) -> PairResult:
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
    direction) within :data:`alnburden.io.images.GEOMETRY_TOLERANCE` of a pixel. An
    ultrasound DICOM's spacing is that of its ultrasound regions holding the lesion
    (:func:`alnburden.io.images.with_ultrasound_spacing`); a calibration that gives no
    single positive pixel size in cm for the lesion, and a multi-frame DICOM (cine loop),
    are problems of the image.
    """
    result = PairResult()
    image, image_problem = _open("image", image_path, image_name)
    if image is not None:
        frames = _frames_problem(image, image_path, image_name)
        image_problem = frames or _channel_problem(image, image_name)
        image = image if frames is None else None  # a cine loop has no pair to check
    mask, mask_problem = _open("mask", mask_path, mask_name)
    result.problems += [p for p in (image_problem, mask_problem) if p is not None]
    lesion = None
    if image is not None and mask is not None:
        size = _size_problems(image, mask, image_name, mask_name)
        result.problems += size
        if size:
            return result
        lesion = _plane(lesion_array(mask))
    if image is not None:
        image = _calibrated("image", image, image_path, image_name, lesion, result)
    if image is not None and not is_raster(image_path):
        result.image_spacing_mm = tuple(float(s) for s in image.GetSpacing())
    if image is not None and mask is not None and not is_raster(mask_path):
        mask_grid = _calibrated("mask", mask, mask_path, mask_name, lesion, result)
        result.problems += [] if mask_grid is None else _grid_problems(
            image, mask_grid, image_name, mask_name, is_raster(image_path), pixel_spacing_mm)
    if mask is not None:
        _mask_problems(mask, mask_name, result, min_lesion_pixels, allow_border_contact)
    return result
