"""Reading images and masks (alnburden.io.images) and building regions (alnburden.extraction.regions)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from alnburden.io.images import (UnreadableImageError, apply_component_policy, count_components,
                                 is_raster, lesion_array, plane_geometry, read_file, read_image,
                                 read_mask, same_origin, same_spacing)
from alnburden.extraction.regions import peritumoral_ring, region_masks, region_name


def _disk(shape, center, radius):
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    return (rr - center[0]) ** 2 + (cc - center[1]) ** 2 <= radius**2


def _write(path, arr, spacing=None):
    img = sitk.GetImageFromArray(np.asarray(arr), isVector=np.ndim(arr) == 3)
    if spacing is not None:
        img.SetSpacing((spacing, spacing))
    sitk.WriteImage(img, str(path))
    return path


def test_png_needs_spacing_and_gets_it(tmp_path):
    p = _write(tmp_path / "im.png", np.full((20, 30), 7, np.uint8))
    with pytest.raises(ValueError, match=r"im\.png.*pixel_spacing_mm"):
        read_image(p)
    img = read_image(p, spacing_mm=0.1)
    assert img.GetDimension() == 2 and img.GetSize() == (30, 20)
    assert img.GetPixelID() == sitk.sitkFloat32
    assert img.GetSpacing() == pytest.approx((0.1, 0.1))


def test_nrrd_spacing_from_file_and_conflict(tmp_path):
    p = _write(tmp_path / "im.nrrd", np.ones((10, 12), np.float32), spacing=0.25)
    assert read_image(p).GetSpacing() == pytest.approx((0.25, 0.25))
    assert read_image(p, 0.25).GetSpacing() == pytest.approx((0.25, 0.25))
    with pytest.raises(ValueError, match=r"file says pixel spacing .*0\.25.*manifest says 0\.1"):
        read_image(p, 0.1)


def test_rgb_is_luminance_and_grey_copy_identical(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (16, 18)).astype(np.uint8)
    rgb = np.stack([grey] * 3, axis=-1)
    a = sitk.GetArrayFromImage(read_image(_write(tmp_path / "g.png", grey), 0.1))
    b = sitk.GetArrayFromImage(read_image(_write(tmp_path / "c.png", rgb), 0.1))
    np.testing.assert_array_equal(a, b)
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[..., 0], colour[..., 1], colour[..., 2] = 100, 50, 200
    c = sitk.GetArrayFromImage(read_image(_write(tmp_path / "x.png", colour), 0.1))
    np.testing.assert_allclose(c, 0.299 * 100 + 0.587 * 50 + 0.114 * 200, rtol=1e-6)


def test_mask_binarised_with_image_geometry(tmp_path):
    img = read_image(_write(tmp_path / "im.png", np.zeros((20, 30), np.uint8)), 0.2)
    m = np.zeros((20, 30), np.uint8)
    m[5:10, 5:10] = 255
    m[12, 20] = 3
    mask = read_mask(_write(tmp_path / "m.png", m), img)
    arr = sitk.GetArrayFromImage(mask)
    assert mask.GetPixelID() == sitk.sitkUInt8 and set(np.unique(arr)) == {0, 1}
    assert arr.sum() == 26 and mask.GetSpacing() == img.GetSpacing()
    assert count_components(mask) == 2
    largest, n = apply_component_policy(mask, "largest")
    assert n == 2 and sitk.GetArrayFromImage(largest).sum() == 25
    assert sitk.GetArrayFromImage(read_mask(tmp_path / "m.png", img, components="largest")).sum() == 25


def test_mask_size_mismatch_names_both_files(tmp_path):
    img_path = _write(tmp_path / "im.png", np.zeros((20, 30), np.uint8))
    img = read_image(img_path, 0.2)
    m = _write(tmp_path / "m.png", np.ones((21, 30), np.uint8))
    with pytest.raises(ValueError, match=r"mask .*m\.png is 30x21 pixels but image .*im\.png is 30x20"):
        read_mask(m, img, image_path=img_path)


def test_empty_mask_and_unknown_policy(tmp_path):
    img = read_image(_write(tmp_path / "im.png", np.zeros((8, 8), np.uint8)), 0.2)
    with pytest.raises(ValueError, match="is empty"):
        read_mask(_write(tmp_path / "m.png", np.zeros((8, 8), np.uint8)), img)
    with pytest.raises(ValueError, match="policy 'biggest' is unknown"):
        apply_component_policy(sitk.GetImageFromArray(np.ones((3, 3), np.uint8)), "biggest")


@pytest.mark.parametrize(("name", "raster"), [
    ("a.png", True), ("b.JPG", True), ("c.tiff", True), ("d.gif", True), ("e.nrrd", False),
    ("f.nii.gz", False), ("g.dcm", False), ("h.mha", False), ("png.nrrd", False)])
def test_raster_formats_by_name(name, raster):
    assert is_raster(f"images/{name}") is raster


def test_unreadable_file_names_sitks_reason(tmp_path):
    (tmp_path / "x.png").write_text("not a PNG")
    with pytest.raises(UnreadableImageError, match=r"x\.png: SimpleITK cannot read this file "
                                                    r"\(Unable to determine ImageIO reader") as info:
        read_file(tmp_path / "x.png")
    assert info.value.reason.startswith("Unable to determine ImageIO reader")
    with pytest.raises(ValueError, match="SimpleITK cannot read this file"):  # read_image too
        read_image(tmp_path / "x.png", 0.1)
    with pytest.raises(FileNotFoundError, match=r"none\.png: file not found"):
        read_image(tmp_path / "none.png", 0.1)


def test_read_file_keeps_what_is_stored(tmp_path):
    """A W x H x 1 NIfTI slice stays 3-D with its geometry; read_image makes it 2-D."""
    img = sitk.GetImageFromArray(np.ones((1, 6, 8), np.uint8))
    img.SetSpacing((0.2, 0.3, 1.0))
    img.SetOrigin((1.0, 2.0, 0.0))
    sitk.WriteImage(img, str(tmp_path / "s.nii.gz"))
    stored = read_file(tmp_path / "s.nii.gz")
    assert stored.GetSize() == (8, 6, 1)
    spacing, origin, direction = plane_geometry(stored)
    np.testing.assert_allclose(spacing, [0.2, 0.3])
    np.testing.assert_allclose(origin, [1.0, 2.0])
    np.testing.assert_allclose(direction, np.eye(2))
    assert read_image(tmp_path / "s.nii.gz").GetSize() == (8, 6)


def test_geometry_tolerances():
    assert same_spacing((0.1, 0.1), 0.100001) and not same_spacing((0.1, 0.1), 0.1001)
    assert same_origin((0.0, 0.0), (0.000005, 0.0), (0.1, 0.2))
    assert not same_origin((0.0, 0.0), (0.00002, 0.0), (0.1, 0.2))


def test_lesion_is_any_nonzero_channel():
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[1, 2, 0], rgb[3, 4, 2] = 255, 1
    lesion = lesion_array(sitk.GetImageFromArray(rgb, isVector=True))
    assert lesion.shape == (4, 5) and lesion.sum() == 2 and lesion[1, 2] and lesion[3, 4]
    grey = np.array([[0, 3], [0, 0]], np.uint8)
    assert lesion_array(sitk.GetImageFromArray(grey)).tolist() == [[False, True], [False, False]]


@pytest.mark.parametrize("spacing", [0.1, 0.2])
def test_ring_area_matches_annulus(spacing):
    r_mm, w_mm = 4.0, 1.5
    n = int(2 * (r_mm + w_mm) / spacing) + 20
    c = n / 2
    lesion = _disk((n, n), (c, c), r_mm / spacing)
    mask = sitk.GetImageFromArray(lesion.astype(np.uint8))
    mask.SetSpacing((spacing, spacing))
    ring = sitk.GetArrayFromImage(peritumoral_ring(mask, w_mm))
    assert not (ring.astype(bool) & lesion).any()
    area = ring.sum() * spacing**2
    assert area == pytest.approx(np.pi * ((r_mm + w_mm) ** 2 - r_mm**2), rel=0.08)


def test_ring_clipped_to_image_and_names():
    lesion = np.zeros((30, 30), np.uint8)
    lesion[0:6, 10:20] = 1  # touches the top border
    mask = sitk.GetImageFromArray(lesion)
    regions = region_masks(mask, [1, 2.5])
    assert list(regions) == ["intra", "peri1mm", "peri2.5mm"]
    assert region_name(3) == "peri3mm"
    ring = sitk.GetArrayFromImage(regions["peri1mm"])
    assert ring.shape == lesion.shape and ring[0:6, 9].all() and ring.sum() > 0
    with pytest.raises(ValueError, match="repeat 3 mm"):
        region_masks(mask, [3, 3.0])
    with pytest.raises(ValueError, match="must be > 0"):
        peritumoral_ring(mask, 0)
