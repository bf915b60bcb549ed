"""FastGLCM (alnburden.extraction.glcm) against pyradiomics' own RadiomicsGLCM, feature by feature."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import SimpleITK as sitk
from radiomics.glcm import RadiomicsGLCM

from alnburden.extraction.glcm import FastGLCM

#: Every GLCM feature pyradiomics computes by default (MCC included: it reads the matrix).
FEATURES = sorted(RadiomicsGLCM.getFeatureNames())


def _pair(arr: np.ndarray, mask: np.ndarray) -> tuple[sitk.Image, sitk.Image]:
    img = sitk.GetImageFromArray(arr.astype(np.float32))
    img.SetSpacing((0.2, 0.2))
    m = sitk.GetImageFromArray(mask.astype(np.uint8))
    m.CopyInformation(img)
    return img, m


def _features(cls, img, mask, **settings) -> dict[str, float]:
    fc = cls(img, mask, **settings)
    for name in FEATURES:
        if not RadiomicsGLCM.getFeatureNames()[name]:  # not deprecated
            fc.enableFeatureByName(name)
    return {k: float(v) for k, v in fc.execute().items()}


def _cases():
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[:70, :80]
    blob = (yy - 35) ** 2 / 20**2 + (xx - 40) ** 2 / 26**2 <= 1
    ring = blob & ~((yy - 35) ** 2 / 14**2 + (xx - 40) ** 2 / 19**2 <= 1)
    speckle = rng.gamma(2.0, 40.0, blob.shape)
    # many grey levels (~120 bins), a few levels (5), sparse levels (gaps in the histogram),
    # a thin ring (empty directions are rare, but angles see few pairs), a tiny region
    sparse = np.where(rng.random(blob.shape) < 0.5, 10.0, 200.0) + rng.integers(0, 2, blob.shape) * 90
    tiny = np.zeros_like(blob)
    tiny[30:33, 30:34] = True
    return {
        "many_levels": (speckle, blob, {"binWidth": 2}),
        "few_levels": (speckle, blob, {"binCount": 5}),
        "sparse_levels": (sparse, blob, {"binWidth": 10}),
        "ring": (speckle, ring, {"binWidth": 5}),
        "tiny": (speckle, tiny, {"binWidth": 25}),
        "asymmetric_matrix": (speckle, blob, {"binWidth": 8, "symmetricalGLCM": False}),
        "distances_1_2": (speckle, blob, {"binWidth": 8, "distances": [1, 2]}),
        "weighted_angles": (speckle, blob, {"binWidth": 8, "weightingNorm": "euclidean"}),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_every_glcm_feature_equals_pyradiomics(case):
    arr, mask, settings = _cases()[case]
    img, m = _pair(arr, mask)
    ref = _features(RadiomicsGLCM, img, m, **settings)
    got = _features(FastGLCM, img, m, **settings)
    assert set(got) == set(ref) and len(ref) >= 23
    for name in ref:
        # summation order only: relative 1e-9, or absolute 1e-9 of the feature's scale
        # for features that cancel towards 0 (cluster shade, correlation of a flat matrix)
        assert got[name] == pytest.approx(ref[name], rel=1e-9, abs=1e-9 * (1 + abs(ref[name]))), name


def test_cluster_features_really_take_the_fast_path(monkeypatch):
    """The O(Ng^3) parent code must not run: break it and FastGLCM still works."""
    arr, mask, settings = _cases()["many_levels"]
    img, m = _pair(arr, mask)
    ref = _features(RadiomicsGLCM, img, m, **settings)

    def broken(self):
        raise AssertionError("parent O(Ng^3) code called")

    for name in ("_calculateCoefficients", "getClusterProminenceFeatureValue",
                 "getClusterShadeFeatureValue", "getClusterTendencyFeatureValue"):
        monkeypatch.setattr(RadiomicsGLCM, name, broken)
    got = _features(FastGLCM, img, m, **settings)
    assert got["ClusterProminence"] == pytest.approx(ref["ClusterProminence"], rel=1e-9)
    assert got["SumEntropy"] == pytest.approx(ref["SumEntropy"], rel=1e-9)


def test_voxel_based_falls_back_to_pyradiomics():
    arr, mask, _ = _cases()["few_levels"]
    img, m = _pair(arr[20:50, 20:60], mask[20:50, 20:60])
    kwargs = {"binCount": 4, "kernelRadius": 1, "maskedKernel": True}
    ref = RadiomicsGLCM(img, m, voxelBased=True, **kwargs)
    got = FastGLCM(img, m, voxelBased=True, **kwargs)
    for fc in (ref, got):
        fc.enableFeatureByName("ClusterShade")
        fc.enableFeatureByName("SumEntropy")
    r, g = ref.execute(), got.execute()
    for name in r:
        np.testing.assert_array_equal(sitk.GetArrayFromImage(g[name]), sitk.GetArrayFromImage(r[name]))


def test_messages_go_to_pyradiomics_logger(caplog):
    arr, mask, settings = _cases()["few_levels"]
    img, m = _pair(arr, mask)
    with caplog.at_level(logging.DEBUG, logger="radiomics"):
        _features(FastGLCM, img, m, **settings)
    names = {r.name for r in caplog.records}
    assert "radiomics.glcm" in names and all(n.startswith("radiomics.") for n in names), names
