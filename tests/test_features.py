"""Radiomics extraction (alnburden.extraction.extractor and .shards): known answers, exactness
against pyradiomics' own ``execute``, errors naming the patient, shards and provenance."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from alnburden.extraction.extractor import ExtractionError, RadiomicsExtractor
from alnburden.io.images import row_spacing
from alnburden.extraction.shards import (
    extract_shard,
    merge_shards,
    n_shards_for,
    read_features,
    shard_of,
    write_features,
)
from alnburden.extraction.regions import region_masks

PARAMS = Path(__file__).parents[1] / "config" / "radiomics.yaml"

#: Minimal params for known-answer tests: no normalisation, no resampling, no filters.
MINIMAL = {
    "setting": {"label": 1, "binWidth": 25, "additionalInfo": False},
    "imageType": {"Original": {}},
    "featureClass": {"shape2D": ["PixelSurface"], "firstorder": ["Mean", "Minimum", "Maximum"]},
}


def disk(shape, center, radius):
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    return (rr - center[0]) ** 2 + (cc - center[1]) ** 2 <= radius**2


def write_params(path: Path, params: dict) -> Path:
    path.write_text(yaml.safe_dump(params))
    return path


def write_png(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(arr, dtype=np.uint8)
    sitk.WriteImage(sitk.GetImageFromArray(arr, isVector=arr.ndim == 3), str(path))
    return path


def lesion_image(shape=(100, 100), radius=15, seed=0):
    """Speckle-like noise with a darker, textured disk (uint8) and the disk mask."""
    rng = np.random.default_rng(seed)
    c = (shape[0] / 2 + 0.3, shape[1] / 2 - 0.4)
    lesion = disk(shape, c, radius)
    lesion |= disk(shape, (c[0] + radius * 0.8, c[1]), radius * 0.4)  # a lobule
    img = rng.gamma(2.0, 40.0, shape)
    img[lesion] = rng.gamma(2.0, 15.0, lesion.sum())
    return np.clip(img, 0, 255).astype(np.uint8), lesion.astype(np.uint8)


def sitk_pair(arr, mask, spacing):
    img = sitk.GetImageFromArray(arr.astype(np.float32))
    img.SetSpacing((spacing, spacing))
    m = sitk.GetImageFromArray(mask.astype(np.uint8))
    m.CopyInformation(img)
    return img, m


def execute_reference(params_path, image, regions):
    from radiomics import featureextractor

    ex = featureextractor.RadiomicsFeatureExtractor(str(params_path))
    out = {}
    for name, mask in regions.items():
        for k, v in ex.execute(image, mask).items():
            if not k.startswith("diagnostics_"):
                out[f"{name}_{k}"] = float(v)
    return out


# -- known answers ----------------------------------------------------------------------
def test_uniform_disk_mean_and_area(tmp_path):
    params = write_params(tmp_path / "p.yaml", MINIMAL)
    lesion = disk((41, 41), (20, 20), 8)
    arr = np.where(lesion, 123.0, 40.0)
    ex = RadiomicsExtractor(params, peritumoral_mm=())
    areas = {}
    for spacing in (0.2, 0.1):
        img, m = sitk_pair(arr, lesion, spacing)
        f = ex.measure_regions(ex.prepare(img), region_masks(m, ()))
        assert f["intra_original_firstorder_Mean"] == pytest.approx(123.0)
        assert f["intra_original_firstorder_Minimum"] == f["intra_original_firstorder_Maximum"] == 123
        areas[spacing] = f["intra_original_shape2D_PixelSurface"]
        assert areas[spacing] == pytest.approx(lesion.sum() * spacing**2)
    assert areas[0.2] == pytest.approx(4 * areas[0.1])


def test_ring_area_feature(tmp_path):
    params = write_params(tmp_path / "p.yaml", MINIMAL)
    spacing, r_mm, w_mm = 0.1, 2.0, 1.0
    lesion = disk((81, 81), (40, 40), r_mm / spacing)
    img, m = sitk_pair(np.where(lesion, 50.0, 150.0), lesion, spacing)
    f = RadiomicsExtractor(params, peritumoral_mm=(w_mm,)).measure_regions(
        RadiomicsExtractor(params).prepare(img), region_masks(m, (w_mm,)))
    assert f["peri1mm_original_firstorder_Mean"] == pytest.approx(150.0)
    assert f["peri1mm_original_shape2D_PixelSurface"] == pytest.approx(
        np.pi * ((r_mm + w_mm) ** 2 - r_mm**2), rel=0.08)


def test_rgb_and_grey_copies_identical_features(tmp_path):
    arr, mask = lesion_image((60, 60), radius=10)
    g = write_png(tmp_path / "g.png", arr)
    c = write_png(tmp_path / "c.png", np.stack([arr] * 3, axis=-1))
    m = write_png(tmp_path / "m.png", mask * 255)
    ex = RadiomicsExtractor(PARAMS, peritumoral_mm=(1,))
    assert ex.extract_patient(g, m, 0.1) == ex.extract_patient(c, m, 0.1)


def test_ultrasound_dicom_measured_in_mm_of_its_regions(tmp_path):
    """A US DICOM calibrated at 0.01 cm per pixel gives the features of its PNG copy at
    0.1 mm (areas in mm2 included), not those of SimpleITK's 1 mm per pixel."""
    from conftest import us_region, write_dicom

    arr, mask = lesion_image((60, 60), radius=10)
    dcm = write_dicom(tmp_path / "us.dcm", arr, regions=[us_region((0, 0, 59, 59), (0.01, 0.01))])
    g = write_png(tmp_path / "g.png", arr)
    m = write_png(tmp_path / "m.png", mask * 255)
    ex = RadiomicsExtractor(write_params(tmp_path / "p.yaml", MINIMAL), peritumoral_mm=(1,))
    feats = ex.extract_patient(dcm, m)
    assert feats == ex.extract_patient(g, m, 0.1)
    assert feats["intra_original_shape2D_PixelSurface"] == pytest.approx(mask.sum() * 0.01)


# -- exactness against pyradiomics' execute ----------------------------------------------
@pytest.mark.parametrize("fast_glcm", [False, True])
def test_shared_extraction_equals_pyradiomics_execute(tmp_path, fast_glcm):
    """The study's params (Original, LoG, wavelet; normalised, resampled 0.15 -> 0.2 mm):
    every feature of the lesion and the 3 mm ring equals execute()'s: bit for bit with stock
    pyradiomics, and GLCM within summation-order rounding with FastGLCM."""
    arr, mask = lesion_image((100, 100), radius=15)
    img, m = sitk_pair(arr, mask, 0.15)
    regions = region_masks(m, (3,))
    ex = RadiomicsExtractor(PARAMS, peritumoral_mm=(3,), fast_glcm=fast_glcm)
    prepared = ex.prepare(img)
    got = ex.measure_regions(prepared, regions)
    ref = execute_reference(PARAMS, img, regions)
    assert set(got) == set(ref)
    assert len(prepared.grids) == 1  # both regions measured on ONE set of filtered images
    for prefix in ("original", "log-sigma-1-0-mm-3D", "log-sigma-3-0-mm-3D", "wavelet-LH", "wavelet-LL"):
        assert any(k.startswith(f"peri3mm_{prefix}_glcm") for k in got), prefix
    np.testing.assert_allclose([got[k] for k in sorted(ref)], [ref[k] for k in sorted(ref)],
                               rtol=1e-10, atol=0)
    differ = sorted(k for k in ref if got[k] != ref[k])
    if not fast_glcm:
        assert differ == []  # bit-identical
    else:  # only GLCM features may differ, and only in the last bits
        assert all("_glcm_" in k for k in differ), differ[:5]


def _pad5_params() -> dict:
    params = yaml.safe_load(PARAMS.read_text())
    params["setting"]["padDistance"] = 5
    params["imageType"]["LoG"]["sigma"] = [0.5]
    return params


PRECROP = {"setting": {"label": 1, "binWidth": 25, "additionalInfo": False, "preCrop": True},
           "imageType": {"Original": {}, "LoG": {"sigma": [1.0]}},
           "featureClass": {"firstorder": None, "glcm": ["Contrast", "JointEntropy"]}}


@pytest.mark.parametrize("params", [_pad5_params(), PRECROP], ids=["padDistance5", "preCrop"])
def test_exact_with_per_region_crops(tmp_path, params):
    """With pyradiomics' default padDistance (5), or with preCrop and no resampling, every
    region has its own crop and grid; the shared extraction is still identical to execute()
    (it just shares less)."""
    path = write_params(tmp_path / "params.yaml", params)
    arr, mask = lesion_image((90, 90), radius=12, seed=3)
    img, m = sitk_pair(arr, mask, 0.15)
    regions = region_masks(m, (1,))
    ex = RadiomicsExtractor(path, peritumoral_mm=(1,), fast_glcm=False)
    prepared = ex.prepare(img)
    got = ex.measure_regions(prepared, regions)
    ref = execute_reference(path, img, regions)
    assert len(prepared.grids) == 2
    assert set(got) == set(ref) and all(got[k] == ref[k] for k in ref)


def test_feature_names_and_counts():
    arr, mask = lesion_image((100, 100), radius=15)
    img, m = sitk_pair(arr, mask, 0.2)
    ex = RadiomicsExtractor(PARAMS, peritumoral_mm=(3,))
    f = ex.measure_regions(ex.prepare(img), region_masks(m, (3,)))
    assert "intra_original_firstorder_Mean" in f and "peri3mm_wavelet-LH_glcm_Contrast" in f
    assert not any("diagnostics" in k or "_shape_" in k for k in f)
    assert not any("_MCC" in k for k in f)
    n_intra = sum(k.startswith("intra_") for k in f)
    assert n_intra == sum(k.startswith("peri3mm_") for k in f) == 745
    # 9 shape2D + 8 images (original, 3 LoG, 4 wavelet) x (18+23+16+16+14+5) texture/first-order
    assert sum(k.startswith("intra_original_shape2D_") for k in f) == 9


# -- failures -----------------------------------------------------------------------------
def _cohort(tmp_path, n=3):
    rows = []
    for i in range(n):
        arr, mask = lesion_image((60, 60), radius=10, seed=i)
        pid = f"P{i + 1:03d}"
        rows.append({"patient_id": pid, "image": str(write_png(tmp_path / f"{pid}.png", arr)),
                     "mask": str(write_png(tmp_path / f"{pid}_m.png", mask * 255)),
                     "pixel_spacing_mm": 0.1})
    return pd.DataFrame(rows)


def test_cohort_progress_and_failure_names_patient(tmp_path, caplog):
    params = write_params(tmp_path / "p.yaml", MINIMAL)
    cohort = _cohort(tmp_path)
    ex = RadiomicsExtractor(params, peritumoral_mm=(1,))
    with caplog.at_level(logging.INFO, logger="alnburden.extraction.extractor"):
        df = ex.extract_cohort(cohort)
    assert list(df["patient_id"]) == ["P001", "P002", "P003"]
    assert list(df.columns[1:]) == sorted(df.columns[1:])
    assert any(r.getMessage().startswith("2/3 P002 ") for r in caplog.records)
    single = np.zeros((60, 60), np.uint8)
    single[30, 30] = 255  # one pixel: pyradiomics cannot measure it
    write_png(Path(cohort.loc[1, "mask"]), single)
    with pytest.raises(ExtractionError, match=r"patient P002: .*region intra.*1 segmented voxel"):
        ex.extract_cohort(cohort)
    cohort.loc[1, "image"] = str(tmp_path / "missing.png")
    with pytest.raises(ExtractionError, match=r"patient P002: .*missing\.png: file not found"):
        ex.extract_cohort(cohort)


def test_nan_feature_raises(tmp_path, monkeypatch):
    params = write_params(tmp_path / "p.yaml", MINIMAL)
    cohort = _cohort(tmp_path, n=1)
    ex = RadiomicsExtractor(params, peritumoral_mm=())
    monkeypatch.setattr(RadiomicsExtractor, "measure", lambda self, p, m: {"original_x_Y": np.nan})
    with pytest.raises(ExtractionError, match=r"patient P001: .*original_x_Y is nan"):
        ex.extract_cohort(cohort)


def test_invalid_params_rejected(tmp_path):
    bad = write_params(tmp_path / "bad.yaml", {"setting": {"binWidht": 5}})
    with pytest.raises(ValueError, match=r"bad\.yaml is invalid"):
        RadiomicsExtractor(bad).extractor_
    shape3d = write_params(tmp_path / "s.yaml", {"featureClass": {"shape": None}})
    with pytest.raises(ValueError, match="'shape' is 3-D"):
        RadiomicsExtractor(shape3d).extractor_
    with pytest.raises(FileNotFoundError, match="nope.yaml not found"):
        RadiomicsExtractor(tmp_path / "nope.yaml").extractor_


# -- shards and provenance ----------------------------------------------------------------
def test_shards():
    assert n_shards_for(583, 8) == 8
    assert n_shards_for(35, 8) == 3
    assert n_shards_for(4, 8) == 1
    # "auto": 4 per job slot, at least 20 patients each
    assert n_shards_for(583, "auto", job_slots=2) == 8
    assert n_shards_for(583, "auto", job_slots=1) == 4
    assert n_shards_for(583, "auto", job_slots=100) == 29  # a cluster: jobs of 20 patients
    assert n_shards_for(48, "auto", job_slots=8) == 2
    assert n_shards_for(5, "auto", job_slots=8) == 1
    with pytest.raises(ValueError, match="shards='auto'"):
        n_shards_for(100, "many")
    ids = [f"P{i:03d}" for i in range(25)]
    a = shard_of(ids, 3)
    assert a == shard_of(list(reversed(ids)), 3)
    assert sorted(np.bincount(list(a.values()))) == [8, 8, 9]


def test_write_and_merge_shards(tmp_path):
    params = write_params(tmp_path / "p.yaml", MINIMAL)
    ex = RadiomicsExtractor(params, peritumoral_mm=(1,))
    meta = ex.feature_metadata()
    import radiomics

    assert meta["pyradiomics_version"] == radiomics.__version__ and len(meta["params_sha256"]) == 64
    df = pd.DataFrame({"patient_id": ["B", "A", "C"], "x": [1.0, 2.0, 3.0], "a": [4.0, 5.0, 6.0]})
    write_features(df.iloc[:2], tmp_path / "s0.parquet", meta)
    write_features(df.iloc[2:], tmp_path / "s1.parquet", meta)
    write_features(df.iloc[:0], tmp_path / "s2.parquet", meta)
    merged = merge_shards([tmp_path / f"s{i}.parquet" for i in range(3)])
    assert list(merged.columns) == ["patient_id", "a", "x"]
    assert list(merged["patient_id"]) == ["A", "B", "C"]
    assert merged.attrs["alnburden"]["params_sha256"] == meta["params_sha256"]
    assert read_features(tmp_path / "s0.parquet")[1] == meta
    assert (tmp_path / "s0.json").is_file()
    write_features(df.iloc[1:], tmp_path / "s1.parquet", meta)
    with pytest.raises(ValueError, match=r"patients \['A'\] appear in several shards"):
        merge_shards([tmp_path / "s0.parquet", tmp_path / "s1.parquet"])
    write_features(df.iloc[2:], tmp_path / "s1.parquet", {**meta, "params_sha256": "other"})
    with pytest.raises(ValueError, match="different params files"):
        merge_shards([tmp_path / "s0.parquet", tmp_path / "s1.parquet"])


def test_extract_shard_files_merge_into_the_cohort_table(tmp_path):
    """Two shards written by extract_shard hold every patient once and merge into exactly
    extract_cohort's table (row order of the cohort does not matter)."""
    params = write_params(tmp_path / "p.yaml", MINIMAL)
    cohort = _cohort(tmp_path, n=3)
    paths = [tmp_path / f"{k}.parquet" for k in range(2)]
    for k, path in enumerate(paths):
        extract_shard(cohort.iloc[::-1], k, 2, params, path, peritumoral_mm=(1,))
    sizes = [len(read_features(p)[0]) for p in paths]
    assert sorted(sizes) == [1, 2]
    merged = merge_shards(paths)
    whole = RadiomicsExtractor(params, peritumoral_mm=(1,)).extract_cohort(cohort)
    pd.testing.assert_frame_equal(merged, whole)
    assert merged.attrs["alnburden"]["peritumoral_mm"] == [1.0]


def test_row_spacing_is_none_when_missing():
    def first_row(**columns):
        return next(pd.DataFrame(columns).itertuples(index=False))

    assert row_spacing(first_row(pixel_spacing_mm=[0.12])) == 0.12
    assert row_spacing(first_row(pixel_spacing_mm=[np.nan])) is None
    assert row_spacing(first_row(pixel_spacing_mm=pd.array([None], dtype="Float64"))) is None
    assert row_spacing(first_row(image=["x.png"])) is None  # no spacing column at all


def test_features_of_a_float_image_do_not_depend_on_itk_threads(tmp_path):
    """ITK's threaded sums (the normalisation's mean and SD) depend on the thread count for
    non-integer images; the extractor runs ITK on one thread, so the machine's cores do not
    change the features."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    rr, cc = np.mgrid[:120, :120]
    lesion = ((rr - 60) ** 2 + (cc - 60) ** 2 <= 30**2).astype(np.uint8)
    image = (rng.normal(100, 15, lesion.shape) - 40 * lesion).astype(np.float32)  # not integers
    for arr, name in ((image, "i.nrrd"), (lesion, "m.nrrd")):
        img = sitk.GetImageFromArray(arr)
        img.SetSpacing((0.15, 0.15))
        sitk.WriteImage(img, str(tmp_path / name))
    params = Path(__file__).resolve().parents[1] / "config" / "radiomics.yaml"
    code = ("import sys, json, SimpleITK as sitk\n"
            "sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(int(sys.argv[1]))\n"
            "from alnburden.extraction.extractor import RadiomicsExtractor\n"
            f"ex = RadiomicsExtractor({str(params)!r}, peritumoral_mm=(3,))\n"
            f"f = ex.extract_patient({str(tmp_path / 'i.nrrd')!r}, {str(tmp_path / 'm.nrrd')!r})\n"
            "assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == 1\n"
            "print(json.dumps([float(f[k]).hex() for k in sorted(f)]))\n")
    out = [subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True,
                          check=True).stdout for n in (1, 3, 8)]
    assert out[0] == out[1] == out[2] and len(out[0]) > 100
