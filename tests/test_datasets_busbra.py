"""The BUS-BRA converter: a fake BUS-BRA folder (tmp_path) and, when present, the real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import disk
from PIL import Image

from alnburden.cohort.manifest import validate_manifest
from alnburden.datasets import busbra
from alnburden.levels import levels_from_config
from alnburden.cohort.split import grouped_split, stratified_split

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "config" / "presets" / "busbra.yaml"
REAL = ROOT.parent / "shared" / "data" / "busbra"

#: (ID, Case, Histology, Pathology, BIRADS, Device, Side) of the fake dataset; rows out of
#: order on purpose (the converter sorts by Case, then ID).
ROWS = [
    ("bus_0002-s", 2, "fibroadenoma", "benign", 3, "GE Logiq 5 @10-12MHz", "single"),
    ("bus_0001-r", 1, "invasive ductal carcinoma", "malignant", 5, "GE Logiq 7 @10-14MHz", "right"),
    ("bus_0001-l", 1, "invasive ductal carcinoma", "malignant", 5, "GE Logiq 7 @10-14MHz", "left"),
    ("bus_0003-l", 3, "cyst", "benign", 2, "Toshiba Aplio 300 @12-14 MHz", "left"),
    ("bus_0003-r", 3, "cyst", "benign", 2, "Toshiba Aplio 300 @12-14 MHz", "right"),
    ("bus_0010-s", 10, "invasive lobular carcinoma", "malignant", 4, "U-Systems @10-14MHz",
     "single"),
]


def make_fake_busbra(root: Path, rows=ROWS, folds: bool = True) -> Path:
    """A BUS-BRA-like folder: bus_data.csv, 48x56 grey PNGs and 1-bit PNG masks."""
    (root / "Images").mkdir(parents=True)
    (root / "Masks").mkdir()
    rng = np.random.default_rng(0)
    shape = (56, 48)
    for k, (image_id, *_rest) in enumerate(rows):
        lesion = disk(shape, (26 + k % 3, 24), 9)
        img = rng.normal(140, 20, shape)
        img[lesion] -= 80
        grey = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        grey.save(root / "Images" / f"{image_id}.png")
        Image.fromarray(lesion).save(root / "Masks" / f"mask_{image_id[4:]}.png")  # mode "1"
    table = pd.DataFrame(rows, columns=["ID", "Case", "Histology", "Pathology", "BIRADS",
                                        "Device", "Side"])
    table["Width"], table["Height"] = shape[1], shape[0]
    table.to_csv(root / "bus_data.csv", index=False)
    if folds:
        pd.DataFrame({"ID": table["ID"], "Pathology": table["Pathology"],
                      "kFold": [(i % 5) + 1 for i in range(len(table))]}).to_csv(
            root / "5-fold-cv.csv", index=False)
    return root


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    return make_fake_busbra(tmp_path / "data" / "busbra")


def test_one_row_per_patient_first_image(fake, tmp_path):
    out = tmp_path / "project" / "results" / "busbra" / "manifest.csv"
    m = busbra.write_busbra_manifest(fake, out, images="first")
    assert list(m.columns) == busbra.MANIFEST_COLUMNS + ["cv5_fold"]
    assert m["patient_id"].tolist() == ["case_0001", "case_0002", "case_0003", "case_0010"]
    assert m["case"].tolist() == m["patient_id"].tolist()
    assert m["image_id"].tolist() == ["bus_0001-l", "bus_0002-s", "bus_0003-l", "bus_0010-s"]
    assert m["malignant"].tolist() == [1, 0, 0, 1]
    assert m["birads"].tolist() == [5, 3, 2, 4]
    assert m["device"].tolist() == ["ge_logiq7", "ge_logiq5", "toshiba_aplio300", "u_systems"]
    assert m["n_images"].tolist() == [2, 1, 2, 1]
    assert (m["pixel_spacing_mm"] == busbra.ASSUMED_SPACING_MM).all()
    assert m["cv5_fold"].tolist() == [3, 1, 4, 1]
    # paths are relative to the manifest's folder, climb out of it, and name the originals
    assert m["image"].iloc[0] == "../../../data/busbra/Images/bus_0001-l.png"
    for col in ("image", "mask"):
        for rel in m[col]:
            assert not Path(rel).is_absolute()
            assert (out.parent / rel).resolve().is_file()
    assert (out.parent / m["mask"].iloc[0]).resolve() == fake / "Masks" / "mask_0001-l.png"
    # the CSV holds the table returned; nothing was copied next to it
    assert pd.read_csv(out)["image"].tolist() == m["image"].tolist()
    assert sorted(p.name for p in out.parent.iterdir()) == ["manifest.csv"]


def test_every_image_by_default_with_its_case(fake, tmp_path):
    m = busbra.write_busbra_manifest(fake, tmp_path / "m" / "manifest.csv")
    assert m["patient_id"].tolist() == ["bus_0001-l", "bus_0001-r", "bus_0002-s", "bus_0003-l",
                                        "bus_0003-r", "bus_0010-s"]
    assert m["patient_id"].tolist() == m["image_id"].tolist()
    assert m["case"].tolist() == ["case_0001", "case_0001", "case_0002", "case_0003",
                                  "case_0003", "case_0010"]
    assert m["malignant"].tolist() == [1, 1, 0, 0, 0, 1]
    assert m["cv5_fold"].tolist() == [3, 2, 1, 4, 5, 1]


def test_preset_groups_the_split_by_case(fake, tmp_path):
    cfg = yaml.safe_load(PRESET.read_text())
    assert cfg["split"]["group"] == "case"
    out = tmp_path / "results" / "busbra" / "manifest.csv"
    busbra.write_busbra_manifest(fake, out)
    cohort = validate_manifest(out, cfg["clinical"]["variables"], levels_from_config(cfg),
                               **cfg["validation"], split_group=cfg["split"]["group"])
    split = grouped_split(cohort, "case", 0.5, seed=0, levels=cfg["levels"])
    assert split.groupby("group")["set"].nunique().eq(1).all()


def test_manifest_validates_with_the_preset_and_splits_by_label(fake, tmp_path):
    cfg = yaml.safe_load(PRESET.read_text())
    out = tmp_path / "results" / "busbra" / "manifest.csv"
    busbra.write_busbra_manifest(fake, out, images="first")
    levels = levels_from_config(cfg)
    cohort = validate_manifest(out, cfg["clinical"]["variables"], levels,
                               **cfg["validation"])
    assert cohort["malignancy"].tolist() == [1, 0, 0, 1]
    assert "nodal_class" not in cohort and "n_positive_nodes" not in cohort
    split = stratified_split(cohort, 0.5, seed=0, levels=cfg["levels"])
    assert split.groupby("set")["stratum"].value_counts().unstack().eq(1).all().all()


def test_example_figure_rows_are_the_label_classes(fake, tmp_path):
    from alnburden.figures.cohort_examples import plot_cohort_examples

    cfg = yaml.safe_load(PRESET.read_text())
    out = tmp_path / "results" / "busbra" / "manifest.csv"
    busbra.write_busbra_manifest(fake, out, images="first")
    cohort = validate_manifest(out, cfg["clinical"]["variables"], levels_from_config(cfg))
    cohort.to_csv(tmp_path / "cohort.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['n_positive_nodes'\].*levels="):
        plot_cohort_examples(tmp_path / "cohort.csv", tmp_path / "fig" / "x")
    paths = plot_cohort_examples(tmp_path / "cohort.csv", tmp_path / "fig" / "examples",
                                 n_per_class=2, levels=["malignancy"], simulated=False)
    assert [p.suffix for p in paths] == [".pdf", ".png"] and all(p.exists() for p in paths)


def test_preset_does_not_use_leaking_columns():
    cfg = yaml.safe_load(PRESET.read_text())
    names = {v["name"] for v in cfg["clinical"]["variables"]}
    assert not names & {"birads", "histology", "malignant"}
    assert cfg["cohort"]["manifest"].startswith("results/")  # git-ignored
    assert [lv["label"] for lv in cfg["levels"]] == ["malignant == 1"]


def test_cli_writes_the_manifest_with_an_assumed_spacing(fake, tmp_path, capsys):
    out = tmp_path / "m" / "manifest.csv"
    busbra.main([str(fake), str(out), "--spacing-mm", "0.08"])
    assert "6 images of 4 patients, 3 malignant" in capsys.readouterr().out
    assert (pd.read_csv(out)["pixel_spacing_mm"] == 0.08).all()
    busbra.main([str(fake), str(out), "--first-image-only"])
    assert "4 images of 4 patients, 2 malignant" in capsys.readouterr().out


def test_cli_error_exits_with_the_reason(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        busbra.main([str(tmp_path / "nowhere"), str(tmp_path / "m.csv")])
    assert info.value.code == 2
    assert "bus_data.csv not found" in capsys.readouterr().err


def test_missing_mask_is_reported(fake, tmp_path):
    (fake / "Masks" / "mask_0003-l.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 image/mask file\(s\).*mask_0003-l\.png"):
        busbra.busbra_manifest(fake, tmp_path)


def test_unknown_pathology_is_an_error(tmp_path):
    rows = [(*ROWS[0][:3], "borderline", *ROWS[0][4:])]
    src = make_fake_busbra(tmp_path / "b", rows=rows, folds=False)
    with pytest.raises(ValueError, match=r"Pathology value\(s\) \['borderline'\]"):
        busbra.busbra_manifest(src, tmp_path)


def test_bad_spacing_is_an_error(fake, tmp_path):
    with pytest.raises(ValueError, match="spacing_mm is 0"):
        busbra.busbra_manifest(fake, tmp_path, spacing_mm=0)


def test_device_codes():
    assert busbra.device_code("Toshiba Aplio 300 @12-14 MHz") == "toshiba_aplio300"
    assert busbra.device_code(" Acme Sono-X 2 @5MHz") == "acme_sono_x_2"


@pytest.mark.busbra
@pytest.mark.skipif(not REAL.is_dir(), reason=f"BUS-BRA not found at {REAL}")
def test_real_busbra(tmp_path):
    """The real folder: 1,875 images (607 malignant) of 1,064 patients (342 malignant);
    the first 30 rows validate."""
    out = tmp_path / "results" / "busbra" / "manifest.csv"
    first = busbra.busbra_manifest(REAL, out.parent, images="first")
    assert len(first) == first["patient_id"].nunique() == 1064
    assert int(first["malignant"].sum()) == 342
    m = busbra.write_busbra_manifest(REAL, out)
    assert len(m) == m["patient_id"].nunique() == 1875 and m["case"].nunique() == 1064
    assert int(m["malignant"].sum()) == 607
    assert set(m["device"]) == set(busbra.DEVICE_CODES.values())
    assert all((out.parent / p).resolve().is_file() for p in m["image"])
    cfg = yaml.safe_load(PRESET.read_text())
    part = out.with_name("part.csv")
    m.head(30).to_csv(part, index=False)
    cohort = validate_manifest(part, cfg["clinical"]["variables"], levels_from_config(cfg),
                               **cfg["validation"])
    assert cohort["malignancy"].tolist() == m["malignant"].head(30).tolist()
    assert (cohort["n_components"] == 1).all()


def test_cli_splits_by_scanner(fake, tmp_path, capsys):
    """Three scanners for training, the fourth as an external cohort (the scanner presets)."""
    train, ext = tmp_path / "train.csv", tmp_path / "ext.csv"
    codes = sorted(busbra.write_busbra_manifest(fake, tmp_path / "all.csv")["device"].unique())
    busbra.main([str(fake), str(train), "--exclude-devices", codes[0]])
    busbra.main([str(fake), str(ext), "--devices", codes[0]])
    a, b = pd.read_csv(train), pd.read_csv(ext)
    assert set(b["device"]) == {codes[0]} and codes[0] not in set(a["device"])
    assert len(a) + len(b) == len(pd.read_csv(tmp_path / "all.csv"))
    with pytest.raises(SystemExit):
        busbra.main([str(fake), str(ext), "--devices", "acme_9000"])
    assert "acme_9000" in capsys.readouterr().err
