"""Tests of the in-silico cohort generator (alnburden.simulate)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from alnburden.simulate import (
    MANIFEST_COLUMNS,
    EffectSizes,
    parse_effect_overrides,
    main,
    render_patient,
    simulate_cohort,
    simulate_tables,
)
from alnburden.simulate import clinical as clin
from alnburden.simulate.cohort import sample_clinical

N = 12


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A small default cohort, written once for the module."""
    out = tmp_path_factory.mktemp("sim") / "a"
    return simulate_cohort(out, n_patients=N, seed=11)


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_same_seed_gives_byte_identical_files(cohort, tmp_path, n_jobs):
    """Same seed, same bytes, whether the images are rendered serially or in 2 processes."""
    again = simulate_cohort(tmp_path / "b", n_patients=N, seed=11, n_jobs=n_jobs)
    a, b = _files(cohort.parent), _files(again.parent)
    assert a.keys() == b.keys()
    assert {"manifest.csv", "truth.csv", "images/P0001.png", "masks/P0012.png"} <= a.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_different_seed_differs(cohort, tmp_path):
    other = simulate_cohort(tmp_path / "c", n_patients=N, seed=12)
    assert (cohort.parent / "images/P0001.png").read_bytes() != \
        (other.parent / "images/P0001.png").read_bytes()
    assert not pd.read_csv(cohort).equals(pd.read_csv(other))


def test_patient_does_not_depend_on_cohort_size(cohort, tmp_path):
    small = simulate_cohort(tmp_path / "d", n_patients=5, seed=11)
    big, sm = pd.read_csv(cohort), pd.read_csv(small)
    pd.testing.assert_frame_equal(big.head(5), sm)
    for pid in sm["patient_id"]:
        for kind in ("images", "masks"):
            assert (cohort.parent / kind / f"{pid}.png").read_bytes() == \
                (small.parent / kind / f"{pid}.png").read_bytes()
    t_big = pd.read_csv(cohort.parent / "truth.csv").head(5)
    t_small = pd.read_csv(small.parent / "truth.csv")
    pd.testing.assert_frame_equal(t_big, t_small)


def test_manifest_columns_and_types(cohort):
    m = pd.read_csv(cohort)
    assert list(m.columns) == MANIFEST_COLUMNS
    assert len(m) == N and m["patient_id"].is_unique
    assert m["image"].str.fullmatch(r"images/P\d{4}\.png").all()
    assert m["mask"].str.fullmatch(r"masks/P\d{4}\.png").all()
    for col in ("n_positive_nodes", "age", "er", "pr", "her2", "ki67", "grade", "aln_us_class"):
        assert pd.api.types.is_integer_dtype(m[col]), col
    assert m["n_positive_nodes"].ge(0).all()
    assert m[["er", "pr", "her2"]].isin([0, 1]).all().all()
    assert m["grade"].between(1, 3).all() and m["aln_us_class"].between(1, 6).all()
    assert m["ki67"].between(0, 100).all() and m["age"].between(18, 100).all()
    assert m["pixel_spacing_mm"].between(0.1, 0.5).all()
    assert m["tumor_size_mm"].between(1, 200).all()
    assert set(m["subtype"]) <= {"luminal_a", "luminal_b", "her2_enriched", "triple_negative"}
    truth = pd.read_csv(cohort.parent / "truth.csv")
    assert list(truth["patient_id"]) == list(m["patient_id"])
    for col in ("latent", "p_pos", "p_high_given_pos", "p_pos_image", "p_pos_full"):
        assert truth[col].notna().all(), col
    assert truth.filter(like="p_").apply(lambda c: c.between(0, 1).all()).all()
    settings = json.loads((cohort.parent / "simulation.json").read_text())
    assert settings["seed"] == 11 and settings["effects"]["pos_latent"] == EffectSizes().pos_latent


def test_subtype_follows_receptors_and_ki67(cohort):
    m = pd.read_csv(cohort)
    hr = (m["er"] == 1) | (m["pr"] == 1)
    expected = np.where(hr, np.where((m["her2"] == 0) & (m["ki67"] < 20), "luminal_a",
                                     "luminal_b"),
                        np.where(m["her2"] == 1, "her2_enriched", "triple_negative"))
    assert (m["subtype"].to_numpy() == expected).all()


def test_images_and_masks_follow_the_contract(cohort):
    m = pd.read_csv(cohort)
    for _, row in m.iterrows():
        img = np.asarray(Image.open(cohort.parent / row["image"]))
        mask = np.asarray(Image.open(cohort.parent / row["mask"]))
        assert img.dtype == np.uint8 and img.ndim == 2
        assert mask.shape == img.shape and mask.dtype == np.uint8
        assert set(np.unique(mask)) == {0, 255}
        fg = mask > 0
        assert fg.sum() >= 64
        assert not (fg[0].any() or fg[-1].any() or fg[:, 0].any() or fg[:, -1].any())
        assert ndimage.label(fg)[1] == 1  # one 4-connected region
        assert (ndimage.binary_fill_holes(fg) == fg).all()
        # the lesion is hypoechoic: darker than the tissue around it
        assert img[fg].mean() < img[~fg].mean()
        # its size matches the clinical tumour size (max extent within a factor ~1.6)
        ys, xs = np.nonzero(fg)
        extent_mm = max(np.ptp(ys), np.ptp(xs)) * row["pixel_spacing_mm"]
        assert 0.6 * row["tumor_size_mm"] < extent_mm < 1.3 * row["tumor_size_mm"]


def test_tables_match_the_written_cohort(cohort):
    tab = simulate_tables(N, seed=11)
    m = pd.read_csv(cohort)
    cols = [c for c in MANIFEST_COLUMNS if c not in {"image", "mask", "pixel_spacing_mm"}]
    pd.testing.assert_frame_equal(tab[cols], m[cols], check_dtype=False)
    truth = pd.read_csv(cohort.parent / "truth.csv")
    np.testing.assert_allclose(tab["p_pos_full"], truth["p_pos_full"], rtol=1e-5)


def test_png_has_no_metadata(cohort):
    with Image.open(cohort.parent / "images/P0001.png") as im:
        assert im.mode == "L"
        assert not {k for k in im.info if k not in {"dpi"}}


def test_node_positive_only_and_forced_high_fraction(tmp_path):
    path = simulate_cohort(tmp_path / "npo", n_patients=15, seed=3, node_positive_only=True,
                           high_burden_fraction=0.4)
    m = pd.read_csv(path)
    assert (m["n_positive_nodes"] >= 1).all()
    assert (m["n_positive_nodes"] >= 3).sum() == round(0.4 * 15)
    truth = pd.read_csv(path.parent / "truth.csv")
    assert (truth["p_pos_full"] == 1).all()


@pytest.mark.parametrize("fraction", [0.0, 1.0, 52 / 131])
def test_high_fraction_is_exact(fraction):
    eff = EffectSizes()
    df = sample_clinical(131, 2025, eff, node_positive_only=True)
    nd = np.stack([clin.node_draws(2025, i) for i in range(131)])
    n, high, _ = clin.sample_nodes(df["latent"], df["ki67"], df["u_pos"], nd, eff,
                                   node_positive_only=True, high_burden_fraction=fraction)
    assert (n >= 1).all()
    assert high.sum() == (n >= 3).sum() == round(fraction * 131)


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(ValueError, match="high_burden_fraction=1.5 is not a fraction"):
        simulate_cohort(tmp_path, n_patients=3, high_burden_fraction=1.5)
    with pytest.raises(ValueError, match="n_patients=0"):
        simulate_cohort(tmp_path, n_patients=0)
    with pytest.raises(TypeError, match="unknown effect size"):
        EffectSizes().replace(pos_slope=1.0)


def test_effect_overrides_from_config_or_command_line_are_checked():
    """YAML/CLI values are coerced (lists to tuples); every bad key is named, with its fix."""
    over = parse_effect_overrides(["image_signal=0.5", "aln_cuts=0,1,2,3,4"])
    # numbers, as the config schema's cohort.simulate.effects accepts them (not strings)
    assert over == {"image_signal": 0.5, "aln_cuts": [0.0, 1.0, 2.0, 3.0, 4.0]}
    eff = EffectSizes().replace(**over)
    assert eff.image_signal == 0.5 and eff.aln_cuts == (0.0, 1.0, 2.0, 3.0, 4.0)
    assert EffectSizes().replace(high_latent_low_ki67=4) == EffectSizes().replace(
        high_latent_low_ki67=4.0)
    with pytest.raises(ValueError) as err:
        EffectSizes().replace(aln_cuts=[1, 2], image_signal="strong")
    assert "aln_cuts=[1, 2] (expected a list of 5 numbers)" in str(err.value)
    assert "image_signal='strong' (expected a number)" in str(err.value)
    with pytest.raises(TypeError, match=r"\['image_signl'\]"):
        parse_effect_overrides(["image_signl=0"])
    with pytest.raises(ValueError, match="is not NAME=VALUE"):
        parse_effect_overrides(["image_signal"])


def test_ki67_group_shift_raises_burden_in_high_ki67_tumours_only():
    z, ki67 = np.zeros(2), np.array([5.0, 60.0])
    _, base = clin.node_logits(z, ki67, EffectSizes().replace(high_ki67_group_shift=0.0))
    _, shifted = clin.node_logits(z, ki67, EffectSizes().replace(high_ki67_group_shift=1.0))
    assert shifted[0] - base[0] == pytest.approx(0.0, abs=0.01)  # blend weight expit(-5)
    assert shifted[1] - base[1] == pytest.approx(1.0, abs=1e-4)


def test_latent_drives_nodes_and_lesion_appearance():
    """Over 60 patients, aggressive tumours are larger, more irregular, with more nodes."""
    eff = EffectSizes()
    df = sample_clinical(60, 99, eff)
    z = df["latent"].to_numpy()
    nd = np.stack([clin.node_draws(99, i) for i in range(60)])
    n, _, _ = clin.sample_nodes(z, df["ki67"], df["u_pos"], nd, eff)
    assert np.corrcoef(z, n)[0, 1] > 0.25
    assert np.corrcoef(z, df["tumor_size_mm"])[0, 1] > 0.2
    assert np.corrcoef(z, df["ki67"])[0, 1] > 0.1
    area, solidity, halo = [], [], []
    for i in range(60):
        r = render_patient(99, i, z[i], df["tumor_size_mm"].iat[i], eff, shape=(192, 240))
        area.append(r.lesion_area_mm2)
        hull_like = ndimage.binary_closing(r.mask, iterations=4)
        solidity.append(r.mask.sum() / hull_like.sum())
        halo.append(r.traits.halo)
    assert np.corrcoef(z, area)[0, 1] > 0.2
    assert np.corrcoef(z, solidity)[0, 1] < -0.2  # irregular margins: less solid
    assert np.corrcoef(z, halo)[0, 1] > 0.5


def test_image_signal_zero_removes_latent_from_traits():
    eff = EffectSizes().replace(image_signal=0.0)
    a = render_patient(5, 0, -2.0, 15.0, eff)
    b = render_patient(5, 0, 2.0, 15.0, eff)
    assert a.traits == b.traits
    np.testing.assert_array_equal(a.image, b.image)


def test_truth_probabilities_are_calibrated():
    """The true P(N+) matches the observed N+ rate (a large vectorised sample)."""
    eff = EffectSizes()
    rng = np.random.default_rng(0)
    draws = np.concatenate([rng.standard_normal((4000, 5)), rng.random((4000, 4))], axis=1)
    df = clin.clinical_from_draws(draws, eff)
    n, _, _ = clin.sample_nodes(df["latent"], df["ki67"], df["u_pos"],
                                np.clip(rng.random((4000, 3)), 1e-9, 1 - 1e-9), eff)
    aln = clin.aln_class(n, rng.standard_normal(4000), eff)
    t = clin.truth_probabilities(df["latent"], df["ki67"], aln, eff)
    pos = n > 0
    assert abs(t["p_pos"].mean() - pos.mean()) < 0.03
    assert abs(t["p_pos_full"].mean() - pos.mean()) < 0.03
    assert abs(t.loc[pos, "p_high_given_pos"].mean() - (n[pos] >= 3).mean()) < 0.04
    assert 0.4 < pos.mean() < 0.6 and 0.3 < (n[pos] >= 3).mean() < 0.5


def test_cli(cohort, tmp_path, capsys):
    assert main([str(tmp_path / "cli"), "--n", "3", "--seed", "11"]) == 0
    assert pd.read_csv(tmp_path / "cli" / "manifest.csv").equals(pd.read_csv(cohort).head(3))
