"""Segmentation robustness: features re-measured on perturbed lesion masks, and their ICC.

For a subset of training patients each lesion mask is perturbed ``n`` times (erosion by one
pixel, dilation by one pixel, then smooth random contour perturbations), the peritumoral
rings are recomputed from each perturbed mask, and every feature is re-measured on the SAME
normalised, resampled and filtered images as the original (see
:mod:`alnburden.extraction.extractor`).
The original mask is "rater" 0, the perturbations raters 1..n. A feature whose intraclass
correlation (ICC) across these raters is below the threshold is not reproducible under
plausible re-segmentation and is dropped before feature selection.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage

from alnburden.extraction.extractor import (
    ExtractionError,
    RadiomicsExtractor,
    features_frame,
)
from alnburden.extraction.regions import region_masks
from alnburden.extraction.shards import shard_rows, write_features
from alnburden.io.images import row_spacing
from alnburden.stats.icc import ICC_KINDS, icc_single

logger = logging.getLogger(__name__)



def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def patient_rng(seed: int, patient_id: str) -> np.random.Generator:
    """Random generator of one patient's perturbations, from the config seed and the id only
    (so the perturbations do not depend on sharding or on the order of the cohort)."""
    digest = int(hashlib.sha256(str(patient_id).encode()).hexdigest()[:16], 16)
    return np.random.default_rng([int(seed), digest])


def _from_array(arr: np.ndarray, like: sitk.Image) -> sitk.Image:
    out = sitk.GetImageFromArray(arr.astype(np.uint8))
    out.CopyInformation(like)
    return out


def smooth_perturbation(mask: np.ndarray, rng: np.random.Generator, amplitude_px: float = 1.0,
                        smoothing_px: float = 4.0) -> np.ndarray:
    """Move the contour of ``mask`` by a smooth random displacement.

    The signed distance ``d`` to the contour (pixels, negative inside) is compared with a
    Gaussian random field ``u`` (white noise smoothed with a Gaussian of SD ``smoothing_px``
    pixels, rescaled to SD ``amplitude_px`` pixels): the new mask is ``d < u``, i.e. the
    contour moves outwards where ``u > 0`` and inwards where ``u < 0`` by ``|u|`` pixels,
    with neighbouring contour points moving together (an annotator's hand, not noise).

    Returns
    -------
    numpy.ndarray
        Boolean perturbed mask (same shape).
    """
    m = np.asarray(mask, dtype=bool)
    d = ndimage.distance_transform_edt(~m) - ndimage.distance_transform_edt(m)
    # boundary halfway between the last inside (-1) and first outside (+1) pixel
    d = np.where(m, d + 0.5, d - 0.5)
    field = ndimage.gaussian_filter(rng.standard_normal(m.shape), smoothing_px, mode="reflect")
    sd = field.std()
    field = field / sd * amplitude_px if sd > 0 else field
    return d < field


def perturb_masks(mask: sitk.Image, n: int, rng: np.random.Generator | int | None,
                  amplitude_px: float = 1.0, smoothing_px: float = 4.0) -> list[sitk.Image]:
    """``n`` plausible re-segmentations of a lesion mask.

    Parameters
    ----------
    mask
        Binary lesion mask (uint8 0/1).
    n
        Number of perturbed masks, >= 2: erosion by 1 pixel (3x3 cross), dilation by 1 pixel,
        then ``n - 2`` smooth random contour perturbations (:func:`smooth_perturbation`).
    rng
        Random generator or seed (only the smooth perturbations use it).
    amplitude_px, smoothing_px
        SD of the contour displacement and its correlation length (pixels).

    Returns
    -------
    list[SimpleITK.Image]
        ``n`` uint8 0/1 masks with the geometry of ``mask``.

    Raises
    ------
    ValueError
        ``n < 2``, or a perturbation leaves an empty mask (lesion too small).
    """
    if n < 2:
        raise ValueError(f"n_perturbations={n} must be >= 2 (erosion and dilation at least)")
    rng = _as_rng(rng)
    arr = sitk.GetArrayFromImage(mask) != 0
    cross = ndimage.generate_binary_structure(2, 1)
    perturbed = [ndimage.binary_erosion(arr, cross), ndimage.binary_dilation(arr, cross)]
    for _ in range(n - 2):
        perturbed.append(smooth_perturbation(arr, rng, amplitude_px, smoothing_px))
    names = ["erosion", "dilation"] + [f"contour perturbation {i + 1}" for i in range(n - 2)]
    for name, p in zip(names, perturbed):
        if p.sum() < 2:
            raise ValueError(f"{name} leaves {int(p.sum())} lesion pixel(s) of {int(arr.sum())}; "
                             "the lesion is too small for the robustness step")
    return [_from_array(p, mask) for p in perturbed]


def dice(a: sitk.Image, b: sitk.Image) -> float:
    """Dice overlap of two binary masks."""
    x, y = sitk.GetArrayViewFromImage(a) != 0, sitk.GetArrayViewFromImage(b) != 0
    return float(2 * np.logical_and(x, y).sum() / (x.sum() + y.sum()))


def select_patients(patient_ids: Sequence[str], fraction: float, seed: int) -> list[str]:
    """The training patients re-extracted for the ICC: ``ceil(fraction * n)`` (at least 2),
    drawn with ``seed``, returned sorted."""
    ids = sorted({str(p) for p in patient_ids})
    if not 0 < fraction <= 1:
        raise ValueError(f"robustness fraction {fraction} must be in (0, 1]")
    k = min(len(ids), max(2, int(np.ceil(fraction * len(ids)))))
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(ids, size=k, replace=False).tolist()) if ids else []


def extract_perturbed(extractor: RadiomicsExtractor, image_path, mask_path,
                      spacing_mm: float | None = None, n_perturbations: int = 3,
                      rng: np.random.Generator | int | None = None,
                      patient_id: str | None = None) -> pd.DataFrame:
    """Features of the original and perturbed segmentations of one patient.

    The lesion and its rings (recomputed from each perturbed mask) are measured on the
    image prepared once (normalised, resampled, filtered).

    Returns
    -------
    pandas.DataFrame
        Long table: ``patient_id``, ``rater`` (0 = original mask, 1..n perturbed), then the
        features (named as in radiomics.parquet), sorted.

    Raises
    ------
    ExtractionError
        Naming the patient, the rater and the reason.
    """
    pid = str(patient_id) if patient_id is not None else str(image_path)
    rater = 0
    try:
        image, mask, _ = extractor.load_patient(image_path, mask_path, spacing_mm)
        masks = [mask] + perturb_masks(mask, n_perturbations, rng)
        prepared = extractor.prepare(image)
        rows = []
        for rater, m in enumerate(masks):
            regions = region_masks(m, extractor.peritumoral_mm)
            rows.append(((pid, rater), extractor.measure_regions(prepared, regions)))
    except Exception as err:  # noqa: BLE001 - re-raised naming the patient
        raise ExtractionError(f"patient {pid}: robustness extraction failed (rater {rater}): "
                              f"{err}") from err
    return features_frame(rows, ("patient_id", "rater"))


def extract_perturbed_cohort(extractor: RadiomicsExtractor, cohort: pd.DataFrame,
                             n_perturbations: int, seed: int,
                             progress_logger: logging.Logger | None = None) -> pd.DataFrame:
    """:func:`extract_perturbed` for every row of ``cohort`` (``patient_id``, ``image``,
    ``mask``, optional ``pixel_spacing_mm``), each patient seeded by :func:`patient_rng`."""
    log = progress_logger or logger
    frames = []
    for i, row in enumerate(cohort.itertuples(index=False), start=1):
        t0 = time.perf_counter()
        pid = str(row.patient_id)
        frames.append(extract_perturbed(extractor, row.image, row.mask, row_spacing(row),
                                        n_perturbations, patient_rng(seed, pid), patient_id=pid))
        log.info("%d/%d %s %.2f s (%d masks)", i, len(cohort), pid, time.perf_counter() - t0,
                 n_perturbations + 1)
    if not frames:
        return pd.DataFrame(columns=["patient_id", "rater"])
    return pd.concat(frames, ignore_index=True)


def icc_table(long_df: pd.DataFrame, icc: str = "ICC3", threshold: float = 0.75) -> pd.DataFrame:
    """ICC of every feature across raters, and whether it passes ``threshold``.

    Parameters
    ----------
    long_df
        ``patient_id``, ``rater`` and one column per feature; every patient must have every
        rater (complete design).
    icc
        ``"ICC3"``: ICC(3,1), two-way mixed, consistency, single rater (pingouin row
        ``ICC(C,1)``); ``"ICC2"``: ICC(2,1), two-way random, absolute agreement (``ICC(A,1)``).
    threshold
        A feature is kept when ``icc >= threshold``.

    Returns
    -------
    pandas.DataFrame
        ``feature, icc, ci_low, ci_high, kept``, one row per feature in column order. The CI
        is the 95 % F-based interval (:func:`alnburden.stats.icc.icc_single`, pingouin's
        formulas, unrounded). A feature
        constant over all patients and raters has no between-patient variance: its ICC is
        undefined (NaN) and it is not kept (it carries no information anyway). A feature
        identical across raters (residual variance 0) has ICC 1 and CI [1, 1].

    Raises
    ------
    ValueError
        Unknown ``icc``, missing columns, an incomplete patient x rater design, fewer than 2
        patients, or non-finite feature values.
    """
    if icc not in ICC_KINDS:
        raise ValueError(f"icc={icc!r} is unknown; use one of {sorted(ICC_KINDS)}")
    keys, features, values = _checked_design(long_df)
    n_raters = keys["rater"].nunique()
    est, lo, hi = icc_single(values.reshape(-1, n_raters, len(features)), icc)
    out = pd.DataFrame({"feature": features, "icc": est, "ci_low": lo, "ci_high": hi})
    out["kept"] = (out["icc"] >= threshold).fillna(False).astype(bool)
    return out


def _checked_design(long_df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """The ``patient_id``/``rater`` columns sorted by patient then rater, the feature names
    and their values (rows in that order), after checking the design :func:`icc_table`
    needs (see its Raises)."""
    for col in ("patient_id", "rater"):
        if col not in long_df.columns:
            raise ValueError(f"robustness table lacks column {col!r}; pass the merged "
                             "robustness shards")
    df = long_df.sort_values(["patient_id", "rater"], kind="stable").reset_index(drop=True)
    counts = df.groupby("patient_id")["rater"].nunique()
    n_raters = df["rater"].nunique()
    if (counts != n_raters).any() or df.duplicated(["patient_id", "rater"]).any():
        bad = counts.index[counts != n_raters].tolist()[:5]
        raise ValueError(f"incomplete design: patients {bad} lack some of the {n_raters} raters "
                         "(or repeat one); rerun the robustness extraction")
    if len(counts) < 2 or n_raters < 2:
        raise ValueError(f"ICC needs >= 2 patients and >= 2 raters, got {len(counts)} and "
                         f"{n_raters}; raise radiomics.robustness.fraction")
    features = [c for c in df.columns if c not in ("patient_id", "rater")]
    values = df[features].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        bad = [f for f, ok in zip(features, np.isfinite(values).all(axis=0)) if not ok][:5]
        raise ValueError(f"non-finite values in features {bad}; the extraction should have "
                         "raised, rerun it")
    return df[["patient_id", "rater"]].copy(), features, values


def extract_robustness_shard(cohort: pd.DataFrame, split: pd.DataFrame, shard: int, n_shards: int,
                             params_path, out_path, peritumoral_mm=(3,), components: str = "keep_all",
                             fraction: float = 0.25, n_perturbations: int = 3, seed: int = 2026,
                             progress_logger: logging.Logger | None = None, fast_glcm: bool = True,
                             **_ignored):
    """Perturbed-mask features of this shard's share of the ICC patients, written as a
    feature file (:func:`alnburden.extraction.shards.write_features`).

    The ICC patients are drawn from the TRAINING set only (``split``), so nothing about the
    test patients informs which features are kept.

    Parameters
    ----------
    cohort, split
        ``results/cohort/cohort.csv`` and ``results/cohort/split.csv`` (``patient_id``,
        ``set``).
    shard, n_shards
        This shard (0-based) of ``n_shards`` (:func:`alnburden.extraction.shards.shard_of`).
    params_path, peritumoral_mm, components, fast_glcm
        As :class:`alnburden.extraction.extractor.RadiomicsExtractor`.
    fraction, seed
        Share of the training patients re-extracted (:func:`select_patients`) and the seed
        of that draw and of each patient's perturbations (:func:`patient_rng`).
    n_perturbations
        Perturbed masks per patient (:func:`perturb_masks`), default 3.
    out_path
        Parquet written (a JSON sidecar beside it).
    **_ignored
        The other keys of ``radiomics.robustness`` (``icc``, ``threshold``), so the rule can
        pass the whole section.

    Returns
    -------
    Path
        The sidecar JSON path.
    """
    train_ids = split.loc[split["set"] == "train", "patient_id"].astype(str)
    chosen = set(select_patients(train_ids, fraction, seed))
    rows = shard_rows(cohort[cohort["patient_id"].astype(str).isin(chosen)], shard, n_shards)
    extractor = RadiomicsExtractor(params_path, peritumoral_mm=peritumoral_mm,
                                   components=components, fast_glcm=fast_glcm)
    (progress_logger or logger).info("robustness shard %s/%s: %d patients x %d perturbations",
                                     shard, n_shards, len(rows), n_perturbations)
    long_df = extract_perturbed_cohort(extractor, rows, n_perturbations, seed, progress_logger)
    return write_features(long_df, out_path, extractor.feature_metadata())
