"""Shared fixtures: a tiny valid manifest with synthetic PNG images and masks, and a
synthetic clinical cohort (no images) for the split and Table 1 tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from alnburden.levels import Level, add_level_labels, nodal_class

#: The default config's clinical variables (config/config.yaml), copied so that the tests
#: pin the ranges their messages mention.
VARIABLES = [
    {"name": "age", "type": "continuous", "min": 18, "max": 100, "unit": "years"},
    {"name": "tumor_size_mm", "type": "continuous", "min": 1, "max": 200, "unit": "mm"},
    {"name": "er", "type": "binary"},
    {"name": "pr", "type": "binary"},
    {"name": "her2", "type": "binary"},
    {"name": "ki67", "type": "continuous", "min": 0, "max": 100, "unit": "%"},
    {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]},
    {"name": "subtype", "type": "categorical",
     "levels": ["luminal_a", "luminal_b", "her2_enriched", "triple_negative"]},
    {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]},
]
LEVELS = [
    Level(name="level1", population="all", label="n_positive_nodes > 0"),
    Level(name="level2", population="n_positive_nodes > 0", label="n_positive_nodes >= 3"),
]
SUBTYPES = ["luminal_a", "luminal_b", "her2_enriched", "triple_negative"]


def disk(shape: tuple[int, int], center: tuple[float, float], radius: float) -> np.ndarray:
    """Boolean disk (rows, cols) of ``radius`` pixels around ``center`` (row, col)."""
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    return (rr - center[0]) ** 2 + (cc - center[1]) ** 2 <= radius**2


def write_png(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array as PNG (grey for 2D, RGB for rows x cols x 3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(array, dtype=np.uint8)
    sitk.WriteImage(sitk.GetImageFromArray(arr, isVector=arr.ndim == 3), str(path))
    return path


#: SOP classes of the DICOM files the tests write.
US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def us_region(bounds: tuple[int, int, int, int], delta_cm: tuple[float, float],
              units: tuple[int, int] = (3, 3)):
    """One item of a Sequence of Ultrasound Regions: ``bounds`` (x0, y0, x1, y1; pixels,
    inclusive), PhysicalDeltaX/Y ``delta_cm`` in ``units`` (3 = cm)."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
    (item.RegionLocationMinX0, item.RegionLocationMinY0,
     item.RegionLocationMaxX1, item.RegionLocationMaxY1) = bounds
    item.PhysicalUnitsXDirection, item.PhysicalUnitsYDirection = units
    item.PhysicalDeltaX, item.PhysicalDeltaY = delta_cm
    return item


def _ybr_422(rgb: np.ndarray) -> np.ndarray:
    """Native YBR_FULL_422 pixel data of an RGB array: Y Y Cb Cr per pair of columns."""
    from pydicom.pixels import convert_color_space

    ybr = convert_color_space(rgb, "RGB", "YBR_FULL").astype(float)
    chroma = [ybr[..., c].reshape(ybr.shape[0], -1, 2).mean(-1) for c in (1, 2)]
    packed = np.stack([ybr[:, 0::2, 0], ybr[:, 1::2, 0], *chroma], axis=-1)
    return np.round(packed).astype(np.uint8)


def _dicom_pixels(ds, pixels: np.ndarray, photometric: str) -> None:
    """Store ``pixels`` (uint8; rows x cols, frames x rows x cols, or rows x cols x 3 RGB)
    in ``ds`` as ``photometric`` (MONOCHROME2, RGB, YBR_FULL, YBR_FULL_422, or JPEG: the RGB
    as a JPEG Baseline YBR_FULL_422 image)."""
    from pydicom.pixels import convert_color_space

    colour = pixels.ndim == 3 and pixels.shape[-1] == 3 and photometric != "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    ds.SamplesPerPixel = 3 if colour else 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PhotometricInterpretation = "YBR_FULL_422" if photometric == "JPEG" else photometric
    if colour:
        ds.PlanarConfiguration = 0
    if photometric == "JPEG":
        import io

        from PIL import Image
        from pydicom.encaps import encapsulate

        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="JPEG", quality=95, subsampling=1)
        ds.PixelData = encapsulate([buf.getvalue()])
        ds["PixelData"].VR = "OB"
        return
    stored = {"YBR_FULL": lambda a: convert_color_space(a, "RGB", "YBR_FULL"),
              "YBR_FULL_422": _ybr_422}.get(photometric, lambda a: a)(pixels)
    ds.PixelData = np.ascontiguousarray(stored, dtype=np.uint8).tobytes()


def write_dicom(path: Path, pixels: np.ndarray, photometric: str = "MONOCHROME2",
                regions: list | None = None, pixel_spacing: tuple[float, float] | None = None,
                sop_class: str = US_IMAGE_STORAGE) -> Path:
    """Write a DICOM file as a scanner would (see :func:`_dicom_pixels` for ``pixels`` and
    ``photometric``); ``regions`` (:func:`us_region` items) become the Sequence of
    Ultrasound Regions, ``pixel_spacing`` (row, column; mm) the PixelSpacing."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
    meta.TransferSyntaxUID = JPEGBaseline8Bit if photometric == "JPEG" else ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID = "US", "TEST"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    _dicom_pixels(ds, np.asarray(pixels, dtype=np.uint8), photometric)
    if pixels.ndim == 3 and photometric == "MONOCHROME2":
        ds.NumberOfFrames = pixels.shape[0]
    if regions is not None:
        ds.SequenceOfUltrasoundRegions = Sequence(regions)
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> digest)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class TinyCohort:
    """A manifest of six patients with 40x40 PNG images (noise with a dark disk) and
    0/255 disk masks, spacing 0.1 mm given in the manifest.

    Attributes
    ----------
    root : Path
        Folder holding ``manifest.csv``, ``images/`` and ``masks/``.
    manifest : Path
        The manifest CSV.
    """

    shape = (40, 40)
    n_positive_nodes = [0, 0, 1, 2, 3, 6]

    def __init__(self, root: Path, seed: int = 0) -> None:
        self.root = root
        self.manifest = root / "manifest.csv"
        self.variables = [dict(v) for v in VARIABLES]
        self.levels = list(LEVELS)
        rng = np.random.default_rng(seed)
        rows = []
        for i, n in enumerate(self.n_positive_nodes):
            pid = f"P{i + 1:03d}"
            lesion = disk(self.shape, (20 + i % 3 - 1, 20 - i % 2), 8)
            image = rng.normal(150, 25, self.shape)
            image[lesion] -= 90
            write_png(root / "images" / f"{pid}.png", np.clip(image, 0, 255))
            write_png(root / "masks" / f"{pid}.png", lesion * 255)
            rows.append({
                "patient_id": pid, "image": f"images/{pid}.png", "mask": f"masks/{pid}.png",
                "pixel_spacing_mm": 0.1, "n_positive_nodes": n, "age": 40 + 3 * i,
                "tumor_size_mm": 12.5 + i, "er": i % 2, "pr": (i + 1) % 2, "her2": int(i == 4),
                "ki67": 10 + 7 * i, "grade": 1 + i % 3, "subtype": SUBTYPES[i % 4],
                "aln_us_class": 1 + i,
            })
        pd.DataFrame(rows).to_csv(self.manifest, index=False)

    def table(self) -> pd.DataFrame:
        """The manifest as strings (what the user wrote)."""
        return pd.read_csv(self.manifest, dtype=str, keep_default_na=False)

    def save(self, df: pd.DataFrame) -> None:
        """Overwrite the manifest (to build a bad input before validating)."""
        df.to_csv(self.manifest, index=False)

    def set(self, patient: int, column: str, value) -> None:
        """Set one cell; ``patient`` is the 0-based data row (report row = patient + 2)."""
        df = self.table()
        df.loc[patient, column] = str(value)
        self.save(df)

    def snapshot(self) -> dict[str, str]:
        """sha256 of every file of the cohort folder."""
        return tree_hashes(self.root)

    def validate(self, **kwargs) -> pd.DataFrame:
        from alnburden.cohort.manifest import validate_manifest

        return validate_manifest(self.manifest, self.variables, self.levels, **kwargs)


@pytest.fixture
def tiny_cohort(tmp_path: Path) -> TinyCohort:
    """A valid six-patient manifest with PNG images and masks in ``tmp_path / 'cohort'``."""
    return TinyCohort(tmp_path / "cohort")


def make_clinical_cohort(n: int = 583, seed: int = 0) -> pd.DataFrame:
    """Synthetic typed cohort (cohort.csv columns, clinical-only) with a node-count signal.

    Node counts: about 45 % N0, 35 % N1-2, 20 % N>=3; ki67 and tumour size rise with the
    count, age does not depend on it.
    """
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    cls = np.digitize(latent + rng.normal(scale=0.6, size=n), [-0.15, 0.95])
    nodes = np.where(cls == 0, 0, np.where(cls == 1, rng.integers(1, 3, n), rng.integers(3, 15, n)))
    df = pd.DataFrame({
        "patient_id": [f"S{i:04d}" for i in range(n)],
        "n_positive_nodes": nodes.astype(int),
        "age": np.clip(rng.normal(52, 11, n), 18, 100).round(0),
        "tumor_size_mm": np.clip(np.exp(rng.normal(3.0 + 0.2 * latent, 0.4)), 1, 200).round(1),
        "er": (rng.random(n) < 0.7).astype(int),
        "pr": (rng.random(n) < 0.6).astype(int),
        "her2": (rng.random(n) < 0.25).astype(int),
        "ki67": np.clip(np.exp(rng.normal(2.9 + 0.5 * latent, 0.6)), 0, 100).round(0),
        "grade": np.clip(np.round(2 + 0.6 * latent + rng.normal(scale=0.6, size=n)), 1, 3).astype(int),
        "subtype": rng.choice(SUBTYPES, n, p=[0.35, 0.3, 0.15, 0.2]),
        "aln_us_class": np.clip(np.round(2 + 1.2 * cls + rng.normal(scale=0.8, size=n)), 1, 6).astype(int),
    })
    df["nodal_class"] = nodal_class(df["n_positive_nodes"].to_numpy())
    return add_level_labels(df, LEVELS)


@pytest.fixture
def clinical_cohort() -> pd.DataFrame:
    """583 synthetic patients (the size of the hierarchical study), clinical-only."""
    return make_clinical_cohort(583, seed=0)


def run_workflow(configfile: Path, work: Path, *extra: str) -> list[str]:
    """Run the workflow with ``configfile`` in the folder ``work`` on 2 cores; on failure the
    test fails with Snakemake's stderr and the tail of every rule log. Returns the command."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(root / "Snakefile"),
           "--configfile", str(configfile), "--cores", "2", *extra]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-3000:]}"
                         for p in sorted((work / "results/logs").rglob("*.log")))
        pytest.fail(f"workflow failed:\n{proc.stderr[-6000:]}\n{logs}")
    return cmd


@pytest.fixture(scope="session")
def e2e_run(tmp_path_factory):
    """One run of the whole workflow on the small CI cohort (tests/data/ci_config.yaml),
    shared by the end-to-end tests and the SLURM test's local reference."""
    root = Path(__file__).resolve().parents[1]
    work = tmp_path_factory.mktemp("e2e")
    run_workflow(root / "tests/data/ci_config.yaml", work)
    return work
