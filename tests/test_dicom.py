"""Ultrasound DICOM through the one image reader: the pixel size of the Sequence of
Ultrasound Regions, colour (RGB, YBR) to grey, and the files it refuses."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import SECONDARY_CAPTURE, disk, us_region, write_dicom, write_png

from alnburden.io.dicom import ImageFormatError, ultrasound_spacing
from alnburden.io.images import LUMA_601, read_image, read_pair

SHAPE = (30, 40)  # rows x columns
WHOLE = (0, 0, SHAPE[1] - 1, SHAPE[0] - 1)


def _grey(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(20, 230, SHAPE).astype(np.uint8)


def _rgb() -> np.ndarray:
    """A smooth colour image (JPEG keeps it to within a few grey levels)."""
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    return np.stack([xx * 6, yy * 8, 255 - xx * 3 - yy * 2], -1).clip(0, 255).astype(np.uint8)


def _lesion_png(tmp_path, center=(15, 12), radius=5):
    lesion = disk(SHAPE, center, radius)
    return write_png(tmp_path / "mask.png", lesion * 255), lesion


def _pixels(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image).astype(float)


def test_spacing_from_ultrasound_regions_in_cm(tmp_path):
    # by hand: PhysicalDeltaX 0.01 cm = 0.1 mm, PhysicalDeltaY 0.02 cm = 0.2 mm
    path = write_dicom(tmp_path / "us.dcm", _grey(), regions=[us_region(WHOLE, (0.01, 0.02))])
    assert sitk.ReadImage(str(path)).GetSpacing()[:2] == (1.0, 1.0)  # what SimpleITK says
    image = read_image(path)
    assert image.GetSpacing() == pytest.approx((0.1, 0.2), rel=1e-12)
    assert np.array_equal(_pixels(image), _grey())
    assert read_image(path, spacing_mm=None).GetSpacing() == image.GetSpacing()


def test_pixel_spacing_only_dicom_keeps_working(tmp_path):
    path = write_dicom(tmp_path / "sc.dcm", _grey(), pixel_spacing=(0.2, 0.3),
                       sop_class=SECONDARY_CAPTURE)
    assert ultrasound_spacing(path, rtol=1e-4) is None
    assert read_image(path).GetSpacing() == pytest.approx((0.3, 0.2))  # (column, row)


def test_pixel_spacing_besides_regions_must_agree(tmp_path):
    region = [us_region(WHOLE, (0.01, 0.01))]
    ok = write_dicom(tmp_path / "ok.dcm", _grey(), regions=region, pixel_spacing=(0.1, 0.1))
    assert read_image(ok).GetSpacing() == pytest.approx((0.1, 0.1))
    bad = write_dicom(tmp_path / "bad.dcm", _grey(), regions=region, pixel_spacing=(0.5, 0.5))
    with pytest.raises(ImageFormatError, match=r"bad.dcm: PixelSpacing says 0.5 x 0.5 mm .* "
                                               r"ultrasound regions say 0.1 x 0.1 mm"):
        read_image(bad)


def test_manifest_spacing_must_agree_with_regions(tmp_path):
    path = write_dicom(tmp_path / "us.dcm", _grey(), regions=[us_region(WHOLE, (0.01, 0.01))])
    assert read_image(path, 0.1).GetSpacing() == pytest.approx((0.1, 0.1))
    with pytest.raises(ValueError, match="manifest says 0.2 mm"):
        read_image(path, 0.2)


def test_rgb_dicom_is_grey_like_rgb_png(tmp_path):
    rgb = _rgb()
    dicom = read_image(write_dicom(tmp_path / "rgb.dcm", rgb, "RGB"))
    png = read_image(write_png(tmp_path / "rgb.png", rgb), spacing_mm=1.0)
    assert np.array_equal(_pixels(dicom), _pixels(png))
    assert np.allclose(_pixels(dicom), rgb.astype(float) @ LUMA_601, atol=1e-4)


@pytest.mark.parametrize("photometric, tol", [("YBR_FULL", 1.0), ("YBR_FULL_422", 1.5)])
def test_ybr_dicom_is_its_luma(tmp_path, photometric, tol):
    """SimpleITK decodes YBR to RGB; the grey is then the BT.601 luma Y of the pixel (a grey
    taken from the YBR channels as if they were RGB would be ~100 levels off)."""
    from pydicom.pixels import convert_color_space

    rgb = _rgb()
    luma = convert_color_space(rgb, "RGB", "YBR_FULL")[..., 0].astype(float)
    grey = _pixels(read_image(write_dicom(tmp_path / "ybr.dcm", rgb, photometric)))
    assert np.abs(grey - luma).max() <= tol
    assert np.abs(grey - rgb.astype(float) @ LUMA_601).max() <= tol


def test_grey_b_mode_stored_as_ybr_is_exact(tmp_path):
    grey = _grey()
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    for photometric in ("YBR_FULL", "YBR_FULL_422"):
        path = write_dicom(tmp_path / f"{photometric}.dcm", rgb, photometric)
        assert np.allclose(_pixels(read_image(path)), grey, atol=1e-3), photometric


def test_jpeg_ybr_422_dicom_agrees_with_pydicom(tmp_path):
    """The usual ultrasound export: JPEG Baseline, YBR_FULL_422; SimpleITK (GDCM) and
    pydicom (Pillow) decode it to the same grey to within one level."""
    import pydicom

    path = write_dicom(tmp_path / "jpeg.dcm", _rgb(), "JPEG")
    reference = pydicom.dcmread(path).pixel_array.astype(float) @ LUMA_601
    assert np.abs(_pixels(read_image(path)) - reference).max() <= 1.0


def test_cine_loop_is_refused_with_the_fix(tmp_path):
    frames = np.stack([_grey(i) for i in range(5)])
    path = write_dicom(tmp_path / "cine.dcm", frames, regions=[us_region(WHOLE, (0.01, 0.01))])
    with pytest.raises(ImageFormatError, match=r"cine.dcm: a multi-frame image \(cine loop\) "
                                               r"of 5 frames.*export the frame the mask was drawn on"):
        read_image(path)


def test_dual_view_lesion_in_one_region_takes_its_spacing(tmp_path):
    regions = [us_region((0, 0, 19, 29), (0.01, 0.01)), us_region((20, 0, 39, 29), (0.02, 0.02)),
               us_region((0, 25, 39, 29), (0.5, 2.0), units=(4, 7))]  # a Doppler strip
    path = write_dicom(tmp_path / "dual.dcm", _grey(), regions=regions)
    mask, _ = _lesion_png(tmp_path, center=(12, 30), radius=4)   # right view only
    image, read = read_pair(path, mask)
    assert image.GetSpacing() == pytest.approx((0.2, 0.2))
    assert read.GetSpacing() == image.GetSpacing()


def test_lesion_across_disagreeing_regions_is_refused(tmp_path):
    regions = [us_region((0, 0, 19, 29), (0.01, 0.01)), us_region((20, 0, 39, 29), (0.02, 0.02))]
    path = write_dicom(tmp_path / "dual.dcm", _grey(), regions=regions)
    mask, _ = _lesion_png(tmp_path, center=(12, 20), radius=4)
    with pytest.raises(ImageFormatError, match=r"dual.dcm: the ultrasound regions holding the "
                                               r"lesion disagree.*region 1 .*0.1 x 0.1 mm; "
                                               r"region 2 .*0.2 x 0.2 mm.*inside one region"):
        read_pair(path, mask)
    with pytest.raises(ImageFormatError, match="disagree"):  # without a lesion: every region
        read_image(path)


@pytest.mark.parametrize("units, delta, message", [
    ((4, 7), (0.01, 0.01), r"region 1 has physical units x = seconds, y = cm/sec, not cm"),
    ((0, 3), (0.01, 0.01), r"region 1 has physical units x = none, y = cm, not cm"),
    ((3, 3), (0.0, 0.01), r"region 1 has PhysicalDeltaX = 0.0 \(must be positive\)"),
    ((3, 3), (0.01, -0.01), r"region 1 has PhysicalDeltaY = -0.01 \(must be positive\)"),
])
def test_unusable_calibration_is_refused(tmp_path, units, delta, message):
    path = write_dicom(tmp_path / "us.dcm", _grey(), regions=[us_region(WHOLE, delta, units)])
    mask, _ = _lesion_png(tmp_path)
    with pytest.raises(ImageFormatError, match=message + ".*export the B-mode view as PNG"):
        read_pair(path, mask)


def test_lesion_outside_every_region_is_refused(tmp_path):
    path = write_dicom(tmp_path / "us.dcm", _grey(),
                       regions=[us_region((0, 0, 9, 29), (0.01, 0.01))])
    mask, lesion = _lesion_png(tmp_path, center=(15, 12), radius=5)
    outside = int(lesion[:, 10:].sum())
    with pytest.raises(ImageFormatError, match=f"{outside} lesion pixels lie outside every "
                                               r"ultrasound region .*columns 0-9, rows 0-29"):
        read_pair(path, mask)


def test_image_format_error_survives_pickling(tmp_path):
    err = ImageFormatError(tmp_path / "x.dcm", "a problem", "the fix")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.fix == "the fix"
