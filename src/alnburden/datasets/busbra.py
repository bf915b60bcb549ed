"""The BUS-BRA breast-ultrasound dataset as a manifest (every image, or one per patient), malignant vs benign.

BUS-BRA (Gómez-Flores, Gregorio-Calas and Pereira, "BUS-BRA: a breast ultrasound dataset for
assessing computer-aided diagnosis systems", Medical Physics, 2024) holds 1,875 grey PNG
images with one lesion mask each, from 1,064 patients (``Case``) and 4 scanners, with the
biopsy pathology (benign / malignant), the BI-RADS category and the histology. Its folder::

    bus_data.csv                 ID, Case, Histology, Pathology, BIRADS, Device, Side, ...
    Images/bus_0001-l.png        one image per ID
    Masks/mask_0001-l.png        its lesion mask
    5-fold-cv.csv, 10-fold-cv.csv  official patient-level folds (optional here)

This module writes the project's manifest for a malignant-vs-benign study on the real
images. Choices, all deterministic:

- **every image** (``images="all"``, the default and the preset's): one row per image,
  ``patient_id`` is the image ``ID`` (``bus_0001-l``: the manifest's row id) and ``case``
  the patient; the preset's ``split.group: case`` keeps a patient's images on one side of
  the split and in one fold of every inner CV;
- or **one image per patient** (``images="first"``): the first image of each ``Case`` in
  ``ID`` order (``-l`` before ``-r``; ``-s`` when the case has a single image), and
  ``patient_id`` is the case;
- the case is written ``case_0001`` (a text id: an all-digit id would be read back as a
  number by tools that guess types);
- ``pixel_spacing_mm`` is ASSUMED (default 0.1 mm): BUS-BRA records none (the images are
  cropped scanner exports). It sets the physical scale of the resampling, of the LoG sigmas
  and of the peritumoral ring, not whether the study runs;
- ``malignant`` (1 = malignant, 0 = benign) is the label (level rule ``malignant == 1``);
- ``birads`` and ``histology`` are kept for reference only: both are read with knowledge of
  the lesion's malignancy (BI-RADS is the radiologist's malignancy estimate; histology is
  the pathology itself) and must never be predictors;
- ``device`` is the scanner as a short code (``ge_logiq5``, ``ge_logiq7``,
  ``toshiba_aplio300``, ``u_systems``); ``device_model`` its full name.

Paths are written relative to the manifest's folder (``os.path.relpath``; they may climb out
of it, e.g. ``../../../shared/data/busbra/Images/bus_0001-l.png``). No image is copied or
modified. The manifest must stay out of version control (write it under ``results/``).

Command line::

    python -m alnburden.datasets.busbra SRC_DIR OUT_MANIFEST [--spacing-mm 0.1]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

#: Assumed in-plane pixel size (mm): BUS-BRA records none. A typical value for a 4-5 cm
#: linear-probe field of view exported at ~350-450 pixels.
ASSUMED_SPACING_MM = 0.1
#: Columns of ``bus_data.csv`` the converter reads.
REQUIRED_COLUMNS = ("ID", "Case", "Pathology", "BIRADS", "Device")
#: Manifest columns written, in order (then ``cv5_fold``/``cv10_fold`` when the fold files exist).
MANIFEST_COLUMNS = ["patient_id", "case", "image_id", "image", "mask", "pixel_spacing_mm",
                    "malignant", "birads", "device", "device_model", "histology", "side",
                    "n_images"]
#: The images a manifest holds: every image, or the first of each case.
IMAGE_CHOICES = ("all", "first")
#: The four scanners of BUS-BRA and their short codes (other names get a generic code).
DEVICE_CODES = {
    "GE Logiq 5 @10-12MHz": "ge_logiq5",
    "GE Logiq 7 @10-14MHz": "ge_logiq7",
    "Toshiba Aplio 300 @12-14 MHz": "toshiba_aplio300",
    "U-Systems @10-14MHz": "u_systems",
}
_PATHOLOGY = {"benign": 0, "malignant": 1}


def device_code(name: str) -> str:
    """Short code of a scanner name: :data:`DEVICE_CODES`, else a slug of the part before '@'.

    >>> device_code("GE Logiq 7 @10-14MHz")
    'ge_logiq7'
    >>> device_code("Acme Sono X @5MHz")
    'acme_sono_x'
    """
    name = str(name).strip()
    if name in DEVICE_CODES:
        return DEVICE_CODES[name]
    return re.sub(r"[^a-z0-9]+", "_", name.split("@")[0].strip().lower()).strip("_")


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # different drives (Windows): keep the absolute path
        return path.as_posix()


def _folds(src: Path, name: str) -> pd.Series | None:
    path = src / name
    if not path.exists():
        return None
    table = pd.read_csv(path, usecols=["ID", "kFold"])
    return table.set_index("ID")["kFold"]


def _read_bus_data(src: Path) -> pd.DataFrame:
    """``src/bus_data.csv`` checked (see :func:`busbra_manifest`), with ``malignant``
    (0/1) and ``n_images`` (images of the same ``Case``) added."""
    table_path = src / "bus_data.csv"
    if not table_path.exists():
        raise FileNotFoundError(f"{table_path} not found; SRC_DIR must be the BUS-BRA folder "
                                "holding bus_data.csv, Images/ and Masks/")
    data = pd.read_csv(table_path, dtype={"ID": str})
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(f"{table_path} lacks column(s) {missing}; expected the BUS-BRA table "
                         f"with columns {list(REQUIRED_COLUMNS)}")
    pathology = data["Pathology"].astype(str).str.strip().str.lower()
    bad = sorted(set(pathology) - set(_PATHOLOGY))
    if bad:
        raise ValueError(f"{table_path}: Pathology value(s) {bad} are neither 'benign' nor "
                         "'malignant'; correct the table")
    data = data.assign(malignant=pathology.map(_PATHOLOGY))
    data["n_images"] = data.groupby("Case")["ID"].transform("size")
    return data


def busbra_manifest(src_dir: str | Path, manifest_dir: str | Path,
                    spacing_mm: float = ASSUMED_SPACING_MM, images: str = "all") -> pd.DataFrame:
    """BUS-BRA as a manifest table: one row per image, or the first image of each patient.

    Parameters
    ----------
    src_dir
        The BUS-BRA folder (``bus_data.csv``, ``Images/``, ``Masks/``).
    manifest_dir
        Folder the manifest will be written to: ``image``/``mask`` are relative to it.
    spacing_mm
        Assumed pixel size (mm) written to every row; > 0.
    images
        ``"all"`` (one row per image, ``patient_id`` the image ID, ``case`` the patient) or
        ``"first"`` (one row per case, ``patient_id`` = ``case``).

    Returns
    -------
    pandas.DataFrame
        :data:`MANIFEST_COLUMNS` (+ ``cv5_fold``, ``cv10_fold`` from the official fold
        files when present), in case then ID order.

    Raises
    ------
    FileNotFoundError
        ``bus_data.csv`` or a selected image or mask file is missing (all are listed).
    ValueError
        A column of ``bus_data.csv`` is missing, a pathology is neither benign nor
        malignant, ``spacing_mm`` is not positive, or ``images`` is not one of
        :data:`IMAGE_CHOICES`.
    """
    if images not in IMAGE_CHOICES:
        raise ValueError(f"images is {images!r}; use one of {IMAGE_CHOICES}")
    if not spacing_mm > 0:
        raise ValueError(f"spacing_mm is {spacing_mm!r}; give the assumed pixel size in mm as a "
                         "positive number (e.g. 0.1)")
    src = Path(src_dir).resolve()
    data = _read_bus_data(src)
    one_per_case = images == "first"
    first = data.sort_values(["Case", "ID"], kind="stable")
    if one_per_case:
        first = first.drop_duplicates("Case", keep="first")
    first = first.reset_index(drop=True)
    case = [f"case_{int(c):04d}" for c in first["Case"]]

    out_dir = Path(manifest_dir).resolve()
    images = [src / "Images" / f"{i}.png" for i in first["ID"]]
    masks = [src / "Masks" / f"mask_{i.removeprefix('bus_')}.png" for i in first["ID"]]
    absent = [str(p) for p in [*images, *masks] if not p.exists()]
    if absent:
        raise FileNotFoundError(f"{len(absent)} image/mask file(s) of the selected images are "
                                f"missing, e.g. {absent[:5]}; check the BUS-BRA folder {src}")
    manifest = pd.DataFrame({
        "patient_id": case if one_per_case else first["ID"].to_numpy(),
        "case": case,
        "image_id": first["ID"].to_numpy(),
        "image": [_relative(p, out_dir) for p in images],
        "mask": [_relative(p, out_dir) for p in masks],
        "pixel_spacing_mm": float(spacing_mm),
        "malignant": first["malignant"].astype(int).to_numpy(),
        "birads": first["BIRADS"].to_numpy(),
        "device": first["Device"].map(device_code).to_numpy(),
        "device_model": first["Device"].astype(str).str.strip().to_numpy(),
        "histology": first["Histology"].to_numpy() if "Histology" in first else "",
        "side": first["Side"].to_numpy() if "Side" in first else "",
        "n_images": first["n_images"].astype(int).to_numpy(),
    })
    for name, column in (("5-fold-cv.csv", "cv5_fold"), ("10-fold-cv.csv", "cv10_fold")):
        folds = _folds(src, name)
        if folds is not None:
            manifest[column] = first["ID"].map(folds).astype("Int64").to_numpy()
    logger.info("BUS-BRA: %d images of %d patients -> %d rows (%d malignant); devices %s",
                len(data), data["Case"].nunique(), len(manifest), int(manifest["malignant"].sum()),
                manifest["device"].value_counts().to_dict())
    return manifest


def write_busbra_manifest(src_dir: str | Path, out_manifest: str | Path,
                          spacing_mm: float = ASSUMED_SPACING_MM,
                          images: str = "all", devices: list[str] | None = None,
                          exclude_devices: list[str] | None = None) -> pd.DataFrame:
    """Write :func:`busbra_manifest` to ``out_manifest`` (CSV; parent folders created).

    Parameters
    ----------
    devices, exclude_devices
        Keep only the patients of these scanners / drop those of these scanners (device
        codes, e.g. ``ge_logiq7``): a training cohort of three scanners and an external
        cohort of the fourth.

    Returns
    -------
    pandas.DataFrame
        The manifest written.
    """
    out = Path(out_manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest = busbra_manifest(src_dir, out.parent, spacing_mm, images)
    known = set(manifest["device"])
    unknown = sorted((set(devices or []) | set(exclude_devices or [])) - known)
    if unknown:
        raise ValueError(f"device(s) {unknown} are not in BUS-BRA; its devices are {sorted(known)}")
    if devices:
        manifest = manifest[manifest["device"].isin(devices)]
    if exclude_devices:
        manifest = manifest[~manifest["device"].isin(exclude_devices)]
    manifest.to_csv(out, index=False, lineterminator="\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m alnburden.datasets.busbra SRC_DIR OUT_MANIFEST``."""
    parser = argparse.ArgumentParser(
        prog="python -m alnburden.datasets.busbra",
        description="Write a manifest of BUS-BRA (every image, or one per patient; malignant "
                    "vs benign). "
                    "Images are referenced, not copied; keep the manifest out of git "
                    "(e.g. results/busbra/manifest.csv).")
    parser.add_argument("src", type=Path, help="BUS-BRA folder (bus_data.csv, Images/, Masks/)")
    parser.add_argument("out", type=Path, help="manifest CSV to write")
    parser.add_argument("--spacing-mm", type=float, default=ASSUMED_SPACING_MM,
                        help="assumed pixel size in mm (BUS-BRA records none; default "
                             f"{ASSUMED_SPACING_MM})")
    parser.add_argument("--first-image-only", action="store_true",
                        help="one row per patient (its first image) instead of every image")
    parser.add_argument("--devices", nargs="+", metavar="CODE",
                        help="keep only these scanners (e.g. ge_logiq7: an external cohort)")
    parser.add_argument("--exclude-devices", nargs="+", metavar="CODE",
                        help="drop these scanners (e.g. ge_logiq7: a training cohort of the others)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        manifest = write_busbra_manifest(args.src, args.out, args.spacing_mm,
                                         "first" if args.first_image_only else "all",
                                         args.devices, args.exclude_devices)
    except (FileNotFoundError, ValueError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print(f"wrote {args.out}: {len(manifest)} images of {manifest['case'].nunique()} patients, "
          f"{int(manifest['malignant'].sum())} malignant, assumed pixel spacing "
          f"{args.spacing_mm:g} mm")


if __name__ == "__main__":
    main()
