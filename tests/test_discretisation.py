"""Grey levels per image type and region (alnburden.extraction.discretisation and
RadiomicsExtractor.grey_levels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from alnburden.extraction.discretisation import (
    discretisation_summary_lines,
    discretisation_table,
    low_level_warnings,
    write_discretisation,
)
from alnburden.extraction.extractor import RadiomicsExtractor


def _image_and_mask():
    rr, cc = np.mgrid[:60, :60]
    image = (cc * 100.0 / 59).astype(np.float32)  # 0 .. 100 left to right
    mask = ((rr - 30) ** 2 + (cc - 30) ** 2 <= 20**2).astype(np.uint8)
    im, m = sitk.GetImageFromArray(image), sitk.GetImageFromArray(mask)
    for x in (im, m):
        x.SetSpacing((0.2, 0.2))
    return im, m, image[mask != 0]


def _params(tmp_path, image_types):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"setting": {"label": 1, "binWidth": 10},
                                    "imageType": image_types,
                                    "featureClass": {"glcm": ["Contrast"]}}))
    return path


def test_grey_levels_are_pyradiomics_ng(tmp_path):
    from radiomics import glcm

    im, m, inside = _image_and_mask()
    ex = RadiomicsExtractor(_params(tmp_path, {"Original": {}, "Square": {"binCount": 32}}), ())
    levels = ex.grey_levels(ex.prepare(im), m)
    # bin width 10 from floor(min / 10) * 10: the levels the lesion's range spans
    expected = int(np.floor(inside.max() / 10) - np.floor(inside.min() / 10) + 1)
    assert levels["original"] == expected
    assert levels["square"] == 32  # a fixed bin count
    ref = glcm.RadiomicsGLCM(im, m, binWidth=10, label=1)
    ref.execute()
    assert levels["original"] == ref.coefficients["Ng"]


def test_extract_patient_returns_grey_levels_per_region(tmp_path):
    im, m, _ = _image_and_mask()
    for x, name in ((im, "i.nrrd"), (m, "m.nrrd")):
        sitk.WriteImage(x, str(tmp_path / name))
    ex = RadiomicsExtractor(_params(tmp_path, {"Original": {}}), peritumoral_mm=(2,))
    feats, levels = ex.extract_patient(tmp_path / "i.nrrd", tmp_path / "m.nrrd",
                                       with_grey_levels=True)
    assert feats == ex.extract_patient(tmp_path / "i.nrrd", tmp_path / "m.nrrd")
    assert [(r["region"], r["image_type"]) for r in levels] == [("intra", "original"),
                                                                ("peri2mm", "original")]
    intra, ring = (r["grey_levels"] for r in levels)
    assert 5 <= intra < ring  # the ring reaches further left and right on the ramp


def test_discretisation_table_uses_training_patients_only(tmp_path):
    rows = [{"patient_id": f"P{i}", "region": "intra", "image_type": t, "grey_levels": v}
            for i in range(10) for t, v in (("original", 40 + i), ("wavelet-HH", 3 + i % 3))]
    rows.append({"patient_id": "T0", "region": "intra", "image_type": "original",
                 "grey_levels": 1000})
    split = pd.DataFrame({"patient_id": [f"P{i}" for i in range(10)] + ["T0"],
                          "set": ["train"] * 10 + ["test"]})
    table = discretisation_table(pd.DataFrame(rows), split).set_index("image_type")
    assert table.loc["original", "n_patients"] == 10 and table.loc["original", "max"] == 49
    assert table.loc["original", "median"] == pytest.approx(44.5)
    assert table.loc["original", "p05"] == pytest.approx(np.percentile(np.arange(40, 50), 5))
    assert not table.loc["original", "below_minimum"] and table.loc["wavelet-HH", "below_minimum"]
    warnings = low_level_warnings(table.reset_index())
    assert len(warnings) == 1 and "wavelet-HH, region intra: median 4 grey levels" in warnings[0]
    lines = discretisation_summary_lines(table.reset_index())
    assert lines[1].startswith("- **Warning**: image type wavelet-HH")
    with pytest.raises(ValueError, match="no grey levels of training patients"):
        discretisation_table(pd.DataFrame(rows), split.assign(set="test"))


def test_write_discretisation_warns_in_the_log(tmp_path, caplog):
    pd.DataFrame({"patient_id": ["P0", "P1"], "region": "intra", "image_type": "wavelet-HH",
                  "grey_levels": [4, 5]}).to_csv(tmp_path / "s0.csv", index=False)
    split = pd.DataFrame({"patient_id": ["P0", "P1"], "set": "train"})
    with caplog.at_level("WARNING"):
        write_discretisation([tmp_path / "s0.csv"], split, tmp_path / "d.csv")
    assert "median 4.5 grey levels (< 16)" in caplog.text
    assert (tmp_path / "d.md").is_file()


def test_default_params_give_every_image_type_16_to_128_levels_on_a_speckle_image(tmp_path):
    """The study's params file (config/radiomics.yaml) on a simulated B-mode-like patch."""
    from pathlib import Path

    from scipy import ndimage

    root = Path(__file__).resolve().parents[1]
    rng = np.random.default_rng(0)
    field = ndimage.gaussian_filter(rng.standard_normal((300, 300)), 1.5) + 1j * \
        ndimage.gaussian_filter(rng.standard_normal((300, 300)), 1.5)
    img = np.log1p(np.abs(field) * 40).astype(np.float32)
    rr, cc = np.mgrid[:300, :300]
    lesion = (rr - 150) ** 2 / 60**2 + (cc - 150) ** 2 / 80**2 <= 1
    img[lesion] *= 0.5
    im, m = sitk.GetImageFromArray(img), sitk.GetImageFromArray(lesion.astype(np.uint8))
    for x in (im, m):
        x.SetSpacing((0.15, 0.15))
    ex = RadiomicsExtractor(root / "config/radiomics.yaml", peritumoral_mm=(3,))
    levels = ex.grey_levels(ex.prepare(im), m)
    assert set(levels) >= {"original", "wavelet-HH", "wavelet-LL"}
    assert all(16 <= v <= 128 for v in levels.values()), levels
