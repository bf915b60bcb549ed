"""Ultrasound DICOM: the pixel size a scanner stores, and the files the study cannot use.

An ultrasound DICOM keeps its calibration in the Sequence of Ultrasound Regions
(0018,6011), not in PixelSpacing (0028,0030): each region is a rectangle of the image
(RegionLocationMinX0/MinY0/MaxX1/MaxY1, 0018,6018-601E, pixels, inclusive) with its
physical units (PhysicalUnitsX/YDirection, 0018,6024/6026; code 3 = cm) and the size of a
pixel in those units (PhysicalDeltaX/Y, 0018,602C/602E). SimpleITK ignores the sequence and
reports 1 mm per pixel, so :func:`ultrasound_spacing` reads it with pydicom (header only)
and :mod:`alnburden.io.images` uses it as the spacing.

Every refusal is an :class:`ImageFormatError` (a :class:`ValueError`) that says what is wrong
and how to fix it, so that the image reader raises it and the cohort validation reports it
on the patient's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pydicom is imported when a DICOM file is read (0.3 s of every job)
    from pydicom.dataset import Dataset

#: Offset and value of the DICOM Part 10 magic (after the 128-byte preamble).
_MAGIC_OFFSET, _MAGIC = 128, b"DICM"

#: Millimetres per unit, for the PhysicalUnitsX/YDirection codes that measure a length.
#: DICOM PS3.3 C.8.5.5.1.15 has no millimetre code: centimetre (3) is the only one.
MM_PER_UNIT = {3: 10.0}

#: Names of the PhysicalUnitsX/YDirection codes (DICOM PS3.3 C.8.5.5.1.15), for messages.
UNIT_NAMES = {0: "none", 1: "percent", 2: "dB", 3: "cm", 4: "seconds", 5: "hertz",
              6: "dB/seconds", 7: "cm/sec", 8: "cm2", 9: "cm2/sec", 10: "cm3",
              11: "cm3/sec", 12: "degrees"}

#: Advice when the ultrasound calibration of a file cannot be used.
EXPORT_FIX = ("or export the B-mode view as PNG and give its pixel_spacing_mm (mm) in the "
              "manifest")


class ImageFormatError(ValueError):
    """A readable image file the study cannot use as it is (a cine loop, a calibration
    that gives no single pixel size for the lesion).

    Attributes
    ----------
    path : Path
        The file.
    problem : str
        What is wrong, without the file name.
    fix : str
        How to fix it.
    """

    def __init__(self, path: Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        super().__init__(f"{path}: {problem}; {fix}")

    def __reduce__(self):  # keep the exception picklable (multiprocessing, Snakemake)
        return (type(self), (self.path, self.problem, self.fix))


@dataclass(frozen=True)
class UltrasoundRegion:
    """One item of the Sequence of Ultrasound Regions.

    Attributes
    ----------
    number
        1-based item number in the sequence (for messages).
    bounds
        (x0, y0, x1, y1): first and last column and row of the region (pixels, inclusive).
    units
        PhysicalUnitsXDirection and PhysicalUnitsYDirection codes (None when absent).
    delta
        PhysicalDeltaX and PhysicalDeltaY: size of a pixel in ``units`` (None when absent).
    """

    number: int
    bounds: tuple[int, int, int, int]
    units: tuple[int | None, int | None]
    delta: tuple[float | None, float | None]

    @classmethod
    def from_item(cls, number: int, item: Dataset) -> UltrasoundRegion:
        """The region of one sequence item (absent bounds: the whole image)."""
        bounds = tuple(int(item.get(k, d)) for k, d in (
            ("RegionLocationMinX0", 0), ("RegionLocationMinY0", 0),
            ("RegionLocationMaxX1", 2 ** 31), ("RegionLocationMaxY1", 2 ** 31)))
        units = tuple(None if item.get(k) is None else int(item.get(k))
                      for k in ("PhysicalUnitsXDirection", "PhysicalUnitsYDirection"))
        delta = tuple(None if item.get(k) is None else float(item.get(k))
                      for k in ("PhysicalDeltaX", "PhysicalDeltaY"))
        return cls(number, bounds, units, delta)

    def covers(self, shape: tuple[int, int]) -> np.ndarray:
        """Boolean array (rows x columns, ``shape``): the pixels inside the region."""
        x0, y0, x1, y1 = self.bounds
        inside = np.zeros(shape, dtype=bool)
        inside[y0:y1 + 1, x0:x1 + 1] = True
        return inside

    def unit_problem(self) -> str | None:
        """Why the region measures no length in both directions, or None."""
        names = [UNIT_NAMES.get(u, f"code {u}") if u is not None else "absent" for u in self.units]
        if all(u in MM_PER_UNIT for u in self.units):
            return None
        return f"region {self.number} has physical units x = {names[0]}, y = {names[1]}, not cm"

    def delta_problem(self) -> str | None:
        """Why the region's pixel size is unusable (absent, zero, negative), or None."""
        bad = [f"PhysicalDelta{axis} = {d}" for axis, d in zip("XY", self.delta)
               if d is None or not np.isfinite(d) or d <= 0]
        return f"region {self.number} has {', '.join(bad)} (must be positive)" if bad else None

    def spacing_mm(self) -> tuple[float, float]:
        """Pixel spacing (x, y) in mm."""
        return tuple(float(d) * MM_PER_UNIT[u] for d, u in zip(self.delta, self.units))

    def describe(self) -> str:
        """The region for messages: its number and pixel bounds."""
        x0, y0, x1, y1 = self.bounds
        return f"region {self.number} (columns {x0}-{x1}, rows {y0}-{y1})"


def is_dicom(path: str | Path) -> bool:
    """The file is a DICOM Part 10 file ("DICM" after its 128-byte preamble), as
    ``pydicom.misc.is_dicom`` decides, without importing pydicom."""
    with open(path, "rb") as fh:
        fh.seek(_MAGIC_OFFSET)
        return fh.read(len(_MAGIC)) == _MAGIC


def _header(path: Path) -> Dataset | None:
    """The DICOM header of ``path`` (no pixels), or None when it is not a DICOM file."""
    if not is_dicom(path):
        return None
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError) as err:
        raise ImageFormatError(path, f"the DICOM header cannot be read ({err})",
                               "re-export the file from the scanner or PACS") from err


def _held_regions(path: Path, regions: list[UltrasoundRegion],
                  lesion: np.ndarray | None) -> list[UltrasoundRegion]:
    """The regions holding a lesion pixel (all of them without a lesion); every lesion
    pixel must lie in one."""
    if lesion is None or not lesion.any():
        return regions
    held = [r for r in regions if (lesion & r.covers(lesion.shape)).any()]
    outside = lesion.copy()
    for r in regions:
        outside &= ~r.covers(lesion.shape)
    if outside.any():
        listed = "; ".join(r.describe() for r in regions)
        raise ImageFormatError(
            path, f"{int(outside.sum())} lesion pixels lie outside every ultrasound region "
            f"of the file ({listed}), so they have no calibrated size",
            "draw the mask inside the B-mode image area, " + EXPORT_FIX)
    return held


def _region_spacing(path: Path, held: list[UltrasoundRegion], rtol: float) -> tuple[float, float]:
    """The one pixel spacing (mm) of the regions holding the lesion."""
    bad = [p for r in held for p in (r.unit_problem(), r.delta_problem()) if p is not None]
    if bad:
        raise ImageFormatError(
            path, "its ultrasound calibration gives no pixel size in mm for the lesion: "
            + "; ".join(bad), "draw the mask on a B-mode (tissue) region measured in cm, "
            + EXPORT_FIX)
    spacing = held[0].spacing_mm()
    if not all(np.allclose(r.spacing_mm(), spacing, rtol=rtol, atol=0) for r in held):
        sizes = "; ".join(f"{r.describe()}: {_mm(r.spacing_mm())} mm" for r in held)
        raise ImageFormatError(
            path, f"the ultrasound regions holding the lesion disagree on the pixel size "
            f"({sizes})", "draw the mask inside one region (one view of a dual view), "
            + EXPORT_FIX)
    return spacing


def _mm(spacing) -> str:
    return " x ".join(f"{s:g}" for s in spacing)


def _check_pixel_spacing(path: Path, header: Dataset, spacing: tuple[float, float],
                         rtol: float) -> None:
    """A PixelSpacing (row, column; mm) stored besides the regions must agree with them."""
    stored = header.get("PixelSpacing")
    if stored is None:
        return
    stored_xy = (float(stored[1]), float(stored[0]))
    if not np.allclose(stored_xy, spacing, rtol=rtol, atol=0):
        raise ImageFormatError(
            path, f"PixelSpacing says {_mm(stored_xy)} mm (x, y) but the ultrasound regions "
            f"say {_mm(spacing)} mm", "correct or remove the file's PixelSpacing (the "
            "ultrasound regions are the scanner's calibration), " + EXPORT_FIX)


def ultrasound_spacing(path: str | Path, lesion: np.ndarray | None = None, *,
                       rtol: float) -> tuple[float, float] | None:
    """Pixel spacing (x, y) in mm of an ultrasound DICOM, from its ultrasound regions.

    Parameters
    ----------
    path
        Any image file; only a DICOM with a Sequence of Ultrasound Regions has an answer.
    lesion
        Lesion pixels (boolean, rows x columns of the image), or None. The regions holding
        a lesion pixel give the spacing (a Doppler strip or a second view elsewhere in the
        image does not matter); without a lesion every region must agree.
    rtol
        Relative tolerance under which two spacings are the same.

    Returns
    -------
    (float, float) or None
        PhysicalDeltaX/Y x 10 (cm -> mm); None when the file is not a DICOM or has no
        ultrasound regions (its PixelSpacing, as SimpleITK reads it, then holds).

    Raises
    ------
    ImageFormatError
        When lesion pixels lie outside every region, a region holding the lesion is not
        measured in cm or has a pixel size that is not positive, the regions holding the
        lesion disagree, or a PixelSpacing stored besides them disagrees.
    """
    path = Path(path)
    header = _header(path)
    if header is None or not header.get("SequenceOfUltrasoundRegions"):
        return None
    regions = [UltrasoundRegion.from_item(i, item)
               for i, item in enumerate(header.SequenceOfUltrasoundRegions, start=1)]
    spacing = _region_spacing(path, _held_regions(path, regions, lesion), rtol)
    _check_pixel_spacing(path, header, spacing, rtol)
    return spacing


def cine_error(path: Path, n_frames: int) -> ImageFormatError:
    """The refusal of a multi-frame image (a DICOM cine loop), with how to export a frame."""
    return ImageFormatError(
        path, f"a multi-frame image (cine loop) of {n_frames} frames; alnburden measures one "
        "2-D frame per patient",
        "export the frame the mask was drawn on (usually the one showing the tumour's largest "
        "diameter) as a single-frame DICOM from the scanner or PACS viewer (it keeps the "
        "ultrasound calibration), or as PNG with its pixel_spacing_mm; in Python, frame k "
        "(0-based) is pydicom.dcmread(path).pixel_array[k]")
