"""End-to-end: the whole workflow on a cohort whose images come in every supported format.

The simulated CI cohort (tests/data/ci_config.yaml: 48 patients) is rewritten patient by
patient, in turn, as NRRD, NIfTI, DICOM (image and mask in that format, the pixel spacing in
the file and not in the manifest), grey PNG and RGB PNG (spacing in the manifest), and given
to the workflow as a user manifest. Every rule must run to the end and every figure of the
study must exist: in particular the cohort example figure and the extraction read the
same files through the same reader, and every later stage (nested CV, bootstrap optimism,
SHAP, sample size, checklists, risk calculators, bundle) runs on it.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml
from conftest import run_workflow
from test_partial_designs import check_study_outputs

from alnburden.design import StudyDesign
from alnburden.figures.registry import figure_files

ROOT = Path(__file__).resolve().parents[1]
CI_CONFIG = ROOT / "tests" / "data" / "ci_config.yaml"
#: Image formats, in the order patients take them (``rgb.png``: an RGB PNG of the grey image).
FORMATS = (".nrrd", ".nii.gz", ".dcm", ".png", ".rgb.png")
#: Formats whose files store their pixel spacing (``pixel_spacing_mm`` left empty).
SPACED = (".nrrd", ".nii.gz", ".dcm")


def _write(array: np.ndarray, path: Path, suffix: str, spacing_mm: float) -> None:
    """Write a grey uint8 image (rows x columns) in the format ``suffix``."""
    if suffix == ".rgb.png":
        image = sitk.GetImageFromArray(np.repeat(array[..., None], 3, axis=-1), isVector=True)
    else:
        image = sitk.GetImageFromArray(array)
    if suffix in SPACED:
        image.SetSpacing((spacing_mm, spacing_mm))
    sitk.WriteImage(image, str(path))


def convert_cohort(manifest: Path, formats=FORMATS) -> Path:
    """Rewrite the images and masks of a PNG manifest, patient ``i`` in ``formats[i % n]``.

    Returns the new manifest (``manifest_formats.csv`` next to ``manifest``); paths stay
    relative to its folder, ``pixel_spacing_mm`` is emptied where the file stores it.
    """
    root = manifest.parent
    m = pd.read_csv(manifest)
    spacing = m["pixel_spacing_mm"].astype(float).to_numpy()
    for i, row in m.iterrows():
        suffix = formats[i % len(formats)]
        for col in ("image", "mask"):
            src = root / row[col]
            array = sitk.GetArrayFromImage(sitk.ReadImage(str(src))).astype(np.uint8)
            mask_suffix = ".png" if suffix == ".rgb.png" and col == "mask" else suffix
            dst = src.with_name(src.stem + mask_suffix)
            _write(array, dst, mask_suffix, spacing[i])
            m.loc[i, col] = str(dst.relative_to(root))
        if suffix in SPACED:
            spacing[i] = np.nan
    m["pixel_spacing_mm"] = spacing
    out = root / "manifest_formats.csv"
    m.to_csv(out, index=False)
    return out


@pytest.mark.workflow
def test_workflow_runs_on_nrrd_nifti_dicom_grey_and_rgb_png(tmp_path):
    from alnburden.simulate import simulate_cohort

    config = yaml.safe_load(CI_CONFIG.read_text())
    sim = config["cohort"]["simulate"]
    manifest = convert_cohort(simulate_cohort(tmp_path / "cohort", n_patients=sim["n_patients"],
                                              seed=sim["seed"]))
    suffixes = pd.read_csv(manifest)["image"].map(lambda p: "".join(Path(p).suffixes[-2:]))
    assert {".nrrd", ".nii.gz", ".dcm", ".png", ".rgb.png"} <= set(suffixes)
    user = copy.deepcopy(config)
    user["cohort"]["manifest"] = str(manifest)
    user["radiomics"]["params"] = str(ROOT / config["radiomics"]["params"])
    user["levels"][0]["description"] = "N0 vs N+ (all patients)"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(user, sort_keys=False))
    work = tmp_path / "work"
    work.mkdir()
    cmd = run_workflow(tmp_path / "config.yaml", work)
    again = subprocess.run([*cmd, "-n"], cwd=work, capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout + again.stderr, "a rule did not run to the end"
    design = StudyDesign.from_config(user, list(pd.read_csv(manifest, nrows=0).columns))
    missing = [f for f in figure_files(design) if not (work / "results" / f).is_file()]
    assert not missing, f"figures not drawn: {missing}"
    feats = pd.read_parquet(work / "results/features/radiomics.parquet")
    assert len(feats) == sim["n_patients"] and not feats.isna().any().any()
    report = (work / "results/report.html").read_text()
    assert "N0 vs N+ (all patients)" in report    # captions name the level by its description
    # the internal validation, explanation and reporting stages ran on the NRRD/NIfTI/DICOM
    # manifest too: checklists, calculators, bundle, SHAP, sample size, nested CV
    check_study_outputs(design, work / "results")
