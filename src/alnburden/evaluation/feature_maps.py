"""Voxel-based maps of the radiomic features the model leans on most.

For the top features of a level (largest mean |SHAP|, :mod:`alnburden.evaluation.explain`;
shape and first-order features have no voxel map here and are passed over), pyradiomics computes each feature
in a small kernel around every pixel (``voxelBased=True``, ``kernelRadius`` resampled
pixels, ``maskedKernel``: only pixels of the region enter a kernel) over the lesion and its
peritumoral ring, on the study's own settings (``config/radiomics.yaml``: normalisation,
resampling, bin widths, the filter of the feature's image type), with only the feature's
image type and class enabled. The map is resampled back onto the image's grid (nearest
neighbour, NaN outside the region) so it can be drawn over the image.

Voxel-based pyradiomics is slow (one texture matrix per pixel), so only a few patients
(lowest and highest predicted radiomics risk of the test set) and two or three features
are mapped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from alnburden.evaluation.explain import readable_feature_name

logger = logging.getLogger(__name__)

__all__ = ["MapFeature", "parse_feature", "map_features", "example_patients",
           "feature_map", "patient_maps", "level_feature_maps"]

#: pyradiomics image type of each prefix of a feature's image-type part.
_IMAGE_TYPES = {"original": "Original", "log": "LoG", "wavelet": "Wavelet",
                "square": "Square", "squareroot": "SquareRoot", "logarithm": "Logarithm",
                "exponential": "Exponential", "gradient": "Gradient", "lbp": "LBP2D"}
#: Classes without a voxel map: shape describes the whole region, and pyradiomics 3.1.4's
#: voxel-based first-order class fails on 2-D images (it appends a 3-D centre offset to
#: its 2-D kernel offsets).
_NO_VOXEL_MAP = ("shape2D", "shape", "firstorder")


@dataclass(frozen=True)
class MapFeature:
    """A radiomic feature column split into what pyradiomics needs to map it."""

    column: str
    region: str
    image_type: str       # pyradiomics output prefix, e.g. wavelet-HL, log-sigma-1-0-mm-3D
    pyradiomics_type: str  # enableImageTypeByName name, e.g. Wavelet, LoG
    feature_class: str
    feature: str

    @property
    def key(self) -> str:
        """The name pyradiomics gives the feature map (without region)."""
        return f"{self.image_type}_{self.feature_class}_{self.feature}"

    @property
    def label(self) -> str:
        return readable_feature_name(self.column)

    @property
    def has_voxel_map(self) -> bool:
        return self.feature_class not in _NO_VOXEL_MAP


def parse_feature(column: str) -> MapFeature:
    """``peri3mm_wavelet-HL_glcm_Contrast`` -> its region, image type, class and feature.

    Raises
    ------
    ValueError
        A name that is not ``<region>_<image type>_<class>_<feature>``, or an image type
        pyradiomics does not have.
    """
    parts = str(column).split("_")
    if len(parts) < 4:
        raise ValueError(f"feature {column!r} is not <region>_<image type>_<class>_<feature>")
    image_type = "_".join(parts[1:-2])
    prefix = image_type.split("-")[0].lower()
    if prefix not in _IMAGE_TYPES:
        raise ValueError(f"feature {column!r}: unknown image type {image_type!r}; known: "
                         f"{sorted(_IMAGE_TYPES)}")
    return MapFeature(column, parts[0], image_type, _IMAGE_TYPES[prefix], parts[-2], parts[-1])


def map_features(shap_table: pd.DataFrame, n: int = 3) -> list[MapFeature]:
    """The ``n`` features of largest mean |SHAP| that have a voxel map (texture classes)."""
    out = []
    for column in shap_table.sort_values("rank")["feature"]:
        f = parse_feature(column)
        if f.has_voxel_map:
            out.append(f)
        if len(out) == n:
            break
    return out


def example_patients(pred: pd.DataFrame, level: str, n: int = 4) -> pd.DataFrame:
    """Test patients of lowest and highest predicted radiomics risk (``n // 2`` each).

    Returns
    -------
    pandas.DataFrame
        ``patient_id, p, y_true, group`` (``low`` then ``high``), lowest risk first.
    """
    rows = pred[(pred["level"] == level) & (pred["set"] == "test")
                & (pred["model"] == "radiomics")].sort_values(["p", "patient_id"])
    if len(rows) < 2:
        raise ValueError(f"{level}: the test set has {len(rows)} radiomics prediction(s); "
                         "feature maps need at least 2")
    k = max(1, min(int(n) // 2, len(rows) // 2))
    low, high = rows.head(k).assign(group="low"), rows.tail(k).assign(group="high")
    return pd.concat([low, high])[["patient_id", "p", "y_true", "group"]].reset_index(drop=True)


def _mapping_extractor(params_path: str | Path, feature: MapFeature, kernel_radius: int,
                       masked_kernel: bool = True):
    """The study's pyradiomics extractor with only ``feature``'s image type and class on."""
    from alnburden.extraction.extractor import build_pyradiomics_extractor

    ex = build_pyradiomics_extractor(params_path)
    custom = dict(ex.enabledImagetypes.get(feature.pyradiomics_type) or {})
    if feature.pyradiomics_type == "LoG":  # one sigma: log-sigma-1-0-mm-3D -> 1.0
        custom["sigma"] = [float(feature.image_type.split("-")[2] + "."
                                 + feature.image_type.split("-")[3])]
    ex.disableAllImageTypes()
    ex.enableImageTypeByName(feature.pyradiomics_type, customArgs=custom)
    ex.disableAllFeatures()
    ex.enableFeaturesByName(**{feature.feature_class: [feature.feature]})
    ex.settings.update(kernelRadius=int(kernel_radius), maskedKernel=bool(masked_kernel),
                       initValue=np.nan, voxelBatch=1000)
    return ex


def feature_map(image: sitk.Image, region: sitk.Image, feature: MapFeature,
                params_path: str | Path, kernel_radius: int = 2, stride: int = 1) -> np.ndarray:
    """Voxel-based map of ``feature`` over ``region``, on ``image``'s grid (NaN outside).

    Parameters
    ----------
    image
        The patient's image (as :func:`alnburden.io.images.read_pair` reads it).
    region
        Mask of the pixels to map (1 inside), on the image's grid.
    feature
        The feature (:func:`parse_feature`).
    params_path
        The study's pyradiomics params file.
    kernel_radius
        Kernel radius in pixels of the resampled grid.
    stride
        Compute the feature at every ``stride``-th pixel of the image grid in each direction
        (``stride**2`` times fewer texture matrices) and give every other pixel of the region
        the value of the nearest computed pixel. With ``stride > 1`` a kernel holds every
        pixel around its centre (pyradiomics ``maskedKernel: false``), so each computed
        value is the one a full map would have there without the region restriction;
        with 1 only the region's pixels enter a kernel.

    Returns
    -------
    numpy.ndarray
        2-D float array of the image's shape.
    """
    from scipy import ndimage

    stride = max(1, int(stride))
    ex = _mapping_extractor(params_path, feature, kernel_radius, masked_kernel=stride == 1)
    grid_image, compute = _on_texture_grid(ex, image, region)
    if stride > 1:
        full = sitk.GetArrayFromImage(compute)
        sub = np.zeros_like(full)
        sub[..., ::stride, ::stride] = full[..., ::stride, ::stride]
        strided = sitk.GetImageFromArray(sub)
        strided.CopyInformation(compute)
        compute = strided
    result = ex.execute(grid_image, compute, voxelBased=True)
    if feature.key not in result:
        raise ValueError(f"pyradiomics gave no map {feature.key!r} (it gave "
                         f"{sorted(k for k in result if not k.startswith('diagnostics'))})")
    fmap = sitk.Cast(result[feature.key], sitk.sitkFloat64)
    back = sitk.Resample(fmap, image, sitk.Transform(), sitk.sitkNearestNeighbor, np.nan,
                         sitk.sitkFloat64)
    arr = sitk.GetArrayFromImage(back).astype(float)
    inside = sitk.GetArrayFromImage(region) > 0
    known = np.isfinite(arr) & inside
    if known.any() and not known[inside].all():  # nearest computed pixel of the region
        _, idx = ndimage.distance_transform_edt(~known, return_indices=True)
        arr = arr[tuple(idx)]
    arr[~inside] = np.nan
    return arr.reshape(sitk.GetArrayFromImage(image).shape)


def _on_texture_grid(ex, image: sitk.Image, region: sitk.Image
                     ) -> tuple[sitk.Image, sitk.Image]:
    """``image`` and ``region`` on the grid pyradiomics computes the texture on.

    pyradiomics normalises and resamples (``resampledPixelSpacing``) inside ``execute``;
    here the same two steps (its own functions, the extractor's settings) run first and are
    switched off in ``ex``, so that a stride picks pixels of the grid the kernels are
    centred on. (On an image finer than that grid, e.g. a 0.1 mm export resampled to 0.2 mm,
    a stride taken on the image's own grid can miss every pixel of the resampled mask:
    pyradiomics then stops with "Label (1) not present in mask".)
    """
    from radiomics import imageoperations

    settings = ex.settings
    if not settings.get("resampledPixelSpacing"):
        return image, region
    if settings.get("normalize"):
        image = imageoperations.normalizeImage(image, **settings)
        settings["normalize"] = False
    image, region = imageoperations.resampleImage(image, region, **settings)
    settings["resampledPixelSpacing"] = None
    return image, region


def patient_maps(image_path, mask_path, spacing_mm, features: Sequence[MapFeature],
                 params_path: str | Path, peritumoral_mm: Sequence[float] = (3,),
                 kernel_radius: int = 2, stride: int = 1) -> dict:
    """One patient's image, lesion and ring masks and the maps of ``features``.

    Each feature is mapped over the lesion and ring together (the union of the lesion and
    every ring of ``peritumoral_mm``), so the map shows the margin the ring measures.

    Returns
    -------
    dict
        ``image`` (2-D array), ``lesion``, ``ring`` (bool arrays), ``maps`` (column ->
        2-D array), ``seconds`` (column -> time of the map).
    """
    from alnburden.extraction.regions import region_masks
    from alnburden.io.images import read_pair

    image, mask = read_pair(image_path, mask_path, spacing_mm)
    regions = region_masks(mask, peritumoral_mm)
    lesion = sitk.GetArrayFromImage(mask) > 0
    ring = np.zeros_like(lesion)
    for name, m in regions.items():
        if name != "intra":
            ring |= sitk.GetArrayFromImage(m) > 0
    union = sitk.GetImageFromArray((lesion | ring).astype(np.uint8))
    union.CopyInformation(mask)
    maps, seconds = {}, {}
    for f in features:
        t0 = time.perf_counter()
        maps[f.column] = feature_map(image, union, f, params_path, kernel_radius, stride)
        seconds[f.column] = time.perf_counter() - t0
    return {"image": sitk.GetArrayFromImage(image).astype(float), "lesion": lesion,
            "ring": ring, "maps": maps, "seconds": seconds}


def level_feature_maps(shap_table: pd.DataFrame, pred: pd.DataFrame, cohort: pd.DataFrame,
                       level: str, params_path: str | Path, *, n_features: int = 3,
                       n_patients: int = 4, kernel_radius: int = 2, stride: int = 1,
                       peritumoral_mm: Sequence[float] = (3,)) -> dict:
    """The feature maps of one level's figure: features x example patients.

    Parameters
    ----------
    shap_table
        ``results/tables/<level>_shap.csv``.
    pred
        ``results/predictions.csv`` (the test patients' radiomics risk).
    cohort
        ``results/cohort/cohort.csv`` (``image``, ``mask``, ``pixel_spacing_mm``).
    level
        Level name.
    params_path
        The study's pyradiomics params file.
    n_features, n_patients, kernel_radius, stride, peritumoral_mm
        Features mapped, example patients, kernel radius (resampled pixels), computed
        pixel stride (:func:`feature_map`), ring widths.

    Returns
    -------
    dict
        ``features`` (list of :class:`MapFeature`; empty when the model uses no texture
        feature), ``patients`` (the :func:`example_patients` table), ``maps`` (patient id
        -> :func:`patient_maps`) and ``unmapped`` (the model's features without a voxel
        map).
    """
    from alnburden.io.images import row_spacing

    features = map_features(shap_table, n_features)
    unmapped = [parse_feature(c) for c in shap_table.sort_values("rank")["feature"]]
    unmapped = [f for f in unmapped if not f.has_voxel_map]
    patients = example_patients(pred, level, n_patients)
    if not features:
        logger.info("%s: the model uses no texture feature; no voxel map to compute", level)
        return {"features": [], "patients": patients, "maps": {}, "unmapped": unmapped}
    rows = cohort.assign(patient_id=cohort["patient_id"].astype(str)).set_index("patient_id")
    maps: dict[str, Mapping] = {}
    for pid in patients["patient_id"].astype(str):
        row = rows.loc[pid]
        maps[pid] = patient_maps(row["image"], row["mask"], row_spacing(row), features,
                                 params_path, peritumoral_mm, kernel_radius, stride)
        logger.info("%s: maps of %d feature(s) in %s s", pid, len(features),
                    ", ".join(f"{s:.1f}" for s in maps[pid]["seconds"].values()))
    return {"features": features, "patients": patients, "maps": maps, "unmapped": unmapped}
