"""Regions of interest measured by the radiomics stage: the lesion and peritumoral rings."""

from __future__ import annotations

from collections.abc import Sequence

import SimpleITK as sitk

INTRA = "intra"


def region_name(width_mm: float) -> str:
    """Name of the peritumoral ring of ``width_mm`` mm: ``peri{w:g}mm`` (e.g. ``peri3mm``)."""
    return f"peri{float(width_mm):g}mm"


def peritumoral_ring(mask: sitk.Image, width_mm: float) -> sitk.Image:
    """Ring of ``width_mm`` mm OUTSIDE the lesion, clipped to the image.

    A pixel belongs to the ring when it is outside the lesion and the Euclidean distance
    (physical units, pixel spacing taken into account) from its centre to the centre of the
    nearest lesion pixel is at most ``width_mm``: ``0 < d <= width_mm`` with ``d`` from
    ``sitk.SignedMaurerDistanceMap(useImageSpacing=True, insideIsPositive=False)``. The ring
    never leaves the image (pixels outside the field of view do not exist), so it is cut
    where the lesion lies closer than ``width_mm`` to the image border.

    Parameters
    ----------
    mask
        Binary lesion mask (non-zero = lesion), 2-D.
    width_mm
        Ring width (mm), > 0.

    Returns
    -------
    SimpleITK.Image
        uint8 0/1 ring with the geometry of ``mask``.
    """
    width_mm = float(width_mm)
    if not width_mm > 0:
        raise ValueError(f"peritumoral width {width_mm!r} mm must be > 0 (e.g. 3)")
    lesion = sitk.Cast(mask != 0, sitk.sitkUInt8)
    dist = sitk.SignedMaurerDistanceMap(lesion, insideIsPositive=False, squaredDistance=False,
                                        useImageSpacing=True)
    ring = sitk.And(dist > 0, dist <= width_mm)
    ring = sitk.And(ring, lesion == 0)
    ring = sitk.Cast(ring, sitk.sitkUInt8)
    ring.CopyInformation(mask)
    return ring


def region_masks(mask: sitk.Image, peritumoral_mm: Sequence[float] = (3,)) -> dict[str, sitk.Image]:
    """The lesion (``intra``) and one ring per width, keyed ``intra``, ``peri3mm``, ...

    Parameters
    ----------
    mask
        Binary lesion mask (non-zero = lesion).
    peritumoral_mm
        Ring widths (mm); empty for the lesion only. Widths must give distinct names.

    Returns
    -------
    dict[str, SimpleITK.Image]
        uint8 0/1 masks in the order ``intra``, then the rings in the given order.
    """
    out = {INTRA: sitk.Cast(mask != 0, sitk.sitkUInt8)}
    out[INTRA].CopyInformation(mask)
    for w in peritumoral_mm:
        name = region_name(w)
        if name in out:
            raise ValueError(f"peritumoral widths {list(peritumoral_mm)} repeat {w:g} mm; "
                             "list each width once")
        out[name] = peritumoral_ring(mask, w)
    return out
