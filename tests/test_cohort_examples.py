"""The cohort example figure (alnburden.figures.cohort_examples): every pixel through the
project's image reader, whatever the file format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_image_formats_workflow import convert_cohort

from alnburden.figures import cohort_examples as ce
from alnburden.simulate import simulate_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return simulate_cohort(tmp_path_factory.mktemp("sim"), n_patients=10, seed=5)


@pytest.fixture(scope="module")
def formats(cohort):
    """The same cohort with NRRD, NIfTI, DICOM, grey PNG and RGB PNG images (in turn)."""
    original = pd.read_csv(cohort)
    return convert_cohort(cohort), original


def _png_ok(paths):
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    with Image.open(paths[1]) as im:
        assert min(im.size) > 600


def test_plot(cohort, tmp_path):
    _png_ok(ce.plot_cohort_examples(cohort, tmp_path / "fig" / "examples", n_per_class=2))


def test_every_format_is_read_with_its_own_spacing(formats, tmp_path):
    manifest, original = formats
    m = pd.read_csv(manifest)
    # n_per_class above the cohort size: every patient's image and mask are read
    _png_ok(ce.plot_cohort_examples(manifest, tmp_path / "all", n_per_class=len(m)))
    grey = {}
    for i, row in m.iterrows():
        image, mask, spacing = ce._load(row, manifest.parent)
        assert spacing == pytest.approx((original["pixel_spacing_mm"][i],) * 2, rel=1e-6)
        assert set(np.unique(mask)) == {0, 1}
        grey[row["image"]] = image
    # the same simulated pixels whatever the format (RGB converted to grey)
    ref = pd.read_csv(manifest.parent / "manifest.csv")
    assert np.isnan(m.loc[0, "pixel_spacing_mm"]) and m.loc[0, "image"].endswith(".nrrd")
    assert m.loc[4, "image"].endswith(".rgb.png")
    assert np.allclose(grey[m.loc[4, "image"]],
                       np.asarray(Image.open(manifest.parent / ref.loc[4, "image"])), atol=0.5)


def _absolute(cohort, **columns):
    """The cohort's manifest with absolute paths, plus ``columns`` (name -> function of it)."""
    m = pd.read_csv(cohort)
    m["image"] = [str(cohort.parent / p) for p in m["image"]]
    m["mask"] = [str(cohort.parent / p) for p in m["mask"]]
    m = m.assign(**{k: v(m) for k, v in columns.items()})
    return m


def test_a_png_without_spacing_is_refused(cohort, tmp_path):
    _absolute(cohort).drop(columns="pixel_spacing_mm").to_csv(tmp_path / "m.csv")
    with pytest.raises(ValueError, match="carry no pixel spacing; give pixel_spacing_mm"):
        ce.plot_cohort_examples(tmp_path / "m.csv", tmp_path / "x", n_per_class=1)


def test_rows_by_level_label_without_node_counts(cohort, tmp_path):
    m = _absolute(cohort, malignancy=lambda d: (d["n_positive_nodes"] > 0).astype(int))
    m = m.drop(columns="n_positive_nodes")
    m.to_csv(tmp_path / "labels.csv", index=False)
    rows, labels = ce._row_classes(m, "malignancy")
    assert list(labels) == ["label 0", "label 1"]
    assert (rows == "label 1").sum() == m["malignancy"].sum()
    assert ce._suptitle(False, "malignant vs benign").endswith("Rows by label of malignant vs benign")
    _png_ok(ce.plot_cohort_examples(tmp_path / "labels.csv", tmp_path / "lab", n_per_class=2,
                                    levels=["malignancy"], level_label="malignant vs benign",
                                    simulated=False))


def test_display_window_fits_any_intensity_range():
    rng = np.random.default_rng(0)
    ct_like = rng.normal(1000, 300, (50, 50)).clip(0, 4095)       # 12-bit, far above 255
    lo, hi = ce.display_window(ct_like)
    assert np.percentile(ct_like, 0.5) == lo and np.percentile(ct_like, 99.5) == hi
    assert 0 < lo < 1000 < hi < 4095
    assert ce.display_window(np.full((4, 4), 7.0)) == (7.0, 8.0)


@pytest.mark.parametrize("width_mm, wanted, expected", [(60, 10, 10), (20, 10, 5),
                                                        (4, 10, 1), (0.9, 10, 0.2)])
def test_scale_bar_fits_the_image(width_mm, wanted, expected):
    assert ce.scale_bar_length(width_mm, wanted) == pytest.approx(expected)


def test_plot_rejects_clinical_only_manifest(tmp_path):
    pd.DataFrame({"patient_id": ["a"], "n_positive_nodes": [0]}).to_csv(tmp_path / "m.csv")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['image', 'mask'\]"):
        ce.plot_cohort_examples(tmp_path / "m.csv", tmp_path / "x")
