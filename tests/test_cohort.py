"""Manifest validation: every problem of the catalogue, reported with its row and fix,
and the user's files left byte-identical."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml
from conftest import (LEVELS, VARIABLES, TinyCohort, disk, tree_hashes, us_region, write_dicom,
                      write_png)

from alnburden.cohort.manifest import validate_manifest
from alnburden.cohort.report import REPORT_COLUMNS, CohortValidationError, write_validation_report
from alnburden.cohort.row_schema import load_manifest_schema, manifest_row_schema


def expect_error(c: TinyCohort, match: str, **kwargs) -> CohortValidationError:
    """Validation fails with ``match`` in the message, and no input file changed."""
    before = c.snapshot()
    with pytest.raises(CohortValidationError, match=match) as info:
        c.validate(**kwargs)
    assert c.snapshot() == before
    assert list(info.value.report.columns) == REPORT_COLUMNS
    return info.value


def expect_valid(c: TinyCohort, **kwargs) -> pd.DataFrame:
    before = c.snapshot()
    cohort = c.validate(**kwargs)
    assert c.snapshot() == before
    return cohort


def write_nrrd(path, array, spacing=(0.1, 0.1), origin=None, direction=None, vector=False):
    img = sitk.GetImageFromArray(np.asarray(array, dtype=np.uint8), isVector=vector)
    img.SetSpacing(spacing)
    if origin is not None:
        img.SetOrigin(origin)
    if direction is not None:
        img.SetDirection(direction)
    sitk.WriteImage(img, str(path))


def use_nrrd_pair(c: TinyCohort, patient: int, spacing_mm: str = "", **mask_geometry) -> None:
    """Give ``patient`` (0-based) an NRRD image of spacing 0.1 mm and an NRRD mask
    (``mask_geometry``: spacing, origin, direction), with ``spacing_mm`` in the manifest."""
    pid = f"P{patient + 1:03d}"
    lesion = disk(TinyCohort.shape, (20, 20), 8)
    write_nrrd(c.root / "images" / f"{pid}.nrrd", np.where(lesion, 60, 150))
    write_nrrd(c.root / "masks" / f"{pid}.nrrd", lesion * 1, **mask_geometry)
    df = c.table()
    df.loc[patient, ["image", "mask", "pixel_spacing_mm"]] = [
        f"images/{pid}.nrrd", f"masks/{pid}.nrrd", spacing_mm]
    c.save(df)


# --------------------------------------------------------------------------- valid input


def test_valid_manifest_gives_typed_cohort(tiny_cohort):
    cohort = expect_valid(tiny_cohort)
    manifest_cols = list(tiny_cohort.table().columns)
    assert list(cohort.columns) == manifest_cols + ["nodal_class", "level1", "level2",
                                                    "n_components"]
    assert cohort["patient_id"].tolist() == [f"P00{i}" for i in range(1, 7)]
    for col in ("image", "mask"):
        assert all(tiny_cohort.root / rel == Path(p)
                   for rel, p in zip(tiny_cohort.table()[col], cohort[col]))
        assert all(p.startswith("/") for p in cohort[col])
    assert cohort["nodal_class"].tolist() == ["N0", "N0", "N1-2", "N1-2", "N>=3", "N>=3"]
    assert cohort["level1"].tolist() == [0, 0, 1, 1, 1, 1]
    assert cohort["level2"].isna().tolist() == [True, True, False, False, False, False]
    assert cohort["level2"].dropna().tolist() == [0, 0, 1, 1]
    assert cohort["n_components"].tolist() == [1] * 6
    assert cohort["n_positive_nodes"].dtype == np.int64
    assert cohort["age"].dtype == float
    assert str(cohort["er"].dtype) == "Int64" and str(cohort["grade"].dtype) == "Int64"
    assert cohort["subtype"].tolist()[:2] == ["luminal_a", "luminal_b"]


def test_levels_may_be_config_dicts(tiny_cohort):
    levels = [{"name": "burden", "population": "n_positive_nodes > 0",
               "label": "n_positive_nodes >= 4"}]
    cohort = validate_manifest(tiny_cohort.manifest, VARIABLES, levels)
    assert cohort["burden"].isna().sum() == 2
    assert cohort["burden"].dropna().tolist() == [0, 0, 0, 1]


def test_two_components_are_counted(tiny_cohort):
    mask = disk(TinyCohort.shape, (12, 12), 6) | disk(TinyCohort.shape, (28, 28), 6)
    write_png(tiny_cohort.root / "masks" / "P002.png", mask * 255)
    cohort = expect_valid(tiny_cohort)
    assert cohort["n_components"].tolist() == [1, 2, 1, 1, 1, 1]


@pytest.mark.parametrize("value", [1, 255, 7])
def test_binary_masks_any_nonzero_value_accepted(tiny_cohort, value):
    write_png(tiny_cohort.root / "masks" / "P003.png", disk(TinyCohort.shape, (20, 20), 8) * value)
    expect_valid(tiny_cohort)


def test_rgb_image_accepted(tiny_cohort):
    grey = np.full(TinyCohort.shape, 120, np.uint8)
    rgb = np.stack([grey, grey // 2, grey // 3], axis=-1)
    write_png(tiny_cohort.root / "images" / "P004.png", rgb)
    assert sitk.ReadImage(str(tiny_cohort.root / "images" / "P004.png")) \
        .GetNumberOfComponentsPerPixel() == 3
    expect_valid(tiny_cohort)


def test_nrrd_pair_uses_file_spacing(tiny_cohort):
    use_nrrd_pair(tiny_cohort, 1)
    cohort = expect_valid(tiny_cohort)
    assert np.isnan(cohort.loc[1, "pixel_spacing_mm"])


def use_dicom(c: TinyCohort, patient: int, regions=None, frames: int = 1,
              spacing_mm: str = "", mask: str = "png") -> None:
    """Give ``patient`` (0-based) its PNG image as an ultrasound DICOM (``frames`` copies:
    a cine loop when > 1) with the Sequence of Ultrasound Regions ``regions`` (default one
    region, 0.01 cm per pixel), ``spacing_mm`` in the manifest; the mask stays a PNG, or
    becomes an NRRD of spacing 0.1 mm (``mask="nrrd"``)."""
    pid = f"P{patient + 1:03d}"
    pixels = sitk.GetArrayFromImage(sitk.ReadImage(str(c.root / "images" / f"{pid}.png")))
    if regions is None:
        regions = [us_region((0, 0, 39, 39), (0.01, 0.01))]
    write_dicom(c.root / "images" / f"{pid}.dcm",
                np.stack([pixels] * frames) if frames > 1 else pixels, regions=regions)
    df = c.table()
    if mask == "nrrd":
        lesion = sitk.GetArrayFromImage(sitk.ReadImage(str(c.root / "masks" / f"{pid}.png")))
        write_nrrd(c.root / "masks" / f"{pid}.nrrd", lesion > 0)
        df.loc[patient, "mask"] = f"masks/{pid}.nrrd"
    df.loc[patient, ["image", "pixel_spacing_mm"]] = [f"images/{pid}.dcm", spacing_mm]
    c.save(df)


def test_ultrasound_dicom_takes_the_regions_spacing(tiny_cohort):
    use_dicom(tiny_cohort, 0)                    # PNG mask: takes the image's grid
    use_dicom(tiny_cohort, 1, mask="nrrd")       # NRRD mask of 0.1 mm: 0.01 cm x 10
    use_dicom(tiny_cohort, 2, spacing_mm="0.1")  # the manifest agrees
    cohort = expect_valid(tiny_cohort)
    assert cohort.loc[:2, "image"].str.endswith(".dcm").all()
    use_dicom(tiny_cohort, 3, spacing_mm="0.2")
    err = expect_error(tiny_cohort, r"pixel_spacing_mm is 0.2 but image images/P004.dcm "
                                    r"stores 0.1 x 0.1 mm")
    assert err.report["row"].tolist() == [5]


def test_dicom_problems_reported_per_row_before_any_work(tiny_cohort):
    halves = [us_region((0, 0, 19, 39), (0.01, 0.01)), us_region((20, 0, 39, 39), (0.02, 0.02))]
    use_dicom(tiny_cohort, 1, frames=4)
    use_dicom(tiny_cohort, 2, regions=halves)     # the lesion at column 20 +- 8 spans both
    use_dicom(tiny_cohort, 3, regions=[us_region((0, 0, 39, 39), (0.01, 0.01), units=(4, 7))])
    use_dicom(tiny_cohort, 4, regions=[us_region((0, 0, 39, 39), (0.0, 0.01))])
    err = expect_error(tiny_cohort, r"4 problems in 4 of its 6 patient rows")
    assert err.report["row"].tolist() == [3, 4, 5, 6]
    assert err.report["column"].tolist() == ["image"] * 4
    problems = err.report["problem"].tolist()
    assert problems[0].startswith("image images/P002.dcm: a multi-frame image (cine loop) of "
                                  "4 frames")
    assert "regions holding the lesion disagree on the pixel size" in problems[1]
    assert "physical units x = seconds, y = cm/sec, not cm" in problems[2]
    assert "PhysicalDeltaX = 0.0 (must be positive)" in problems[3]
    assert err.report["fix"].str.contains("export").all()


def write_nifti_slice(path, lesion, spacing):
    """A W x H x 1 NIfTI mask, as ITK-SNAP saves the segmentation of a 2D image."""
    img = sitk.GetImageFromArray(lesion.astype(np.uint8)[None])
    img.SetSpacing((spacing, spacing, 1.0))
    sitk.WriteImage(img, str(path))


def test_nifti_mask_with_singleton_slice_accepted(tiny_cohort):
    lesion = disk(TinyCohort.shape, (20, 20), 8)
    write_nifti_slice(tiny_cohort.root / "masks" / "P005.nii.gz", lesion, 0.1)
    tiny_cohort.set(4, "mask", "masks/P005.nii.gz")
    cohort = expect_valid(tiny_cohort)
    assert cohort.loc[4, "n_components"] == 1


def test_nifti_mask_off_the_png_grid(tiny_cohort):
    """A mask storing spacing 1 mm cannot lie on a PNG whose pixels are 0.1 mm."""
    write_nifti_slice(tiny_cohort.root / "masks" / "P005.nii.gz", disk(TinyCohort.shape, (20, 20), 8), 1.0)
    tiny_cohort.set(4, "mask", "masks/P005.nii.gz")
    expect_error(tiny_cohort, r"row 6, patient P005, column mask: pixel spacing of mask "
                              r"masks/P005\.nii\.gz is \(1, 1\) mm but image images/P005\.png has "
                              r"\(0\.1, 0\.1\) mm \(pixel_spacing_mm of the manifest\)")


def test_origin_mismatch(tiny_cohort):
    use_nrrd_pair(tiny_cohort, 2, origin=(2.0, 0.0))
    expect_error(tiny_cohort, r"origin of mask masks/P003\.nrrd is \(2, 0\) mm but image "
                              r"images/P003\.nrrd has \(0, 0\) mm")


def test_direction_mismatch(tiny_cohort):
    use_nrrd_pair(tiny_cohort, 2, direction=(0.0, 1.0, 1.0, 0.0))
    expect_error(tiny_cohort, r"row 4, patient P003, column mask: direction \(orientation\) of "
                              r"mask masks/P003\.nrrd differs from image images/P003\.nrrd")


def test_clinical_only_manifest_skips_file_checks(tiny_cohort):
    df = tiny_cohort.table().drop(columns=["image", "mask", "pixel_spacing_mm"])
    tiny_cohort.save(df)
    cohort = expect_valid(tiny_cohort)
    assert "n_components" not in cohort and "image" not in cohort
    assert cohort["level1"].tolist() == [0, 0, 1, 1, 1, 1]


def test_optional_variable_may_be_missing(tiny_cohort):
    tiny_cohort.set(2, "ki67", "")
    tiny_cohort.variables[5]["required"] = False
    cohort = expect_valid(tiny_cohort)
    assert cohort["ki67"].isna().tolist() == [False, False, True, False, False, False]


def test_blank_lines_do_not_shift_row_numbers(tiny_cohort):
    tiny_cohort.set(1, "age", 7)
    lines = tiny_cohort.manifest.read_text().splitlines()
    lines.insert(2, "")  # blank line 3: P002 moves to line 4
    tiny_cohort.manifest.write_text("\n".join(lines) + "\n")
    expect_error(tiny_cohort, r"row 4, patient P002, column age: age is 7, below the minimum 18")


# --------------------------------------------------------------------------- the manifest


def test_missing_manifest_file(tmp_path):
    with pytest.raises(CohortValidationError, match=r"manifest file .*nowhere\.csv not found") as info:
        validate_manifest(tmp_path / "nowhere.csv", VARIABLES, LEVELS)
    assert "fix: check config cohort.manifest" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_required_columns_all_listed(tiny_cohort):
    tiny_cohort.save(tiny_cohort.table().drop(columns=["n_positive_nodes", "ki67"]))
    err = expect_error(tiny_cohort, r"manifest, column n_positive_nodes: required column "
                                    r"n_positive_nodes is missing")
    assert "required column ki67 (clinical variable, continuous) is missing" in str(err)
    assert err.report["row"].isna().all()


def test_image_column_without_mask_column(tiny_cohort):
    tiny_cohort.save(tiny_cohort.table().drop(columns=["mask"]))
    expect_error(tiny_cohort, r"column mask is missing but image is present")


def test_duplicated_header_column(tiny_cohort):
    text = tiny_cohort.manifest.read_text().splitlines()
    text = [line + ",x" for line in text]
    text[0] = text[0].rsplit(",", 1)[0] + ",age"
    tiny_cohort.manifest.write_text("\n".join(text) + "\n")
    expect_error(tiny_cohort, r"column age appears more than once in the header")


def test_not_a_csv(tiny_cohort):
    tiny_cohort.manifest.write_bytes(b"\xff\xfe\x00binary\x00\x81")
    expect_error(tiny_cohort, r"is not UTF-8 text")


# --------------------------------------------------------------------------- files


def test_missing_image_file(tiny_cohort):
    tiny_cohort.set(1, "image", "images/none.png")
    err = expect_error(tiny_cohort, r"row 3, patient P002, column image: image file "
                                    r"images/none\.png not found \(looked for .*images/none\.png\)")
    assert "paths are relative to the manifest's folder" in str(err)


def test_missing_mask_file(tiny_cohort):
    (tiny_cohort.root / "masks" / "P006.png").unlink()
    expect_error(tiny_cohort, r"row 7, patient P006, column mask: mask file masks/P006\.png not found")


def test_unreadable_image(tiny_cohort):
    (tiny_cohort.root / "images" / "P002.png").write_text("this is not a PNG")
    expect_error(tiny_cohort, r"row 3, patient P002, column image: image images/P002\.png "
                              r"cannot be read as an image \(Unable to determine ImageIO reader")


def test_folder_as_image(tiny_cohort):
    (tiny_cohort.root / "images" / "series").mkdir()
    tiny_cohort.set(1, "image", "images/series")
    expect_error(tiny_cohort, r"row 3, patient P002, column image: image images/series is a "
                              r"folder, not an image file .*\n\s+fix: point image to one image file")


def test_volume_is_not_an_ultrasound_image(tiny_cohort):
    volume = np.zeros((3, *TinyCohort.shape), np.uint8)
    volume[1] = disk(TinyCohort.shape, (20, 20), 8)
    for folder in ("images", "masks"):
        write_nrrd(tiny_cohort.root / folder / "P003.nrrd", volume, (0.1, 0.1, 0.1))
    df = tiny_cohort.table()
    df.loc[2, ["image", "mask", "pixel_spacing_mm"]] = ["images/P003.nrrd", "masks/P003.nrrd", ""]
    tiny_cohort.save(df)
    err = expect_error(tiny_cohort, r"row 4, patient P003, column image: image images/P003\.nrrd "
                                    r"is a volume of 40x40x3 voxels")
    assert len(err.report) == 1  # the mask of a volume is not assessed


def test_image_with_five_channels(tiny_cohort):
    write_nrrd(tiny_cohort.root / "images" / "P003.nrrd", np.zeros((*TinyCohort.shape, 5)),
               vector=True)
    df = tiny_cohort.table()
    df.loc[2, ["image", "pixel_spacing_mm"]] = ["images/P003.nrrd", ""]
    tiny_cohort.save(df)
    expect_error(tiny_cohort, r"row 4, patient P003, column image: image images/P003\.nrrd has 5 "
                              r"channels; expected grey \(1\), grey\+alpha \(2\), RGB \(3\) or RGBA \(4\)")


def test_image_mask_size_mismatch(tiny_cohort):
    write_png(tiny_cohort.root / "masks" / "P002.png", disk((40, 30), (20, 15), 8) * 255)
    expect_error(tiny_cohort, r"row 3, patient P002, column mask: mask masks/P002\.png is 30x40 "
                              r"pixels but image images/P002\.png is 40x40 \(width x height\)")


def test_spacing_mismatch_between_image_and_mask(tiny_cohort):
    use_nrrd_pair(tiny_cohort, 2, spacing=(0.2, 0.2))
    expect_error(tiny_cohort, r"row 4, patient P003, column mask: pixel spacing of mask "
                              r"masks/P003\.nrrd is \(0\.2, 0\.2\) mm but image "
                              r"images/P003\.nrrd has \(0\.1, 0\.1\) mm")


def test_manifest_spacing_contradicts_file(tiny_cohort):
    use_nrrd_pair(tiny_cohort, 2, spacing_mm="0.5")
    expect_error(tiny_cohort, r"pixel_spacing_mm is 0\.5 but image images/P003\.nrrd stores "
                              r"0\.1 x 0\.1 mm")


def test_empty_mask(tiny_cohort):
    write_png(tiny_cohort.root / "masks" / "P004.png", np.zeros(TinyCohort.shape))
    expect_error(tiny_cohort, r"row 5, patient P004, column mask: mask masks/P004\.png is empty")


def test_non_binary_mask(tiny_cohort):
    """A grey photo saved as mask: many distinct values."""
    grey = np.tile(np.linspace(0, 255, 40), (40, 1))
    write_png(tiny_cohort.root / "masks" / "P004.png", grey)
    expect_error(tiny_cohort, r"row 5, patient P004, column mask: mask masks/P004\.png is not "
                              r"binary: 40 distinct values \(from 0 to 255\)")


def test_label_map_with_two_labels_is_not_binary(tiny_cohort):
    labels = disk(TinyCohort.shape, (20, 20), 8) * 1 + disk(TinyCohort.shape, (20, 20), 4) * 1
    write_png(tiny_cohort.root / "masks" / "P004.png", labels)
    expect_error(tiny_cohort, r"is not binary: 3 distinct values.*\n.*keep only the tumour label")


def test_colour_mask_any_channel_is_lesion(tiny_cohort):
    """Like alnburden.io.images.read_mask: a red-on-black mask is a mask."""
    m = (disk(TinyCohort.shape, (20, 20), 8) * 255).astype(np.uint8)
    zero = np.zeros_like(m)
    write_png(tiny_cohort.root / "masks" / "P004.png", np.stack([m, zero, zero], -1))
    assert expect_valid(tiny_cohort).loc[3, "n_components"] == 1


def test_colour_photo_as_mask_is_not_binary(tiny_cohort):
    grey = np.tile(np.linspace(0, 255, 40), (40, 1)).astype(np.uint8)
    write_png(tiny_cohort.root / "masks" / "P004.png", np.stack([grey, grey, grey], -1))
    expect_error(tiny_cohort, r"mask masks/P004\.png is not binary: 40 distinct values")


def test_lesion_touching_border(tiny_cohort):
    write_png(tiny_cohort.root / "masks" / "P005.png", disk(TinyCohort.shape, (20, 3), 8) * 255)
    err = expect_error(tiny_cohort, r"row 6, patient P005, column mask: lesion in mask "
                                    r"masks/P005\.png touches the image border \(left\)")
    assert "validation.allow_border_contact: true" in str(err)
    expect_valid(tiny_cohort, allow_border_contact=True)


def test_lesion_too_small(tiny_cohort):
    write_png(tiny_cohort.root / "masks" / "P005.png", disk(TinyCohort.shape, (20, 20), 3) * 255)
    expect_error(tiny_cohort, r"row 6, patient P005, column mask: lesion in mask masks/P005\.png "
                              r"is too small: 29 pixels < min_lesion_pixels = 64")
    expect_valid(tiny_cohort, min_lesion_pixels=20)


# --------------------------------------------------------------------------- values


def test_duplicate_id(tiny_cohort):
    tiny_cohort.set(2, "patient_id", "P001")
    err = expect_error(tiny_cohort, r"row 2, patient P001, column patient_id: duplicate "
                                    r"patient_id P001 \(rows 2, 4\)")
    assert err.report["row"].tolist() == [2, 4]


@pytest.mark.parametrize("empty", ["", "  ", "NA"])
def test_empty_id(tiny_cohort, empty):
    tiny_cohort.set(1, "patient_id", empty)
    expect_error(tiny_cohort, r"row 3, column patient_id: patient_id is missing \(empty cell\)\n"
                              r"\s+fix: give every patient a unique, non-empty patient_id")


def test_missing_clinical_value(tiny_cohort):
    tiny_cohort.set(3, "ki67", "")
    expect_error(tiny_cohort, r"row 5, patient P004, column ki67: ki67 is missing \(empty cell\)\n"
                              r"\s+fix: fill in ki67, or declare it `required: false`")


@pytest.mark.parametrize(("column", "value", "message"), [
    ("age", 250, r"age is 250, above the maximum 100\n\s+fix: enter age as a number from 18 to "
                 r"100 years"),
    ("ki67", -5, r"ki67 is -5, below the minimum 0"),
    ("tumor_size_mm", "big", r"tumor_size_mm is 'big', not a number"),
    ("er", 2, r"er is 2, not one of 0, 1\n\s+fix: code er as 0"),
    ("her2", "yes", r"her2 is 'yes', not one of 0, 1"),
    ("grade", 4, r"grade is 4, not one of 1, 2, 3\n\s+fix: use one of the declared values"),
    ("aln_us_class", "2.5", r"aln_us_class is 2\.5, not one of 1, 2, 3, 4, 5, 6"),
    ("subtype", "luminal", r"subtype is 'luminal', not one of luminal_a, luminal_b, "
                           r"her2_enriched, triple_negative"),
])
def test_out_of_range_clinical_value(tiny_cohort, column, value, message):
    tiny_cohort.set(2, column, value)
    expect_error(tiny_cohort, rf"row 4, patient P003, column {column}: {message}")


def test_integral_float_codes_accepted(tiny_cohort):
    tiny_cohort.set(2, "grade", "2.0")
    tiny_cohort.set(2, "n_positive_nodes", "1.0")
    cohort = expect_valid(tiny_cohort)
    assert cohort.loc[2, "grade"] == 2 and cohort.loc[2, "n_positive_nodes"] == 1


@pytest.mark.parametrize(("value", "message"), [
    (-1, r"n_positive_nodes is -1, below the minimum 0"),
    ("2.5", r"n_positive_nodes is 2\.5, not a whole number"),
    ("several", r"n_positive_nodes is 'several', not a whole number"),
    ("", r"n_positive_nodes is missing \(empty cell\)"),
])
def test_bad_node_count(tiny_cohort, value, message):
    tiny_cohort.set(4, "n_positive_nodes", value)
    err = expect_error(tiny_cohort, rf"row 6, patient P005, column n_positive_nodes: {message}\n"
                                    r"\s+fix: enter the pathological count")
    assert len(err.report) == 1


@pytest.mark.parametrize(("value", "message"), [
    ("", r"pixel_spacing_mm is missing and image images/P002\.png is a PNG file, which stores "
         r"no pixel size"),
    ("0", r"pixel_spacing_mm is 0, not greater than 0"),
    ("-0.1", r"pixel_spacing_mm is -0\.1, not greater than 0"),
    ("0.1mm", r"pixel_spacing_mm is '0\.1mm', not a number"),
])
def test_bad_pixel_spacing(tiny_cohort, value, message):
    tiny_cohort.set(1, "pixel_spacing_mm", value)
    expect_error(tiny_cohort, rf"row 3, patient P002, column pixel_spacing_mm: {message}")


def test_missing_spacing_column_for_png(tiny_cohort):
    tiny_cohort.save(tiny_cohort.table().drop(columns=["pixel_spacing_mm"]))
    err = expect_error(tiny_cohort, r"manifest, column pixel_spacing_mm: column pixel_spacing_mm "
                                    r"is missing but 6 images are PNG/JPEG")
    assert len(err.report) == 1  # one line, not one per row


def test_hand_typed_label_must_agree_with_node_count(tiny_cohort):
    df = tiny_cohort.table()
    df["level2"] = ["", "", "0", "0", "0", "1"]  # P005 has 3 nodes: level2 = 1
    df["nodal_class"] = ["N0", "N0", "N1-2", "N1-2", "N>=3", "N1-2"]
    tiny_cohort.save(df)
    err = expect_error(tiny_cohort, r"row 6, patient P005, column level2: level2 is 0 but "
                                    r"n_positive_nodes = 3 gives 1 \(level2: n_positive_nodes >= 3\)")
    assert "row 7, patient P006, column nodal_class: nodal_class is N1-2 but n_positive_nodes = 6 " \
           "gives N>=3" in str(err)


def test_consistent_hand_typed_labels_are_recomputed(tiny_cohort):
    df = tiny_cohort.table()
    df["level1"] = ["0", "0", "1", "1", "1", "1"]
    tiny_cohort.save(df)
    cohort = expect_valid(tiny_cohort)
    assert list(cohort.columns).count("level1") == 1
    assert str(cohort["level1"].dtype) == "Int64"


# --------------------------------------------------------------------------- the report


def test_every_bad_row_is_reported_with_its_fix(tiny_cohort):
    df = tiny_cohort.table()
    df.loc[1, "mask"] = "masks/missing.png"
    df.loc[3, "age"] = "250"
    df.loc[3, "er"] = "yes"
    df.loc[5, "n_positive_nodes"] = "-2"
    tiny_cohort.save(df)
    err = expect_error(tiny_cohort, r"failed validation: 4 problems in 3 of its 6 patient rows")
    text = str(err)
    assert [f"row {r}" in text for r in (3, 5, 7)] == [True, True, True]
    assert err.report["row"].tolist() == [3, 5, 5, 7]
    assert err.report["column"].tolist() == ["mask", "age", "er", "n_positive_nodes"]
    assert err.report["patient_id"].tolist() == ["P002", "P004", "P004", "P006"]
    assert text.count("\n      fix: ") == 4
    assert err.report["fix"].str.len().gt(10).all()
    assert re.search(r"^  - row 7, patient P006, column n_positive_nodes: n_positive_nodes is -2, "
                     r"below the minimum 0$", text, re.M)


def test_error_survives_pickling(tiny_cohort):
    tiny_cohort.set(1, "age", 5)
    err = expect_error(tiny_cohort, "below the minimum 18")
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    pd.testing.assert_frame_equal(copy.report, err.report)


def test_report_written_on_failure_and_success(tiny_cohort, tmp_path):
    out = tmp_path / "out" / "validation_report.csv"
    tiny_cohort.set(1, "age", 5)
    expect_error(tiny_cohort, "below the minimum 18", report_path=out)
    report = pd.read_csv(out)
    assert list(report.columns) == REPORT_COLUMNS and report["row"].tolist() == [3]
    assert "below the minimum 18" in out.with_suffix(".md").read_text()
    tiny_cohort.set(1, "age", 50)
    expect_valid(tiny_cohort, report_path=out)
    assert pd.read_csv(out).empty


def test_write_validation_report(tmp_path):
    report = pd.DataFrame([{"row": None, "patient_id": "", "column": "x", "problem": "p",
                            "fix": "f"}, {"row": 4, "patient_id": "A", "column": "age",
                                          "problem": "p2", "fix": "f2"}])
    write_validation_report(report, tmp_path / "r.csv")
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines == ["row,patient_id,column,problem,fix", ",,x,p,f", "4,A,age,p2,f2"]
    assert (tmp_path / "r.md").exists()
    write_validation_report(None, tmp_path / "ok.csv")  # success: header only
    assert (tmp_path / "ok.csv").read_text() == "row,patient_id,column,problem,fix\n"


# --------------------------------------------------------------------------- the schema


def test_manifest_schema_is_valid_json_schema():
    schema = load_manifest_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    full = manifest_row_schema(VARIABLES, has_images=True)
    jsonschema.Draft202012Validator.check_schema(full)
    assert {"image", "mask", "age", "ki67"} <= set(full["required"])


@pytest.mark.parametrize("full", [False, True])
def test_schema_works_with_snakemake_validate(tiny_cohort, tmp_path, full):
    """The schema file (or its config-extended form) checks a DataFrame in Snakemake."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    from importlib import resources

    schema = resources.files("alnburden.schemas") / "manifest.schema.yaml"
    if full:
        schema = tmp_path / "full.schema.yaml"
        schema.write_text(yaml.safe_dump(manifest_row_schema(VARIABLES, has_images=True)))
    df = pd.read_csv(tiny_cohort.manifest)
    validate(df, str(schema), set_default=False)
    df.loc[2, "n_positive_nodes"] = -1
    with pytest.raises(WorkflowError, match="row 2"):
        validate(df, str(schema), set_default=False)


def test_bad_variable_declaration_is_a_config_error(tiny_cohort):
    before = tiny_cohort.snapshot()
    with pytest.raises(ValueError, match="needs `levels`"):
        validate_manifest(tiny_cohort.manifest, [{"name": "grade", "type": "ordinal"}], LEVELS)
    with pytest.raises(ValueError, match="reserved"):
        validate_manifest(tiny_cohort.manifest, [{"name": "image", "type": "binary"}], LEVELS)
    assert tiny_cohort.snapshot() == before


def test_tree_hashes_detects_a_change(tmp_path):
    """The byte-identity check used by every test can fail."""
    (tmp_path / "a").write_bytes(b"1")
    before = tree_hashes(tmp_path)
    (tmp_path / "a").write_bytes(b"2")
    assert tree_hashes(tmp_path) != before


# -- a second reader's masks (mask_reader2) ----------------------------------------------------


def _with_reader2(cohort: TinyCohort, patients=(0, 2)) -> None:
    df = cohort.table()
    df["mask_reader2"] = ""
    for i in patients:
        pid = df.loc[i, "patient_id"]
        write_png(cohort.root / "masks2" / f"{pid}.png", disk(TinyCohort.shape, (20, 20), 7) * 255)
        df.loc[i, "mask_reader2"] = f"masks2/{pid}.png"
    cohort.save(df)


def test_mask_reader2_optional_subset_is_accepted(tiny_cohort):
    _with_reader2(tiny_cohort)
    out = tiny_cohort.validate()
    assert out["mask_reader2"].notna().tolist() == [True, False, True, False, False, False]
    assert Path(out.loc[0, "mask_reader2"]).is_absolute()
    assert Path(out.loc[0, "mask_reader2"]).is_file()


def test_mask_reader2_every_bad_row_named(tiny_cohort):
    _with_reader2(tiny_cohort, patients=(0, 1, 2))
    (tiny_cohort.root / "masks2" / "P001.png").unlink()
    write_png(tiny_cohort.root / "masks2" / "P002.png", disk((40, 30), (20, 15), 7) * 255)
    write_png(tiny_cohort.root / "masks2" / "P003.png", np.zeros(TinyCohort.shape))
    err = expect_error(tiny_cohort, r"row 2, patient P001, column mask_reader2: second reader's "
                                    r"mask file masks2/P001\.png not found")
    text = str(err)
    assert re.search(r"row 3, patient P002, column mask_reader2: second reader's mask "
                     r"masks2/P002\.png is 30x40 pixels but image images/P002\.png is 40x40", text)
    assert re.search(r"row 4, patient P003, column mask_reader2: second reader's mask "
                     r"masks2/P003\.png is empty", text)
    assert len(err.report) == 3


def test_mask_reader2_is_not_a_clinical_variable_name(tiny_cohort):
    tiny_cohort.variables.append({"name": "mask_reader2", "type": "continuous"})
    with pytest.raises(ValueError, match="mask_reader2"):
        tiny_cohort.validate()
