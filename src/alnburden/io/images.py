"""Reading ultrasound images and lesion masks as 2-D SimpleITK images.

Every image enters the radiomics stage through :func:`read_image` (2-D, float32, physical
pixel spacing in mm) and every mask through :func:`read_mask` (2-D, uint8, 0/1, on the
image's grid), both read by :func:`read_pair`, so that pyradiomics always sees the same kind
of input whatever the file format the user brought (PNG/JPEG grey or RGB, DICOM, NRRD,
NIfTI, MetaImage...). An ultrasound DICOM's pixel size comes from its Sequence of
Ultrasound Regions, the regions holding the lesion (:func:`with_ultrasound_spacing`,
:mod:`alnburden.io.dicom`); a cine loop is refused.

The cohort's file checks (:mod:`alnburden.cohort.files`) read through the same module: the
file as stored (:func:`read_file`), which formats carry a spacing (:func:`is_raster`), the
in-plane geometry (:func:`plane_geometry`) and its tolerances (:func:`same_spacing`,
:func:`same_origin`), and which pixels are lesion (:func:`lesion_array`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from alnburden.io.dicom import cine_error, is_dicom, ultrasound_spacing

logger = logging.getLogger(__name__)

#: Raster formats whose files carry no trustworthy physical pixel spacing (SimpleITK
#: reports 1.0): the spacing must come from the manifest (``pixel_spacing_mm``).
RASTER_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"})

#: Relative tolerance on pixel spacings, tolerance on origins as a fraction of the smallest
#: pixel spacing, and absolute tolerance on direction cosines, when two geometries (or a
#: file and the manifest) are compared.
GEOMETRY_TOLERANCE = 1e-4

#: ITU-R BT.601 luma weights (R, G, B) used to turn colour exports into grey levels.
LUMA_601 = (0.299, 0.587, 0.114)

#: Most components per pixel an image may have, and what the accepted counts mean.
MAX_COMPONENTS = 4
PIXEL_KINDS = "grey (1), grey+alpha (2), RGB (3) or RGBA (4)"

#: Connected-component policies for masks with several lesions/islands.
COMPONENT_POLICIES = ("keep_all", "largest")


class UnreadableImageError(ValueError):
    """SimpleITK cannot read a file.

    Attributes
    ----------
    path : Path
        The file.
    reason : str
        SimpleITK's explanation (its last message line, without the C++ location).
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: SimpleITK cannot read this file ({reason}); export it as "
                         "PNG, NRRD or NIfTI")

    def __reduce__(self):  # keep the exception picklable (multiprocessing, Snakemake)
        return (type(self), (self.path, self.reason))


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def is_raster(path: str | Path) -> bool:
    """Whether the file format stores no physical pixel size (see :data:`RASTER_SUFFIXES`).

    Decided by the file name (case-insensitive): PNG, JPEG, BMP, GIF and TIFF are raster;
    DICOM, NRRD, NIfTI, MetaImage and everything else SimpleITK reads store a spacing.
    """
    return _suffix(Path(path)) in RASTER_SUFFIXES


def _sitk_reason(exc: Exception) -> str:
    """The useful line of a SimpleITK exception (drops the C++ source location)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    msg = lines[-1] if lines else type(exc).__name__
    return msg.replace("sitk::ERROR: ", "")


def read_file(path: str | Path) -> sitk.Image:
    """Read a file as SimpleITK stores it: any dimension, any components, no conversion.

    The low-level reader under :func:`read_image` and :func:`read_mask`, for checks that
    need the stored image (its size, channels and geometry). Read-only.

    Raises
    ------
    UnreadableImageError
        SimpleITK cannot read the file (a folder, not an image, an unknown format); the
        error's ``reason`` is SimpleITK's own.
    """
    path = Path(path)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as err:  # SimpleITK raises RuntimeError for every read failure
        raise UnreadableImageError(path, _sitk_reason(err)) from err


def plane_geometry(image: sitk.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-plane spacing (2,) in mm, origin (2,) in mm and direction (2, 2) of an image.

    For a 3-D image (e.g. a W x H x 1 NIfTI slice) the first two axes are taken.
    """
    dim = image.GetDimension()
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(dim, dim)[:2, :2]
    return (np.asarray(image.GetSpacing()[:2], dtype=float),
            np.asarray(image.GetOrigin()[:2], dtype=float), direction)


def same_spacing(spacing: Sequence[float], reference: Sequence[float] | float) -> bool:
    """Whether a pixel spacing (mm) agrees with ``reference`` within :data:`GEOMETRY_TOLERANCE`
    (relative to ``reference``)."""
    return bool(np.allclose(spacing, reference, rtol=GEOMETRY_TOLERANCE, atol=0))


def same_origin(origin: Sequence[float], reference: Sequence[float],
                spacing: Sequence[float]) -> bool:
    """Whether two origins (mm) agree within :data:`GEOMETRY_TOLERANCE` of the smallest
    pixel spacing ``spacing`` (mm)."""
    tol = GEOMETRY_TOLERANCE * float(np.min(spacing))
    return bool(np.allclose(origin, reference, rtol=0, atol=tol))


def lesion_array(mask: sitk.Image) -> np.ndarray:
    """Lesion pixels of a mask as a boolean array: any non-zero value, in any channel of a
    colour mask. Shape: the mask's array without the channel axis (rows x cols in 2-D)."""
    arr = sitk.GetArrayViewFromImage(mask)
    if mask.GetNumberOfComponentsPerPixel() > 1:
        return np.any(arr != 0, axis=-1)
    return arr != 0


def _to_2d(image: sitk.Image, path: Path) -> sitk.Image:
    """Drop a singleton third dimension (single-frame DICOM, 1-slice NIfTI); refuse a
    multi-frame DICOM (cine loop) with :func:`alnburden.io.dicom.cine_error`."""
    if image.GetDimension() == 2:
        return image
    if image.GetDimension() == 3 and image.GetSize()[2] == 1:
        return image[:, :, 0]
    if image.GetDimension() == 3 and is_dicom(path):
        raise cine_error(path, image.GetSize()[2])
    raise ValueError(
        f"{path}: image of size {image.GetSize()} is not 2-D; export one 2-D frame per patient "
        "(a single B-mode frame, or a volume with exactly one slice)")


def _read(path: str | Path) -> tuple[sitk.Image, Path]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found; check the manifest path (relative to "
                                "the manifest's folder)")
    return _to_2d(read_file(path), path), path


def _luminance(image: sitk.Image, path: Path) -> np.ndarray:
    """Grey levels (float64 array, rows x cols) of a scalar or vector image."""
    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    n = image.GetNumberOfComponentsPerPixel()
    if n == 1:
        return arr
    if n > MAX_COMPONENTS:
        raise ValueError(f"{path}: {n} components per pixel; expected {PIXEL_KINDS}")
    if n == 2:  # grey + alpha
        return arr[..., 0]
    r, g, b = (arr[..., i] for i in range(3))  # RGB / RGBA: alpha is ignored
    return LUMA_601[0] * r + LUMA_601[1] * g + LUMA_601[2] * b


def with_ultrasound_spacing(image: sitk.Image, path: str | Path,
                            lesion: np.ndarray | None = None) -> sitk.Image:
    """``image`` (as read from ``path``) with the pixel spacing of its ultrasound regions.

    For an ultrasound DICOM the in-plane spacing becomes PhysicalDeltaX/Y of the regions
    holding ``lesion`` (cm x 10 = mm; :func:`alnburden.io.dicom.ultrasound_spacing`); any
    other file is returned unchanged. Only the image in memory changes, never the file.

    Parameters
    ----------
    image
        The image SimpleITK read from ``path`` (:func:`read_file`); 2-D or W x H x 1.
    path
        Its file.
    lesion
        Lesion pixels (boolean, rows x columns), or None: every region must then agree (as
        when the lesion's shape is not the image's; the size mismatch is reported by
        :func:`read_mask`).

    Raises
    ------
    ImageFormatError
        The file's ultrasound calibration gives no single positive pixel size in cm for
        the lesion (see :func:`alnburden.io.dicom.ultrasound_spacing`).
    """
    if lesion is not None and lesion.shape != tuple(image.GetSize()[1::-1]):
        lesion = None
    spacing = ultrasound_spacing(path, lesion, rtol=GEOMETRY_TOLERANCE)
    if spacing is None:
        return image
    out = sitk.Image(image)
    out.SetSpacing((*spacing, *image.GetSpacing()[2:]))
    return out


def read_image(path: str | Path, spacing_mm: float | None = None,
               lesion: np.ndarray | None = None) -> sitk.Image:
    """Read one ultrasound image as a 2-D float32 SimpleITK image with spacing in mm.

    Parameters
    ----------
    path
        Image file (anything SimpleITK reads). Colour images (RGB/RGBA) are converted to
        luminance with the ITU-R BT.601 weights 0.299 R + 0.587 G + 0.114 B (alpha ignored),
        so a grey image and its RGB copy give identical pixels. A YBR_FULL or YBR_FULL_422
        DICOM (native or JPEG) is decoded to RGB by SimpleITK (GDCM), so its grey level is
        the stored luma Y (to within rounding of the YBR -> RGB conversion).
    spacing_mm
        Isotropic in-plane pixel spacing (mm). Required for raster formats (PNG, JPEG, BMP,
        GIF, TIFF), which carry no reliable spacing; for formats that store a spacing
        (DICOM, NRRD, NIfTI, MetaImage) it may be omitted and, if given, must agree with the
        file (relative tolerance :data:`GEOMETRY_TOLERANCE`). An ultrasound DICOM's spacing
        is that of its ultrasound regions (:func:`with_ultrasound_spacing`), else its
        PixelSpacing.
    lesion
        Lesion pixels (boolean, rows x columns) choosing the ultrasound regions that give a
        DICOM's spacing; None: every region. :func:`read_pair` passes the mask's.

    Returns
    -------
    SimpleITK.Image
        2-D, ``sitkFloat32``; origin and direction from the file (raster: origin 0,
        identity direction).

    Raises
    ------
    FileNotFoundError
        ``path`` is not a file.
    UnreadableImageError
        SimpleITK cannot read it (a :class:`ValueError`).
    ImageFormatError
        A cine loop, or an ultrasound calibration that gives no pixel size for the lesion.
    ValueError
        When no spacing is available, the spacing is not positive, the file disagrees with
        ``spacing_mm``, the image is not 2-D or has more than :data:`MAX_COMPONENTS`
        components per pixel.
    """
    image, path = _read(path)
    image = with_ultrasound_spacing(image, path, lesion)
    arr = _luminance(image, path).astype(np.float32)
    out = sitk.GetImageFromArray(arr)
    if spacing_mm is not None:
        spacing_mm = float(spacing_mm)
        if not np.isfinite(spacing_mm) or spacing_mm <= 0:
            raise ValueError(f"{path}: pixel spacing {spacing_mm!r} mm is not a positive number; "
                             "give pixel_spacing_mm in mm, e.g. 0.1")
    if is_raster(path):
        if spacing_mm is None:
            raise ValueError(f"{path}: {_suffix(path)} files carry no pixel spacing; give "
                             "pixel_spacing_mm (mm) in the manifest for this image")
        out.SetSpacing((spacing_mm, spacing_mm))
        return out
    file_spacing, origin, direction = plane_geometry(image)
    if spacing_mm is not None and not same_spacing(file_spacing, spacing_mm):
        raise ValueError(f"{path}: the file says pixel spacing {tuple(file_spacing)} mm but the "
                         f"manifest says {spacing_mm} mm; correct pixel_spacing_mm or leave it empty")
    out.SetSpacing(tuple(file_spacing))
    out.SetOrigin(tuple(origin))
    out.SetDirection(tuple(direction.ravel()))
    return out


def _component_labels(mask: sitk.Image) -> np.ndarray:
    """Label array of the 8-connected (2-D, ``fullyConnected``) components of a mask's
    non-zero pixels: 0 background, 1..n the components."""
    cc = sitk.ConnectedComponent(sitk.Cast(mask != 0, sitk.sitkUInt8), True)
    return sitk.GetArrayFromImage(cc)


def count_components(mask: sitk.Image) -> int:
    """Number of 8-connected components (2-D, ``fullyConnected``) of a binary mask."""
    return int(_component_labels(mask).max())


def apply_component_policy(mask: sitk.Image, policy: str = "keep_all") -> tuple[sitk.Image, int]:
    """Apply the connected-components policy to a binary mask.

    Parameters
    ----------
    mask
        Binary uint8 mask (0/1).
    policy
        ``"keep_all"`` keeps every component (the lesion may be multifocal or cut by a
        shadow); ``"largest"`` keeps the largest 8-connected component (ties: lowest label).

    Returns
    -------
    (mask, n_components)
        The (possibly reduced) mask and the number of components of the INPUT mask.
    """
    if policy not in COMPONENT_POLICIES:
        raise ValueError(f"components policy {policy!r} is unknown; use one of {COMPONENT_POLICIES}")
    labels = _component_labels(mask)
    n = int(labels.max())
    if policy == "keep_all" or n <= 1:
        return mask, n
    counts = np.bincount(labels.ravel())[1:]
    keep = (labels == int(np.argmax(counts)) + 1).astype(np.uint8)
    out = sitk.GetImageFromArray(keep)
    out.CopyInformation(mask)
    return out, n


def read_mask(path: str | Path, reference: sitk.Image, image_path: str | Path | None = None,
              components: str = "keep_all") -> sitk.Image:
    """Read a lesion mask onto the grid of ``reference`` (any non-zero pixel = lesion).

    Parameters
    ----------
    path
        Mask file. Colour masks count a pixel as lesion when any channel is non-zero.
    reference
        The image (from :func:`read_image`) the mask belongs to. Raster masks (PNG...) take
        its geometry; other formats must match its size, spacing and origin (tolerance
        :data:`GEOMETRY_TOLERANCE`).
    image_path
        File name of ``reference``, only used in error messages.
    components
        Connected-components policy, see :func:`apply_component_policy`. The number of
        components is logged at DEBUG level (use :func:`count_components` to get it).

    Returns
    -------
    SimpleITK.Image
        2-D ``sitkUInt8`` mask with values 0/1 and the geometry of ``reference``.

    Raises
    ------
    FileNotFoundError, UnreadableImageError
        As :func:`read_image`.
    ValueError
        Size or geometry mismatch (naming both files and both sizes), or an empty mask.
    """
    mask, path = _read(path)
    image_name = image_path if image_path is not None else "the image"
    binary = lesion_array(mask).astype(np.uint8)
    mask = with_ultrasound_spacing(mask, path, binary.astype(bool))
    ref_size = reference.GetSize()
    size = binary.shape[::-1]
    if tuple(size) != tuple(ref_size):
        raise ValueError(f"mask {path} is {size[0]}x{size[1]} pixels but image {image_name} is "
                         f"{ref_size[0]}x{ref_size[1]}; export both at the same size")
    if not is_raster(path):
        spacing = reference.GetSpacing()
        if not (same_spacing(mask.GetSpacing()[:2], spacing)
                and same_origin(mask.GetOrigin()[:2], reference.GetOrigin(), spacing)):
            raise ValueError(
                f"mask {path} (spacing {mask.GetSpacing()[:2]}, origin {mask.GetOrigin()[:2]}) and "
                f"image {image_name} (spacing {reference.GetSpacing()}, origin {reference.GetOrigin()}) "
                "do not occupy the same physical space; export the mask on the image's grid")
    if not binary.any():
        raise ValueError(f"mask {path} is empty (no non-zero pixel); every patient needs a "
                         "lesion segmentation")
    out = sitk.GetImageFromArray(binary)
    out.CopyInformation(reference)
    out, n = apply_component_policy(out, components)
    logger.debug("mask %s: %d connected component(s), policy %s", path, n, components)
    return out


def read_pair(image_path: str | Path, mask_path: str | Path, spacing_mm: float | None = None,
              components: str = "keep_all") -> tuple[sitk.Image, sitk.Image]:
    """Read a patient's image and lesion mask (:func:`read_image`, :func:`read_mask`).

    The mask's lesion chooses the ultrasound regions that give a DICOM image its spacing,
    so a Doppler strip or a second view elsewhere in the image does not matter.

    Returns
    -------
    (image, mask)
        As :func:`read_image` and :func:`read_mask` return them.
    """
    mask, path = _read(mask_path)
    lesion = lesion_array(mask)
    image = read_image(image_path, spacing_mm, lesion)
    return image, read_mask(path, image, image_path=image_path, components=components)


def row_spacing(row) -> float | None:
    """Pixel spacing (mm) of a manifest or cohort row (``itertuples`` tuple or a Series), or None when the row has no
    ``pixel_spacing_mm`` or it is missing (NaN, NA): the image file then gives it."""
    value = getattr(row, "pixel_spacing_mm", None)
    return None if value is None or pd.isna(value) else float(value)
