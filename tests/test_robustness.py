"""Segmentation robustness (alnburden.extraction.robustness): perturbed masks and ICC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from alnburden.extraction.extractor import ExtractionError, RadiomicsExtractor
from alnburden.extraction.robustness import (
    dice,
    extract_perturbed,
    extract_perturbed_cohort,
    extract_robustness_shard,
    icc_table,
    patient_rng,
    perturb_masks,
    select_patients,
)
from alnburden.extraction.shards import merge_shards

SMALL = {
    "setting": {"label": 1, "binWidth": 25, "additionalInfo": False},
    "imageType": {"Original": {}},
    "featureClass": {"shape2D": ["PixelSurface", "Perimeter"], "firstorder": ["Mean", "Variance"]},
}


def disk_mask(shape=(80, 80), radius=20.0):
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    arr = ((rr - shape[0] / 2) ** 2 + (cc - shape[1] / 2) ** 2 <= radius**2).astype(np.uint8)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.1, 0.1))
    return img


def test_perturbed_masks_differ_a_little_and_are_seeded():
    mask = disk_mask()
    masks = perturb_masks(mask, 4, np.random.default_rng(1))
    area = sitk.GetArrayFromImage(mask).sum()
    areas = [sitk.GetArrayFromImage(m).sum() for m in masks]
    assert areas[0] < area < areas[1]  # erosion, dilation
    for m in masks:
        assert m.GetSpacing() == mask.GetSpacing()
        assert 0.8 < dice(m, mask) < 1.0
    assert dice(masks[2], masks[3]) < 1.0  # two different smooth perturbations
    again = perturb_masks(mask, 4, np.random.default_rng(1))
    assert all(np.array_equal(sitk.GetArrayFromImage(a), sitk.GetArrayFromImage(b))
               for a, b in zip(masks, again))
    with pytest.raises(ValueError, match="must be >= 2"):
        perturb_masks(mask, 1, 0)
    with pytest.raises(ValueError, match="erosion leaves 0 lesion pixel"):
        perturb_masks(disk_mask(radius=0.5), 2, 0)


def test_patient_rng_and_selection_are_stable():
    a = patient_rng(7, "P001").standard_normal(3)
    assert np.array_equal(a, patient_rng(7, "P001").standard_normal(3))
    assert not np.array_equal(a, patient_rng(7, "P002").standard_normal(3))
    ids = [f"P{i:03d}" for i in range(40)]
    sel = select_patients(ids, 0.25, 2026)
    assert len(sel) == 10 and sel == select_patients(list(reversed(ids)), 0.25, 2026)


def _long(values: np.ndarray) -> pd.DataFrame:
    n, k = values.shape
    return pd.DataFrame({"patient_id": np.repeat([f"P{i}" for i in range(n)], k),
                         "rater": np.tile(np.arange(k), n), "f": values.ravel()})


def test_icc_identical_raters_is_one_and_constant_is_nan():
    base = np.repeat(np.arange(10.0)[:, None], 4, axis=1)
    df = _long(base)
    df["const"] = 3.0
    rng = np.random.default_rng(0)
    df["noisy"] = rng.normal(size=len(df))  # raters disagree completely
    table = icc_table(df, "ICC3", 0.75)
    assert list(table.columns) == ["feature", "icc", "ci_low", "ci_high", "kept"]
    row = table.set_index("feature")
    assert row.loc["f", "icc"] == pytest.approx(1.0) and row.loc["f", "kept"]
    assert row.loc["f", "ci_low"] == 1.0
    assert np.isnan(row.loc["const", "icc"]) and not row.loc["const", "kept"]
    assert row.loc["noisy", "icc"] < 0.5 and not row.loc["noisy", "kept"]


def test_icc_matches_pingouin_forms():
    import pingouin as pg

    rng = np.random.default_rng(3)
    values = rng.normal(size=(12, 1)) + 0.5 * rng.normal(size=(12, 3)) + np.array([0, 0.3, -0.2])
    df = _long(values)
    ref = pg.intraclass_corr(df, targets="patient_id", raters="rater", ratings="f").set_index("Type")
    assert icc_table(df, "ICC3")["icc"].iloc[0] == pytest.approx(ref.loc["ICC(C,1)", "ICC"])
    assert icc_table(df, "ICC2")["icc"].iloc[0] == pytest.approx(ref.loc["ICC(A,1)", "ICC"])
    with pytest.raises(ValueError, match="icc='ICC1' is unknown"):
        icc_table(df, "ICC1")
    with pytest.raises(ValueError, match=r"incomplete design: patients \['P0'\]"):
        icc_table(df.iloc[1:], "ICC3")


def _write(path: Path, arr) -> str:
    sitk.WriteImage(sitk.GetImageFromArray(np.asarray(arr, np.uint8)), str(path))
    return str(path)


def test_extract_perturbed_long_table(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(SMALL))
    rng = np.random.default_rng(0)
    rows = []
    for i in range(2):
        mask = sitk.GetArrayFromImage(disk_mask(radius=15 + 3 * i))
        img = np.clip(rng.normal(150, 20, mask.shape) - 80 * mask, 0, 255)
        rows.append({"patient_id": f"P{i}", "image": _write(tmp_path / f"i{i}.png", img),
                     "mask": _write(tmp_path / f"m{i}.png", mask * 255), "pixel_spacing_mm": 0.1})
    cohort = pd.DataFrame(rows)
    ex = RadiomicsExtractor(params, peritumoral_mm=(1,))
    long = extract_perturbed_cohort(ex, cohort, 3, seed=5)
    assert list(long.columns[:2]) == ["patient_id", "rater"] and len(long) == 8
    assert list(long["rater"][:4]) == [0, 1, 2, 3]
    # rater 0 is the plain extraction
    plain = ex.extract_patient(rows[0]["image"], rows[0]["mask"], 0.1)
    first = long.iloc[0]
    assert all(first[k] == v for k, v in plain.items())
    area = long.loc[long.patient_id == "P0", "intra_original_shape2D_PixelSurface"].to_numpy()
    assert area[1] < area[0] < area[2]
    again = extract_perturbed(ex, rows[0]["image"], rows[0]["mask"], 0.1, 3,
                              patient_rng(5, "P0"), patient_id="P0")
    pd.testing.assert_frame_equal(again, long.iloc[:4].reset_index(drop=True))
    with pytest.raises(ExtractionError, match=r"patient P9: robustness extraction failed"):
        extract_perturbed(ex, tmp_path / "none.png", rows[0]["mask"], 0.1, 3, 0, patient_id="P9")


def test_robustness_shards_hold_training_patients_only(tmp_path):
    """The ICC patients come from the training set (never a test patient), each in one shard."""
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(SMALL))
    mask = sitk.GetArrayFromImage(disk_mask(radius=15))
    img = np.clip(np.random.default_rng(1).normal(150, 20, mask.shape) - 80 * mask, 0, 255)
    ids = [f"P{i}" for i in range(5)]
    cohort = pd.DataFrame({"patient_id": ids, "image": _write(tmp_path / "i.png", img),
                           "mask": _write(tmp_path / "m.png", mask * 255),
                           "pixel_spacing_mm": 0.1})
    split = pd.DataFrame({"patient_id": ids, "set": ["train", "test", "train", "test", "train"]})
    paths = [tmp_path / f"rob{k}.parquet" for k in range(2)]
    for k, path in enumerate(paths):
        extract_robustness_shard(cohort, split, k, 2, params, path, peritumoral_mm=(1,),
                                 fraction=1.0, n_perturbations=2, seed=5, icc="ICC3")
    merged = merge_shards(paths)
    assert sorted(merged["patient_id"].unique()) == ["P0", "P2", "P4"]
    assert list(merged["rater"]) == [0, 1, 2] * 3
