"""Robustness of the features: ICC over image perturbations and over readers.

**Perturbations** (after Zwanenburg et al., Sci Rep 2019): for a subset of training patients
the image and lesion mask are perturbed ``n`` times, each time by a chain of rotation,
translation, noise addition, contour randomisation and volume adaptation in physical units
(:mod:`alnburden.extraction.perturbation`); the peritumoral rings are recomputed from each
perturbed mask and every feature is re-measured (one normalisation, resampling and filtering
per perturbed image, shared by its regions, see :mod:`alnburden.extraction.extractor`).
The original image and mask are "rater" 0, the perturbations raters 1..n.

**Readers**: patients with a second reader's mask (manifest column ``mask_reader2``) are
measured on both masks of the same image: rater 0 = ``mask``, rater 1 = ``mask_reader2``.

:func:`icc_table` turns either long table into one ICC per feature; a feature whose ICC
(by default the LOWER bound of its 95 % CI) is below the threshold is not reproducible and is
dropped before feature selection; :func:`combine_icc` merges the two sources as
``radiomics.robustness.source`` says.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import stats

from alnburden.extraction.extractor import (
    ExtractionError,
    RadiomicsExtractor,
    features_frame,
)
from alnburden.extraction.perturbation import PerturbationSettings, apply_perturbation
from alnburden.extraction.regions import region_masks
from alnburden.extraction.shards import shard_rows, write_features
from alnburden.io.images import read_mask, row_spacing

logger = logging.getLogger(__name__)

#: ICC forms of :func:`icc_table` (Shrout & Fleiss / McGraw & Wong; pingouin's row names).
ICC_FORMS = {"ICC2": "ICC(A,1): two-way random, absolute agreement, single rater",
             "ICC3": "ICC(C,1): two-way mixed, consistency, single rater"}
#: What the keep rule compares with the threshold.
KEEP_ON = ("ci_low", "icc")
#: Sources of the robustness filter (``radiomics.robustness.source``).
SOURCES = ("perturbation", "readers", "both")
#: Columns of the ICC table before the descriptive ones.
ICC_COLUMNS = ["feature", "icc", "ci_low", "ci_high", "kept"]


def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def patient_rng(seed: int, patient_id: str) -> np.random.Generator:
    """Random generator of one patient's perturbations, from the config seed and the id only
    (so the perturbations do not depend on sharding or on the order of the cohort)."""
    digest = int(hashlib.sha256(str(patient_id).encode()).hexdigest()[:16], 16)
    return np.random.default_rng([int(seed), digest])


def perturbed_pairs(image: sitk.Image, mask: sitk.Image, n: int,
                    rng: np.random.Generator | int | None,
                    settings: PerturbationSettings | None = None) -> list[tuple]:
    """``n`` perturbed (image, mask) pairs of one patient, with each perturbation's record.

    Parameters
    ----------
    image, mask
        The patient's grey-level image and lesion mask (same grid).
    n
        Number of perturbations, >= 1.
    rng
        Random generator or seed (:func:`patient_rng` in the workflow): draws the amounts
        (:meth:`PerturbationSettings.draw`), then each perturbation's noise and contour field.
    settings
        Ranges of the chain (default :class:`PerturbationSettings`).

    Returns
    -------
    list[(SimpleITK.Image, SimpleITK.Image, dict)]
        Perturbed image, perturbed mask (uint8 0/1) and a record: the amounts
        (:meth:`Perturbation.as_row`) plus ``dice``, ``area_change``, ``pixels``.

    Raises
    ------
    ValueError
        A perturbation leaves fewer than 2 lesion pixels.
    """
    rng = _as_rng(rng)
    settings = settings or PerturbationSettings()
    out = []
    for i, p in enumerate(settings.draw(n, rng), start=1):
        try:
            im, m, info = apply_perturbation(image, mask, p, rng)
        except ValueError as err:
            raise ValueError(f"perturbation {i}: {err}") from err
        out.append((im, m, {**p.as_row(), **info}))
    return out


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
                      patient_id: str | None = None,
                      settings: PerturbationSettings | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features of the original and perturbed images and masks of one patient.

    Rater 0 is the original image and mask (prepared once, as in the main extraction); each
    perturbation (:func:`perturbed_pairs`) is prepared once (normalised, resampled, filtered)
    and its lesion and rings, recomputed from the perturbed mask, are measured on it.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The long features table: ``patient_id``, ``rater`` (0 = original, 1..n perturbed),
        then the features (named as in radiomics.parquet), sorted; and the perturbations
        table: ``patient_id``, ``perturbation`` (= rater), the amounts, ``dice``,
        ``area_change``, ``pixels``.

    Raises
    ------
    ExtractionError
        Naming the patient, the rater and the reason.
    """
    pid = str(patient_id) if patient_id is not None else str(image_path)
    rater = 0
    try:
        image, mask, _ = extractor.load_patient(image_path, mask_path, spacing_mm)
        pairs = [(image, mask, None)] + perturbed_pairs(image, mask, n_perturbations, rng,
                                                        settings)
        rows, records = [], []
        for rater, (im, m, record) in enumerate(pairs):
            regions = region_masks(m, extractor.peritumoral_mm)
            rows.append(((pid, rater), extractor.measure_regions(extractor.prepare(im), regions)))
            if record is not None:
                records.append({"patient_id": pid, "perturbation": rater, **record})
    except Exception as err:  # noqa: BLE001 - re-raised naming the patient
        raise ExtractionError(f"patient {pid}: robustness extraction failed (rater {rater}): "
                              f"{err}") from err
    return features_frame(rows, ("patient_id", "rater")), pd.DataFrame(records)


def extract_perturbed_cohort(extractor: RadiomicsExtractor, cohort: pd.DataFrame,
                             n_perturbations: int, seed: int,
                             progress_logger: logging.Logger | None = None,
                             settings: PerturbationSettings | None = None
                             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`extract_perturbed` for every row of ``cohort`` (``patient_id``, ``image``,
    ``mask``, optional ``pixel_spacing_mm``), each patient seeded by :func:`patient_rng`.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The long features table and the perturbations table of all patients.
    """
    log = progress_logger or logger
    frames, records = [], []
    for i, row in enumerate(cohort.itertuples(index=False), start=1):
        t0 = time.perf_counter()
        pid = str(row.patient_id)
        long_df, rec = extract_perturbed(extractor, row.image, row.mask, row_spacing(row),
                                         n_perturbations, patient_rng(seed, pid), patient_id=pid,
                                         settings=settings)
        frames.append(long_df)
        records.append(rec)
        log.info("%d/%d %s %.2f s (%d images, Dice %s)", i, len(cohort), pid,
                 time.perf_counter() - t0, n_perturbations + 1,
                 " ".join(f"{d:.3f}" for d in rec["dice"]))
    if not frames:
        return (pd.DataFrame(columns=["patient_id", "rater"]),
                pd.DataFrame(columns=PERTURBATION_COLUMNS))
    return pd.concat(frames, ignore_index=True), pd.concat(records, ignore_index=True)


#: Columns of ``results/features/perturbations.csv``.
PERTURBATION_COLUMNS = ["patient_id", "perturbation", "rotation_deg", "translation_x_mm",
                        "translation_y_mm", "volume", "contour_sd_mm", "contour_smoothing_mm",
                        "noise_sd", "dice", "area_change", "pixels"]


def extract_readers(extractor: RadiomicsExtractor, cohort: pd.DataFrame,
                    progress_logger: logging.Logger | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features of every patient's lesion on the first and the second reader's mask.

    Parameters
    ----------
    cohort
        Rows with ``patient_id``, ``image``, ``mask``, ``mask_reader2`` (absolute paths),
        optional ``pixel_spacing_mm``.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Long features table (``patient_id``, ``rater``: 0 = ``mask``, 1 = ``mask_reader2``,
        features) and ``patient_id, dice`` of the two readers' masks.

    Raises
    ------
    ExtractionError
        Naming the patient and the reason.
    """
    log = progress_logger or logger
    rows, records = [], []
    for i, row in enumerate(cohort.itertuples(index=False), start=1):
        t0 = time.perf_counter()
        pid = str(row.patient_id)
        try:
            image, mask, _ = extractor.load_patient(row.image, row.mask, row_spacing(row))
            second = read_mask(row.mask_reader2, image, image_path=row.image,
                               components=extractor.components)
            prepared = extractor.prepare(image)
            for rater, m in enumerate((mask, second)):
                rows.append(((pid, rater), extractor.measure_regions(
                    prepared, region_masks(m, extractor.peritumoral_mm))))
        except Exception as err:  # noqa: BLE001 - re-raised naming the patient
            raise ExtractionError(f"patient {pid}: second-reader extraction failed: {err}") from err
        records.append({"patient_id": pid, "dice": dice(mask, second)})
        log.info("%d/%d %s %.2f s (readers' Dice %.3f)", i, len(cohort), pid,
                 time.perf_counter() - t0, records[-1]["dice"])
    return (features_frame(rows, ("patient_id", "rater")),
            pd.DataFrame(records, columns=["patient_id", "dice"]))


def icc_table(long_df: pd.DataFrame, icc: str = "ICC2", threshold: float = 0.75,
              keep_on: str = "ci_low", confidence: float = 0.95) -> pd.DataFrame:
    """ICC of every feature across raters, and whether it passes ``threshold``.

    A pure function of the long table: call it on any subset of patients (e.g. the
    training patients of one cross-validation fold).

    Parameters
    ----------
    long_df
        ``patient_id``, ``rater`` and one column per feature, one row per patient x rater
        (perturbation or reader); every patient must have every rater (complete design).
    icc
        ``"ICC2"``: ICC(2,1), two-way random effects, absolute agreement, single rater
        (McGraw & Wong ICC(A,1); a systematic shift between raters, such as a grown or shrunk
        mask, lowers it). ``"ICC3"``: ICC(3,1), two-way mixed, consistency (ICC(C,1); blind
        to such shifts).
    threshold
        A feature is kept when its ``keep_on`` statistic is ``>= threshold``.
    keep_on
        ``"ci_low"``: the lower bound of the confidence interval (the feature is reliable
        with 97.5 % confidence); ``"icc"``: the point estimate.
    confidence
        Level of the F-based confidence interval (McGraw & Wong 1996, as pingouin).

    Returns
    -------
    pandas.DataFrame
        ``feature, icc, ci_low, ci_high, kept, n_patients, n_raters``, one row per feature
        in column order. A feature constant over all patients and raters has no
        between-patient variance: its ICC is undefined (NaN) and it is not kept. A feature
        identical across raters has ICC 1 and CI [1, 1].

    Raises
    ------
    ValueError
        Unknown ``icc`` or ``keep_on``, missing columns, an incomplete patient x rater
        design, fewer than 2 patients or raters, or non-finite feature values.
    """
    if icc not in ICC_FORMS:
        raise ValueError(f"icc={icc!r} is unknown; use one of {sorted(ICC_FORMS)}")
    if keep_on not in KEEP_ON:
        raise ValueError(f"keep_on={keep_on!r} is unknown; use one of {list(KEEP_ON)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must be in (0, 1), e.g. 0.95")
    n, k, features, values = _checked_design(long_df)
    point, low, high = icc_from_array(values.reshape(n, k, len(features)), icc, confidence)
    out = pd.DataFrame({"feature": features, "icc": point, "ci_low": low, "ci_high": high})
    out["kept"] = (out[keep_on] >= threshold).fillna(False).astype(bool)
    out["n_patients"], out["n_raters"] = n, k
    return out


def icc_from_array(x: np.ndarray, icc: str = "ICC2",
                   confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Single-rater ICC and its F-based confidence interval, for many features at once.

    Two-way ANOVA mean squares of an ``(n targets, k raters, features)`` array: between
    targets ``MSR``, between raters ``MSC``, residual ``MSE``. ICC(3,1) =
    ``(MSR - MSE) / (MSR + (k-1) MSE)``; ICC(2,1) = ``(MSR - MSE) / (MSR + (k-1) MSE +
    k (MSC - MSE) / n)`` (Shrout & Fleiss 1979; McGraw & Wong 1996, whose intervals are
    used: for ICC(2,1) with Satterthwaite's degrees of freedom), the formulas pingouin's
    ``intraclass_corr`` uses, without its rounding.

    Returns
    -------
    (icc, ci_low, ci_high)
        Arrays of length ``features``; NaN where a feature is constant; ``(1, 1, 1)`` where
        the raters agree exactly.
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape[:2]
    alpha = 1 - confidence
    grand = x.mean(axis=(0, 1))
    ssr = k * ((x.mean(axis=1) - grand) ** 2).sum(axis=0)
    ssc = n * ((x.mean(axis=0) - grand) ** 2).sum(axis=0)
    sst = ((x - grand) ** 2).sum(axis=(0, 1))
    sse = np.maximum(sst - ssr - ssc, 0.0)
    df_r, df_c, df_e = n - 1, k - 1, (n - 1) * (k - 1)
    msr, msc, mse = ssr / df_r, ssc / df_c, sse / df_e
    constant = np.ptp(x.reshape(n * k, -1), axis=0) == 0
    exact = ~constant & (sse <= 1e-12 * np.maximum(sst, np.finfo(float).tiny))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if icc == "ICC3":
            point = (msr - mse) / (msr + (k - 1) * mse)
            f_obs = msr / mse
            f_low = f_obs / stats.f.ppf(1 - alpha / 2, df_r, df_e)
            f_up = f_obs * stats.f.ppf(1 - alpha / 2, df_e, df_r)
            low, high = (f_low - 1) / (f_low + k - 1), (f_up - 1) / (f_up + k - 1)
        elif icc == "ICC2":
            point = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
            fj = msc / mse
            r = point
            vn = df_e * (k * r * fj + n * (1 + (k - 1) * r) - k * r) ** 2
            vd = df_r * k**2 * r**2 * fj**2 + (n * (1 + (k - 1) * r) - k * r) ** 2
            v = vn / vd
            f_up = stats.f.ppf(1 - alpha / 2, df_r, v)
            f_low = stats.f.ppf(1 - alpha / 2, v, df_r)
            low = n * (msr - f_up * mse) / (f_up * (k * msc + (k * n - k - n) * mse) + n * msr)
            high = n * (f_low * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_low * msr)
        else:
            raise ValueError(f"icc={icc!r} is unknown; use one of {sorted(ICC_FORMS)}")
    point, low, high = (np.array(v, dtype=float) for v in (point, low, high))
    agree = exact & (np.abs(point - 1) < 1e-9)
    point[agree], low[agree], high[agree] = 1.0, 1.0, 1.0
    point[constant], low[constant], high[constant] = np.nan, np.nan, np.nan
    return point, low, high


def _checked_design(long_df: pd.DataFrame) -> tuple[int, int, list[str], np.ndarray]:
    """Patients, raters, feature names and their values (rows sorted by patient then
    rater), after checking the design :func:`icc_table` needs (see its Raises)."""
    for col in ("patient_id", "rater"):
        if col not in long_df.columns:
            raise ValueError(f"robustness table lacks column {col!r}; pass the merged "
                             "robustness shards")
    df = long_df.assign(patient_id=long_df["patient_id"].astype(str)).sort_values(
        ["patient_id", "rater"], kind="stable").reset_index(drop=True)
    counts = df.groupby("patient_id")["rater"].nunique()
    n_raters = df["rater"].nunique()
    if (counts != n_raters).any() or df.duplicated(["patient_id", "rater"]).any():
        bad = counts.index[counts != n_raters].tolist()[:5]
        raise ValueError(f"incomplete design: patients {bad} lack some of the {n_raters} raters "
                         "(or repeat one); rerun the robustness extraction")
    if len(counts) < 2 or n_raters < 2:
        raise ValueError(f"ICC needs >= 2 patients and >= 2 raters, got {len(counts)} and "
                         f"{n_raters}; raise radiomics.robustness.fraction (perturbations) or "
                         "give more training patients a mask_reader2 (readers)")
    features = [c for c in df.columns if c not in ("patient_id", "rater")]
    values = df[features].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        bad = [f for f, ok in zip(features, np.isfinite(values).all(axis=0)) if not ok][:5]
        raise ValueError(f"non-finite values in features {bad}; the extraction should have "
                         "raised, rerun it")
    return len(counts), int(n_raters), features, values


def feature_parts(feature: str) -> dict[str, str]:
    """Region, image type and feature class of a feature name
    (``peri3mm_wavelet-LH_glcm_Contrast`` -> ``peri3mm``, ``wavelet-LH``, ``glcm``)."""
    parts = str(feature).split("_")
    if len(parts) < 4:
        return {"region": "", "image_type": "", "feature_class": ""}
    return {"region": parts[0], "image_type": parts[1], "feature_class": parts[2]}


def combine_icc(perturbation: pd.DataFrame | None, readers: pd.DataFrame | None,
                source: str = "perturbation") -> pd.DataFrame:
    """The ICC table of ``radiomics.robustness.source``.

    Parameters
    ----------
    perturbation, readers
        :func:`icc_table` of the perturbations and of the two readers (None when not run).
    source
        ``"perturbation"`` or ``"readers"``: that table; ``"both"``: a feature is kept when
        it passes both (``icc, ci_low, ci_high`` are the perturbation's, the readers' are in
        ``reader_icc, reader_ci_low, reader_ci_high``; ``kept_perturbation`` and
        ``kept_readers`` say which test it passed).

    Returns
    -------
    pandas.DataFrame
        ``feature, icc, ci_low, ci_high, kept``, then ``region, image_type, feature_class,
        n_patients, n_raters`` (and the readers' columns for ``both``).

    Raises
    ------
    ValueError
        Unknown ``source``, a table the source needs is missing, or the two tables do not
        hold the same features.
    """
    if source not in SOURCES:
        raise ValueError(f"robustness source {source!r} is unknown; use one of {list(SOURCES)}")
    need = {"perturbation": [("perturbation", perturbation)], "readers": [("readers", readers)],
            "both": [("perturbation", perturbation), ("readers", readers)]}[source]
    missing = [name for name, table in need if table is None]
    if missing:
        raise ValueError(f"robustness source {source!r} needs the {missing} ICC table(s)")
    base = readers if source == "readers" else perturbation
    out = base.copy()
    if source == "both":
        if list(readers["feature"]) != list(perturbation["feature"]):
            diff = sorted(set(readers["feature"]) ^ set(perturbation["feature"]))[:5]
            raise ValueError(f"reader and perturbation ICC tables hold different features "
                             f"(e.g. {diff}); rerun both robustness extractions")
        out["kept_perturbation"] = perturbation["kept"].to_numpy()
        out["kept_readers"] = readers["kept"].to_numpy()
        for col in ("icc", "ci_low", "ci_high"):
            out[f"reader_{col}"] = readers[col].to_numpy()
        out["reader_n_patients"] = readers["n_patients"].to_numpy()
        out["kept"] = out["kept_perturbation"] & out["kept_readers"]
    parts = pd.DataFrame([feature_parts(f) for f in out["feature"]], index=out.index)
    rest = [c for c in out.columns if c not in ICC_COLUMNS]
    return pd.concat([out[ICC_COLUMNS], parts, out[rest]], axis=1)


def kept_by_image_type(table: pd.DataFrame) -> pd.DataFrame:
    """Features measured and kept per image type (and in total): ``image_type, n_features,
    kept, kept_fraction``, for the log, the summary and the closing note."""
    df = table.assign(image_type=[feature_parts(f)["image_type"] for f in table["feature"]])
    out = df.groupby("image_type", sort=True)["kept"].agg(n_features="size", kept="sum")
    out.loc["all"] = [len(df), int(df["kept"].sum())]
    out = out.reset_index()
    out["kept_fraction"] = out["kept"] / out["n_features"]
    return out


def robustness_settings(section: dict | None) -> dict:
    """The keys of ``radiomics.robustness`` the extraction reads, over the schema's defaults:
    ``fraction, n_perturbations, seed`` and ``perturbation`` (a
    :class:`PerturbationSettings`' keyword arguments)."""
    from alnburden.schemas import CONFIG_SCHEMA, load_schema

    props = (load_schema(CONFIG_SCHEMA)["properties"]["radiomics"]["properties"]
             ["robustness"]["properties"])
    given = dict(section or {})
    out = {key: given.get(key, props[key]["default"])
           for key in ("fraction", "n_perturbations", "seed")}
    pert = props["perturbation"]["properties"]
    out["perturbation"] = {key: spec["default"] for key, spec in pert.items()}
    out["perturbation"].update(given.get("perturbation") or {})
    return out


def check_source(source: str, manifest_columns: Sequence[str] | None) -> None:
    """Refuse a robustness source that needs a second reader when the manifest has none.

    Parameters
    ----------
    source
        ``radiomics.robustness.source``.
    manifest_columns
        The manifest's header (None for the in-silico cohort, which has no second reader).

    Raises
    ------
    ValueError
        ``source`` is ``readers`` or ``both`` and the manifest has no ``mask_reader2``.
    """
    if source not in SOURCES:
        raise ValueError(f"radiomics.robustness.source {source!r} is unknown; use one of "
                         f"{list(SOURCES)}")
    if source != "perturbation" and "mask_reader2" not in (manifest_columns or ()):
        what = "the in-silico cohort" if manifest_columns is None else "the manifest"
        raise ValueError(f"radiomics.robustness.source is {source!r} but {what} has no "
                         "mask_reader2 column (a second reader's lesion masks); add the column "
                         "for the patients a second reader segmented, or set "
                         "radiomics.robustness.source: perturbation")


def _training_ids(split: pd.DataFrame) -> pd.Series:
    return split.loc[split["set"] == "train", "patient_id"].astype(str)


def extract_robustness_shard(cohort: pd.DataFrame, split: pd.DataFrame, shard: int, n_shards: int,
                             params_path, out_path, perturbations_path, peritumoral_mm=(3,),
                             components: str = "keep_all", fraction: float = 0.25,
                             n_perturbations: int = 3, seed: int = 2026,
                             perturbation: dict | None = None,
                             progress_logger: logging.Logger | None = None,
                             fast_glcm: bool = True):
    """Perturbed-image features of this shard's share of the ICC patients, written as a
    feature file (:func:`alnburden.extraction.shards.write_features`) plus the
    perturbations table (CSV).

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
        Perturbations per patient (:func:`perturbed_pairs`).
    perturbation
        Keyword arguments of :class:`PerturbationSettings` (mm, degrees, fractions).
    out_path, perturbations_path
        Parquet written (a JSON sidecar beside it) and the perturbations CSV.

    Returns
    -------
    Path
        The sidecar JSON path.
    """
    settings = PerturbationSettings(**(perturbation or {}))
    chosen = set(select_patients(_training_ids(split), fraction, seed))
    rows = shard_rows(cohort[cohort["patient_id"].astype(str).isin(chosen)], shard, n_shards)
    extractor = RadiomicsExtractor(params_path, peritumoral_mm=peritumoral_mm,
                                   components=components, fast_glcm=fast_glcm)
    (progress_logger or logger).info("robustness shard %s/%s: %d patients x %d perturbations "
                                     "(%s)", shard, n_shards, len(rows), n_perturbations, settings)
    long_df, records = extract_perturbed_cohort(extractor, rows, n_perturbations, seed,
                                                progress_logger, settings)
    records.reindex(columns=PERTURBATION_COLUMNS).to_csv(
        perturbations_path, index=False, float_format="%.6g", lineterminator="\n")
    return write_features(long_df, out_path, {**extractor.feature_metadata(),
                                              "perturbation": asdict(settings),
                                              "n_perturbations": int(n_perturbations)})


def extract_readers_shard(cohort: pd.DataFrame, split: pd.DataFrame, shard: int, n_shards: int,
                          params_path, out_path, dice_path, peritumoral_mm=(3,),
                          components: str = "keep_all",
                          progress_logger: logging.Logger | None = None,
                          fast_glcm: bool = True):
    """Both readers' features of this shard's share of the TRAINING patients that have a
    ``mask_reader2`` (:func:`extract_readers`); writes the feature file and the readers'
    Dice (CSV). A cohort without the column gives an empty shard.

    Returns
    -------
    Path
        The sidecar JSON path.
    """
    train = set(_training_ids(split))
    has = cohort["patient_id"].astype(str).isin(train)
    if "mask_reader2" in cohort.columns:
        has &= cohort["mask_reader2"].notna() & (cohort["mask_reader2"].astype(str) != "")
    else:
        has &= False
    rows = shard_rows(cohort[has], shard, n_shards)
    extractor = RadiomicsExtractor(params_path, peritumoral_mm=peritumoral_mm,
                                   components=components, fast_glcm=fast_glcm)
    (progress_logger or logger).info("readers shard %s/%s: %d training patients with a second "
                                     "reader", shard, n_shards, len(rows))
    long_df, records = extract_readers(extractor, rows, progress_logger)
    records.to_csv(dice_path, index=False, float_format="%.6g", lineterminator="\n")
    return write_features(long_df, out_path, extractor.feature_metadata())


def _merged_long(paths, what: str) -> pd.DataFrame:
    from alnburden.extraction.shards import merge_shards

    try:
        return merge_shards(paths)
    except ValueError as err:
        if "are empty" in str(err):
            raise ValueError(f"no training patient has {what}: {err}; " + (
                "give training patients a mask_reader2 or set radiomics.robustness.source: "
                "perturbation" if what == "a second reader's mask" else
                "raise radiomics.robustness.fraction")) from None
        raise


def _concat_csv(paths, sort: list[str]) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype={"patient_id": str}) for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=sort)
    return pd.concat(frames, ignore_index=True).sort_values(sort, kind="stable").reset_index(
        drop=True)


def robustness_icc(inputs: dict, outputs: dict, source: str = "perturbation",
                   icc: str = "ICC2", keep_on: str = "ci_low", threshold: float = 0.75,
                   progress_logger: logging.Logger | None = None) -> pd.DataFrame:
    """The ``icc`` rule: merge the robustness shards, compute and combine the ICC tables.

    Parameters
    ----------
    inputs
        ``perturbation`` (feature shards) and ``perturbations`` (their CSVs) when the source
        uses perturbations; ``readers`` and ``reader_dice`` when it uses readers.
    outputs
        ``icc`` (``results/features/icc.csv``), and per source the merged long table
        (``perturbation`` / ``readers``, parquet: what a cross-validation fold's
        :func:`icc_table` reads) and the Dice tables (``perturbations``: per patient x
        perturbation the amounts and the Dice; ``reader_dice``).
    source, icc, keep_on, threshold
        ``radiomics.robustness`` (:func:`icc_table`, :func:`combine_icc`).

    Returns
    -------
    pandas.DataFrame
        The ICC table written to ``outputs["icc"]``.
    """
    from alnburden.extraction.shards import write_features
    from alnburden.io import write_table

    log = progress_logger or logger
    tables: dict[str, pd.DataFrame | None] = {"perturbation": None, "readers": None}
    for key, what, dice_key, sort in (
            ("perturbation", "perturbed images", "perturbations", ["patient_id", "perturbation"]),
            ("readers", "a second reader's mask", "reader_dice", ["patient_id"])):
        if key not in inputs:
            continue
        long_df = _merged_long(inputs[key], what)
        write_features(long_df, outputs[key], long_df.attrs.get("alnburden", {}))
        tables[key] = icc_table(long_df, icc=icc, threshold=threshold, keep_on=keep_on)
        dice_table = _concat_csv(inputs[dice_key], sort)
        title = ("Perturbations of the robustness ICC (amounts, Dice with the original mask)"
                 if key == "perturbation" else "Second reader's masks (Dice with the first)")
        write_table(dice_table, outputs[dice_key], title=title)
        q = np.percentile(dice_table["dice"], [5, 50, 95]) if len(dice_table) else [np.nan] * 3
        log.info("%s: %d patients x %d raters; Dice median %.3f (5th-95th percentile "
                 "%.3f-%.3f)", key, long_df["patient_id"].nunique(), long_df["rater"].nunique(),
                 q[1], q[0], q[2])
        old = icc_table(long_df, icc="ICC3", threshold=threshold, keep_on="icc")
        log.info("%s: %s %s >= %s keeps %d of %d features (ICC(3,1) point estimate would keep "
                 "%d)", key, icc, keep_on, threshold, int(tables[key]["kept"].sum()),
                 len(tables[key]), int(old["kept"].sum()))
    table = combine_icc(tables["perturbation"], tables["readers"], source)
    if not table["kept"].any():
        n = int(table["n_patients"].iloc[0]) if len(table) else 0
        raise ValueError(f"no feature passes the robustness filter ({icc}, {keep_on} >= "
                         f"{threshold}, source {source}, {n} patients); with few patients the "
                         "CI is wide: raise radiomics.robustness.fraction, or set keep_on: icc "
                         "or a lower threshold")
    write_table(table, outputs["icc"], title="Feature robustness (ICC)")
    for r in kept_by_image_type(table).itertuples():
        log.info("kept %s: %d of %d", r.image_type, r.kept, r.n_features)
    return table


def robustness_summary_lines(icc: pd.DataFrame,
                             perturbations: pd.DataFrame | None = None) -> list[str]:
    """Markdown lines of the summary's robustness paragraph: features kept per image type
    and the Dice of the perturbed masks."""
    counts = kept_by_image_type(icc)
    total = counts[counts["image_type"] == "all"].iloc[0]
    per_type = ", ".join(f"{r.image_type} {r.kept}/{r.n_features}"
                         for r in counts.itertuples() if r.image_type != "all")
    lines = [f"Feature robustness: {int(total.kept)} of {int(total.n_features)} "
             f"features kept ({per_type})."]
    if perturbations is not None and len(perturbations):
        q = np.percentile(perturbations["dice"], [5, 50, 95])
        lines.append(f"Perturbed masks: Dice with the original median {q[1]:.3f} (5th-95th "
                     f"percentile {q[0]:.3f}-{q[2]:.3f}) over {len(perturbations)} "
                     "perturbations.")
    return lines


def features_summary_lines(icc: pd.DataFrame, discretisation: pd.DataFrame | None = None,
                           perturbations: pd.DataFrame | None = None) -> list[str]:
    """Markdown lines of the summary's radiomic-features section (its heading first):
    features kept by the robustness filter per image type, the perturbed masks' Dice and the
    grey levels per image type (with a warning line for any image type below 16 levels)."""
    from alnburden.extraction.discretisation import discretisation_summary_lines

    lines = robustness_summary_lines(icc, perturbations)
    if discretisation is not None and len(discretisation):
        lines += discretisation_summary_lines(discretisation)
    return ["## Radiomic features", "", *lines, ""] if lines else []
