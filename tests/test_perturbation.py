"""Perturbation chains in physical units (alnburden.extraction.perturbation), on a disk of
known geometry."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from alnburden.extraction.perturbation import (
    Perturbation,
    PerturbationSettings,
    adapt_volume,
    apply_perturbation,
    signed_distance_mm,
)

SPACING = 0.1  # mm
RADIUS_MM = 8.0


def disk(shape=(240, 240), radius_mm=RADIUS_MM, centre=(120, 120)) -> sitk.Image:
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    r_px = radius_mm / SPACING
    arr = ((rr - centre[0]) ** 2 + (cc - centre[1]) ** 2 <= r_px**2).astype(np.uint8)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((SPACING, SPACING))
    return img


def ramp_image(shape=(240, 240)) -> sitk.Image:
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    arr = (np.sin(rr / 9.0) + np.cos(cc / 13.0) + 0.01 * rr).astype(np.float32)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((SPACING, SPACING))
    return img


def _arr(img):
    return sitk.GetArrayFromImage(img)


@pytest.mark.parametrize("volume", [-0.1, 0.1, 0.2])
def test_volume_adaptation_changes_the_area_by_the_fraction(volume):
    mask = disk()
    _, out, info = apply_perturbation(ramp_image(), mask, Perturbation(volume=volume),
                                      np.random.default_rng(0))
    area, new = _arr(mask).sum(), _arr(out).sum()
    assert new / area - 1 == pytest.approx(volume, abs=0.002)
    assert info["area_change"] == pytest.approx(volume, abs=0.002)
    # a pure growth or shrinkage: Dice = 2 min / (A + A')
    expected = 2 * min(1, 1 + volume) / (2 + volume)
    assert info["dice"] == pytest.approx(expected, abs=0.003)
    # it stays a disk: grown/shrunk concentrically, radius scaled by sqrt(1 + volume)
    rows, cols = np.nonzero(_arr(out))
    r = np.hypot(rows - 120, cols - 120).max() * SPACING
    assert r == pytest.approx(RADIUS_MM * np.sqrt(1 + volume), abs=0.15)


def test_contour_randomisation_dice_follows_its_sd():
    """A contour moved by a field of SD s (mm) on a disk of radius R: Dice ~ 1 - E|u| / R
    with E|u| = s sqrt(2 / pi); the area stays the disk's (volume 0)."""
    mask = disk()
    for sd in (0.3, 0.8):
        dices = []
        for seed in range(5):
            _, out, info = apply_perturbation(
                ramp_image(), mask, Perturbation(contour_sd_mm=sd, contour_smoothing_mm=1.0),
                np.random.default_rng(seed))
            assert _arr(out).sum() == pytest.approx(_arr(mask).sum(), rel=1e-3)
            dices.append(info["dice"])
        expected = 1 - sd * np.sqrt(2 / np.pi) / RADIUS_MM
        assert np.mean(dices) == pytest.approx(expected, abs=0.02)


def test_rotation_moves_image_and_mask_together():
    """90 degrees about the lesion centre: the image is the array rotated; the mask of a disk
    centred there is unchanged, so its Dice with the moved original is 1."""
    mask = disk(shape=(241, 241), centre=(120, 120))  # the array's centre: np.rot90 about it
    image = ramp_image(shape=(241, 241))
    out_image, out_mask, info = apply_perturbation(image, mask, Perturbation(rotation_deg=90),
                                                   np.random.default_rng(0))
    assert info["dice"] == pytest.approx(1.0, abs=0.002)
    inner = (slice(60, 180), slice(60, 180))
    got = _arr(out_image)
    best = min(np.abs(got[inner] - np.rot90(_arr(image), k)[inner]).max() for k in (1, 3))
    assert best < 1e-3
    assert not np.allclose(got[inner], _arr(image)[inner])


def test_translation_is_in_mm():
    """A shift of 1 mm on a 0.1 mm grid moves the content by 10 pixels."""
    mask, image = disk(), ramp_image()
    out_image, out_mask, info = apply_perturbation(image, mask,
                                                   Perturbation(translation_mm=(1.0, 0.0)),
                                                   np.random.default_rng(0))
    src, got = _arr(image), _arr(out_image)
    # output(x) = input(x + t): the column index advances by 10
    assert np.abs(got[50:190, 50:180] - src[50:190, 60:190]).max() < 1e-3
    assert np.array_equal(_arr(out_mask)[:, :-20], _arr(mask)[:, 10:-10])
    assert info["dice"] == pytest.approx(1.0)


def test_noise_is_a_fraction_of_the_image_sd():
    image = ramp_image()
    out_image, _, _ = apply_perturbation(image, disk(), Perturbation(noise_sd=0.2),
                                         np.random.default_rng(3))
    diff = _arr(out_image).astype(float) - _arr(image)
    assert diff.std() == pytest.approx(0.2 * _arr(image).std(), rel=0.02)
    assert abs(diff.mean()) < 0.01 * _arr(image).std()


def test_settings_draw_ranges_and_balanced_volumes():
    s = PerturbationSettings(rotation_deg=5, translation_mm=0.5, volume=0.1)
    ps = s.draw(5, np.random.default_rng(0))
    assert [p.volume for p in ps] == pytest.approx([-0.1, -0.05, 0, 0.05, 0.1])
    assert all(abs(p.rotation_deg) <= 5 and max(map(abs, p.translation_mm)) <= 0.5 for p in ps)
    assert ps == s.draw(5, np.random.default_rng(0))
    assert set(ps[0].as_row()) >= {"translation_x_mm", "translation_y_mm", "volume", "noise_sd"}
    with pytest.raises(ValueError, match="volume=1.5 must be < 1"):
        PerturbationSettings(volume=1.5)
    with pytest.raises(ValueError, match="rotation_deg=-1 must be a finite number >= 0"):
        PerturbationSettings(rotation_deg=-1)


def test_signed_distance_and_exact_area():
    m = _arr(disk()) != 0
    d = signed_distance_mm(m, (SPACING, SPACING))
    assert np.array_equal(d < 0, m)
    assert adapt_volume(d, 1000).sum() == 1000
    assert adapt_volume(d, m.sum()).sum() == m.sum()
