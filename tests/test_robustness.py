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
    combine_icc,
    extract_perturbed,
    extract_perturbed_cohort,
    extract_readers,
    extract_robustness_shard,
    icc_table,
    kept_by_image_type,
    patient_rng,
    perturbed_pairs,
    robustness_settings,
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


def test_perturbed_pairs_are_seeded_and_recorded():
    mask = disk_mask()
    image = sitk.GetImageFromArray(np.random.default_rng(0).normal(100, 10, (80, 80)).astype(np.float32))
    image.CopyInformation(mask)
    pairs = perturbed_pairs(image, mask, 4, np.random.default_rng(1))
    assert len(pairs) == 4
    for im, m, rec in pairs:
        assert m.GetSpacing() == mask.GetSpacing() and im.GetSize() == image.GetSize()
        assert 0.5 < rec["dice"] < 1.0 and rec["dice"] == pytest.approx(rec["dice"])
    assert [round(r["volume"], 4) for _, _, r in pairs] == [-0.1, -0.0333, 0.0333, 0.1]
    again = perturbed_pairs(image, mask, 4, np.random.default_rng(1))
    assert all(np.array_equal(sitk.GetArrayFromImage(a[1]), sitk.GetArrayFromImage(b[1]))
               and np.array_equal(sitk.GetArrayFromImage(a[0]), sitk.GetArrayFromImage(b[0]))
               for a, b in zip(pairs, again))
    with pytest.raises(ValueError, match=r"perturbation 1: the perturbed mask has 0 pixel\(s\) of 1"):
        perturbed_pairs(image, disk_mask(radius=0.5), 2, 0)


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
    assert list(table.columns) == ["feature", "icc", "ci_low", "ci_high", "kept", "n_patients",
                                   "n_raters"]
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


def _disk_cohort(tmp_path: Path, radii, seed: int) -> pd.DataFrame:
    """Patients P0, P1, ... with a noisy image and a disk lesion of each radius (pixels)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, radius in enumerate(radii):
        mask = sitk.GetArrayFromImage(disk_mask(radius=radius))
        img = np.clip(rng.normal(150, 20, mask.shape) - 80 * mask, 0, 255)
        rows.append({"patient_id": f"P{i}", "image": _write(tmp_path / f"i{i}.png", img),
                     "mask": _write(tmp_path / f"m{i}.png", mask * 255), "pixel_spacing_mm": 0.1})
    return pd.DataFrame(rows)


def test_extract_perturbed_long_table(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(SMALL))
    cohort = _disk_cohort(tmp_path, (15, 18), seed=0)
    rows = cohort.to_dict(orient="records")
    ex = RadiomicsExtractor(params, peritumoral_mm=(1,))
    long, records = extract_perturbed_cohort(ex, cohort, 3, seed=5)
    assert list(long.columns[:2]) == ["patient_id", "rater"] and len(long) == 8
    assert list(records["perturbation"]) == [1, 2, 3] * 2 and records["dice"].between(0.5, 1).all()
    assert list(long["rater"][:4]) == [0, 1, 2, 3]
    # rater 0 is the plain extraction
    plain = ex.extract_patient(rows[0]["image"], rows[0]["mask"], 0.1)
    first = long.iloc[0]
    assert all(first[k] == v for k, v in plain.items())
    area = long.loc[long.patient_id == "P0", "intra_original_shape2D_PixelSurface"].to_numpy()
    assert area[1] < area[0] < area[3]  # volume adaptation -10 % ... +10 %
    again, rec = extract_perturbed(ex, rows[0]["image"], rows[0]["mask"], 0.1, 3,
                                   patient_rng(5, "P0"), patient_id="P0")
    pd.testing.assert_frame_equal(again, long.iloc[:4].reset_index(drop=True))
    pd.testing.assert_frame_equal(rec, records.iloc[:3].reset_index(drop=True))
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
        extract_robustness_shard(cohort, split, k, 2, params, path, tmp_path / f"p{k}.csv",
                                 peritumoral_mm=(1,), fraction=1.0, n_perturbations=2, seed=5)
    merged = merge_shards(paths)
    assert sorted(merged["patient_id"].unique()) == ["P0", "P2", "P4"]
    assert list(merged["rater"]) == [0, 1, 2] * 3
    records = pd.concat([pd.read_csv(tmp_path / f"p{k}.csv") for k in range(2)])
    assert sorted(records["patient_id"]) == ["P0", "P0", "P2", "P2", "P4", "P4"]


def test_perturbations_do_not_depend_on_sharding(tmp_path):
    """A patient's perturbed features are the same whatever shard count extracts them."""
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(SMALL))
    cohort = _disk_cohort(tmp_path, (12, 14, 16, 18), seed=2)
    split = pd.DataFrame({"patient_id": cohort["patient_id"], "set": "train"})
    merged = {}
    for n_shards in (1, 3):
        paths = [tmp_path / f"s{n_shards}_{k}.parquet" for k in range(n_shards)]
        for k, path in enumerate(paths):
            extract_robustness_shard(cohort, split, k, n_shards, params, path,
                                     tmp_path / f"s{n_shards}_{k}.csv", peritumoral_mm=(1,),
                                     fraction=1.0, n_perturbations=2, seed=5)
        merged[n_shards] = merge_shards(paths)
    pd.testing.assert_frame_equal(merged[1], merged[3])


def test_readers_long_table_and_dice(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(SMALL))
    mask = sitk.GetArrayFromImage(disk_mask(radius=15))
    second = sitk.GetArrayFromImage(disk_mask(radius=16))
    img = np.clip(np.random.default_rng(4).normal(150, 20, mask.shape) - 80 * mask, 0, 255)
    cohort = pd.DataFrame([{"patient_id": "P0", "image": _write(tmp_path / "i.png", img),
                            "mask": _write(tmp_path / "m.png", mask * 255),
                            "mask_reader2": _write(tmp_path / "m2.png", second * 255),
                            "pixel_spacing_mm": 0.1}])
    ex = RadiomicsExtractor(params, peritumoral_mm=(1,))
    long, dice_table = extract_readers(ex, cohort)
    assert list(long["rater"]) == [0, 1]
    area = long["intra_original_shape2D_PixelSurface"].to_numpy()
    assert area[0] == pytest.approx(mask.sum() * 0.01) and area[1] == pytest.approx(second.sum() * 0.01)
    assert dice_table["dice"].iloc[0] == pytest.approx(2 * mask.sum() / (mask.sum() + second.sum()))
    bad = cohort.assign(mask_reader2=str(tmp_path / "none.png"))
    with pytest.raises(ExtractionError, match="patient P0: second-reader extraction failed"):
        extract_readers(ex, bad)


# -- ICC ------------------------------------------------------------------------------------

#: Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; ICC(2,1) = 0.29, ICC(3,1) = 0.71.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                          [6, 2, 4, 7]], dtype=float)


def test_icc_matches_shrout_fleiss_worked_example():
    df = _long(SHROUT_FLEISS)
    assert icc_table(df, "ICC2")["icc"].iloc[0] == pytest.approx(0.29, abs=0.005)
    assert icc_table(df, "ICC3")["icc"].iloc[0] == pytest.approx(0.71, abs=0.005)


def test_icc_and_ci_match_pingouin_unrounded():
    import pingouin as pg

    rng = np.random.default_rng(11)
    values = rng.normal(size=(40, 1)) + 0.4 * rng.normal(size=(40, 4)) + np.array([0, 0.5, -0.3, 0.2])
    df = _long(values)
    ref = pg.intraclass_corr(df, targets="patient_id", raters="rater", ratings="f").set_index("Type")
    for form, row in (("ICC2", "ICC(A,1)"), ("ICC3", "ICC(C,1)")):
        ours = icc_table(df, form).iloc[0]
        assert ours["icc"] == pytest.approx(ref.loc[row, "ICC"], rel=1e-9)
        lo, hi = ref.loc[row, "CI95"]  # pingouin rounds its interval to 2 decimals
        assert ours["ci_low"] == pytest.approx(lo, abs=0.005 + 1e-12)
        assert ours["ci_high"] == pytest.approx(hi, abs=0.005 + 1e-12)
        assert ours["ci_low"] < ours["icc"] < ours["ci_high"]


def test_icc2_penalises_a_systematic_shift_that_icc3_ignores():
    rng = np.random.default_rng(5)
    truth = rng.normal(size=(30, 1))
    values = truth + 0.05 * rng.normal(size=(30, 3)) + np.array([0.0, 1.0, -1.0])
    df = _long(values)
    assert icc_table(df, "ICC3")["icc"].iloc[0] > 0.95
    assert icc_table(df, "ICC2")["icc"].iloc[0] < 0.6


def test_keep_rule_uses_the_lower_bound():
    rng = np.random.default_rng(8)
    truth = rng.normal(size=(12, 1))
    df = _long(truth + 0.45 * rng.normal(size=(12, 3)))
    row = icc_table(df, "ICC2", threshold=0.75, keep_on="icc").iloc[0]
    assert row["ci_low"] < 0.75 <= row["icc"]  # a point estimate above, a bound below
    assert row["kept"]
    assert not icc_table(df, "ICC2", threshold=0.75, keep_on="ci_low")["kept"].iloc[0]
    assert not icc_table(df, "ICC2", threshold=0.75)["kept"].iloc[0]  # ci_low is the default
    with pytest.raises(ValueError, match="keep_on='median' is unknown"):
        icc_table(df, keep_on="median")


def test_icc_on_a_subset_of_patients_is_the_icc_of_that_subset():
    """What a cross-validation fold does: subset the long table by patient, call icc_table."""
    rng = np.random.default_rng(9)
    df = _long(rng.normal(size=(20, 1)) + 0.3 * rng.normal(size=(20, 3)))
    keep = [f"P{i}" for i in range(0, 20, 2)]
    sub = icc_table(df[df["patient_id"].isin(keep)])
    alone = icc_table(_long(df.pivot(index="patient_id", columns="rater", values="f")
                            .loc[keep].to_numpy()).assign(
        patient_id=lambda d: d["patient_id"].map(dict(zip([f"P{i}" for i in range(10)], keep)))))
    pd.testing.assert_frame_equal(sub, alone)
    assert sub["n_patients"].iloc[0] == 10


def test_icc_defaults_are_the_schema_defaults():
    import inspect

    from alnburden.extraction.perturbation import PerturbationSettings
    from alnburden.schemas import CONFIG_SCHEMA, load_schema

    props = (load_schema(CONFIG_SCHEMA)["properties"]["radiomics"]["properties"]["robustness"]
             ["properties"])
    sig = inspect.signature(icc_table).parameters
    for key in ("icc", "threshold", "keep_on"):
        assert sig[key].default == props[key]["default"], key
    pert = {k: v["default"] for k, v in props["perturbation"]["properties"].items()}
    assert PerturbationSettings().__dict__ == pert
    settings = robustness_settings({"fraction": 0.5, "perturbation": {"volume": 0.2}})
    assert settings["fraction"] == 0.5 and settings["perturbation"]["volume"] == 0.2
    assert settings["perturbation"]["rotation_deg"] == pert["rotation_deg"]


def _icc_rows(features, kept, icc=0.9):
    return pd.DataFrame({"feature": features, "icc": icc, "ci_low": icc - 0.1,
                         "ci_high": icc + 0.05, "kept": kept, "n_patients": 10, "n_raters": 4})


def test_combine_icc_sources():
    feats = ["intra_original_firstorder_Mean", "peri3mm_wavelet-HH_glcm_Contrast",
             "intra_log-sigma-1-0-mm-3D_glszm_ZoneEntropy"]
    pert, readers = _icc_rows(feats, [True, True, False]), _icc_rows(feats, [True, False, True], 0.8)
    both = combine_icc(pert, readers, "both")
    assert list(both["kept"]) == [True, False, False]
    assert list(both["kept_readers"]) == [True, False, True]
    assert list(both["image_type"]) == ["original", "wavelet-HH", "log-sigma-1-0-mm-3D"]
    assert list(both["feature_class"]) == ["firstorder", "glcm", "glszm"]
    assert list(both.columns[:5]) == ["feature", "icc", "ci_low", "ci_high", "kept"]
    assert both["reader_icc"].iloc[0] == 0.8
    assert list(combine_icc(pert, None)["kept"]) == [True, True, False]
    assert list(combine_icc(None, readers, "readers")["kept"]) == [True, False, True]
    with pytest.raises(ValueError, match=r"needs the \['readers'\] ICC table"):
        combine_icc(pert, None, "both")
    counts = kept_by_image_type(both).set_index("image_type")
    assert counts.loc["all", "kept"] == 1 and counts.loc["all", "n_features"] == 3


def test_source_readers_without_second_reader_is_refused():
    from alnburden.extraction.robustness import check_source

    check_source("perturbation", None)
    check_source("both", ["patient_id", "image", "mask", "mask_reader2"])
    with pytest.raises(ValueError, match="in-silico cohort has no mask_reader2 column"):
        check_source("readers", None)
    with pytest.raises(ValueError, match="manifest has no mask_reader2.*source: perturbation"):
        check_source("both", ["patient_id", "image", "mask"])


def test_icc_rule_glue_with_both_sources(tmp_path):
    """extract shards of both sources, then robustness_icc: the tables and the long tables."""
    from alnburden.extraction.robustness import extract_readers_shard, robustness_icc

    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(SMALL))
    rng = np.random.default_rng(6)
    rows = []
    for i in range(5):
        mask = sitk.GetArrayFromImage(disk_mask(radius=11 + 2 * i))
        second = sitk.GetArrayFromImage(disk_mask(radius=12 + 2 * i))
        img = np.clip(rng.normal(150, 20, mask.shape) - (40 + 10 * i) * mask, 0, 255)
        rows.append({"patient_id": f"P{i}", "image": _write(tmp_path / f"i{i}.png", img),
                     "mask": _write(tmp_path / f"m{i}.png", mask * 255),
                     "mask_reader2": _write(tmp_path / f"r{i}.png", second * 255) if i != 4 else None,
                     "pixel_spacing_mm": 0.1})
    cohort = pd.DataFrame(rows)
    split = pd.DataFrame({"patient_id": cohort["patient_id"],
                          "set": ["train", "train", "train", "test", "train"]})
    inputs = {k: [] for k in ("perturbation", "perturbations", "readers", "reader_dice")}
    for k in range(2):
        extract_robustness_shard(cohort, split, k, 2, params, tmp_path / f"p{k}.parquet",
                                 tmp_path / f"p{k}.csv", peritumoral_mm=(1,), fraction=1.0,
                                 n_perturbations=2, seed=3)
        extract_readers_shard(cohort, split, k, 2, params, tmp_path / f"r{k}.parquet",
                              tmp_path / f"r{k}.csv", peritumoral_mm=(1,))
        inputs["perturbation"].append(tmp_path / f"p{k}.parquet")
        inputs["perturbations"].append(tmp_path / f"p{k}.csv")
        inputs["readers"].append(tmp_path / f"r{k}.parquet")
        inputs["reader_dice"].append(tmp_path / f"r{k}.csv")
    out = {"icc": tmp_path / "icc.csv", "perturbation": tmp_path / "pert.parquet",
           "perturbations": tmp_path / "perturbations.csv", "readers": tmp_path / "readers.parquet",
           "reader_dice": tmp_path / "reader_dice.csv"}
    with pytest.raises(ValueError, match="no feature passes the robustness filter"):
        robustness_icc(inputs, out, source="both", keep_on="icc", threshold=1.01)
    table = robustness_icc(inputs, out, source="both", keep_on="icc", threshold=0.5)
    assert {"reader_icc", "kept_readers", "kept_perturbation"} <= set(table.columns)
    assert (table["kept"] == table["kept_readers"] & table["kept_perturbation"]).all()
    written = pd.read_csv(out["icc"])
    assert list(written["feature"]) == list(table["feature"])
    # readers: training patients with a second mask only (P3 is a test patient, P4 has none)
    assert sorted(pd.read_csv(out["reader_dice"])["patient_id"]) == ["P0", "P1", "P2"]
    assert table["reader_n_patients"].iloc[0] == 3 and table["n_patients"].iloc[0] == 4
    perturbations = pd.read_csv(out["perturbations"])
    assert len(perturbations) == 8 and perturbations["dice"].between(0, 1).all()
    long_df = merge_shards([out["perturbation"]])
    # a fold's ICC from the long table: a pure function of the patients it is given
    fold = icc_table(long_df[long_df["patient_id"].isin(["P0", "P1", "P2"])])
    assert fold["n_patients"].iloc[0] == 3


@pytest.mark.workflow
def test_workflow_refuses_readers_source_without_second_reader(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(root / "Snakefile"),
           "--configfile", str(root / "tests/data/ci_config.yaml"), "-n",
           "--config", "radiomics={'robustness': {'source': 'readers'}}"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "in-silico cohort has no mask_reader2 column" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()
