"""Radiomics extraction with pyradiomics, sharing the expensive image work between regions.

Why not just call ``RadiomicsFeatureExtractor.execute`` once per region?
    ``execute(image, mask)`` normalises the whole image, resamples it (B-spline, whole-image
    coefficients), applies every filter (LoG, wavelet...) and only then measures the region.
    The lesion, its peritumoral rings and every perturbed segmentation of the robustness step
    all share the same image, so that work is repeated 2-8 times per patient.

What is shared, and why the numbers stay EXACTLY those of ``execute``
    :class:`RadiomicsExtractor` replays ``execute`` step by step with pyradiomics' own
    functions (``imageoperations.normalizeImage``, ``resampleImage``, ``checkMask``,
    ``cropToTumorMask``, ``get<ImageType>Image``, ``computeShape``, ``computeFeatures``) in
    the same order and with the same settings, and caches only what provably does not depend
    on the region:

    * the normalised image (``normalizeImage`` uses whole-image statistics);
    * the resampled image and its filtered images, per resampling *grid*. pyradiomics
      resamples onto a grid aligned with the image origin and cropped to the region's
      bounding box plus ``padDistance`` resampled pixels (clipped to the image). The
      resampled image depends only on that grid, and the filters (LoG, wavelet, square...;
      not LBP3D, which reads the mask and is therefore never cached) depend only on the
      resampled image. Two regions with the same grid thus see bit-identical filtered
      images, and the grid is obtained by running pyradiomics' own ``resampleImage`` on the
      mask alone (nearest neighbour), so it is the grid ``execute`` would use.

    Filters on the *union* bounding box are NOT equal to filters on each region's own crop:
    the LoG is a recursive (IIR) Gaussian whose response at every pixel depends on the whole
    crop and its borders, and pyradiomics' wavelet wraps the crop periodically; with the
    default ``padDistance: 5`` a ring and the lesion have different crops, and the lesion's
    features change with the crop: on three BUS-BRA lesions, padDistance 5 vs the whole
    image changed LoG features by a median 1-11 % (up to 99 %), and for a lesion near the
    image border also wavelet (up to 2x) and even original features (1e-4: the B-spline
    resampling grid moves with the crop). Sharing a union crop would therefore only
    approximate ``execute``. The study's params file instead sets
    ``padDistance`` larger than any image, so every region's grid is the whole (resampled)
    image: ``execute`` itself then filters the whole image, the filtered values inside a
    region no longer depend on the segmentation (a requirement for a meaningful
    segmentation-robustness ICC), and all regions of a patient share one grid. With a
    smaller ``padDistance`` this module is still exact; it only shares less.

Feature names: ``<region>_<pyradiomics name>``, e.g. ``intra_original_firstorder_Mean``,
``peri3mm_wavelet-LH_glcm_Contrast``; diagnostics are not features and are never returned.
Shards of a cohort and the feature files are :mod:`alnburden.extraction.shards`.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from alnburden.extraction.regions import region_masks
from alnburden.io.images import apply_component_policy, read_mask, read_pair, row_spacing
from alnburden.io.jsonable import to_jsonable

logger = logging.getLogger(__name__)

#: Image types whose filter reads the mask: recomputed for every region, never shared.
MASK_DEPENDENT_IMAGE_TYPES = frozenset({"LBP3D"})


class ExtractionError(RuntimeError):
    """A patient's radiomics extraction failed; the message names the patient and why."""


@dataclass
class PreparedImage:
    """An image normalised once, with its resampled and filtered versions cached per grid.

    Attributes
    ----------
    image : SimpleITK.Image
        The input image after pyradiomics' normalisation (if enabled).
    grids : dict
        Grid key -> (resampled image, list of (filtered image, image type name, settings)).
    """

    image: sitk.Image
    grids: dict = field(default_factory=dict)


def _grid_key(image: sitk.Image) -> tuple:
    return (tuple(image.GetSize()), tuple(image.GetOrigin()), tuple(image.GetSpacing()),
            tuple(image.GetDirection()))


def params_sha256(path: str | Path) -> str:
    """SHA-256 (hex, 64 characters) of the bytes of a pyradiomics params file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class RadiomicsExtractor:
    """pyradiomics extraction of the lesion and its peritumoral rings, one image at a time.

    Parameters
    ----------
    params_path
        pyradiomics parameter file (YAML), validated by pyradiomics' own schema (pykwalify)
        when the extractor is first used.
    peritumoral_mm
        Widths (mm) of the peritumoral rings measured outside the lesion; ``()`` for the
        lesion only.
    components
        Connected-components policy of the lesion mask: ``"keep_all"`` or ``"largest"``.
    fast_glcm
        Compute GLCM features with :class:`alnburden.extraction.glcm.FastGLCM` (pyradiomics' GLCM
        with its two ``O(Ng^3)`` steps done in ``O(Ng^2)``; equal to pyradiomics up to
        summation order, ~1e-13 relative). ``False`` uses stock pyradiomics throughout.

    Notes
    -----
    ``__init__`` only stores the parameters; the pyradiomics extractor is built (and the
    params file validated) on first use and kept in ``extractor_``. Features equal those of
    ``RadiomicsFeatureExtractor(params_path).execute(image, region_mask)`` for every region,
    bit for bit with ``fast_glcm=False`` (see the module docstring for why, and
    ``tests/test_features.py`` for the check).
    """

    def __init__(self, params_path: str | Path, peritumoral_mm: Sequence[float] = (3,),
                 components: str = "keep_all", fast_glcm: bool = True) -> None:
        self.params_path = params_path
        self.peritumoral_mm = peritumoral_mm
        self.components = components
        self.fast_glcm = fast_glcm

    # -- pyradiomics -----------------------------------------------------------------
    @property
    def extractor_(self):
        """The validated ``radiomics.featureextractor.RadiomicsFeatureExtractor``."""
        ex = self.__dict__.get("_extractor")
        if ex is None:
            single_threaded_itk()
            ex = build_pyradiomics_extractor(self.params_path)
            self.__dict__["_extractor"] = ex
        return ex

    def __getstate__(self):  # picklable for process pools: rebuild the extractor there
        state = dict(self.__dict__)
        state.pop("_extractor", None)
        return state

    def feature_metadata(self) -> dict:
        """Provenance to store next to the features.

        Returns
        -------
        dict
            ``pyradiomics_version``, ``simpleitk_version``, ``params_file``,
            ``params_sha256`` (of the file's bytes), ``settings``, ``image_types``,
            ``feature_classes`` (as pyradiomics parsed them), ``peritumoral_mm``,
            ``components``, ``fast_glcm``.
        """
        import radiomics

        ex = self.extractor_
        path = Path(self.params_path)
        return {
            "pyradiomics_version": str(radiomics.__version__),
            "simpleitk_version": sitk.Version_VersionString(),
            "params_file": path.name,
            "params_sha256": params_sha256(path),
            "settings": to_jsonable(ex.settings),
            "image_types": to_jsonable(ex.enabledImagetypes),
            "feature_classes": to_jsonable(ex.enabledFeatures),
            "peritumoral_mm": [float(w) for w in self.peritumoral_mm],
            "components": self.components,
            "fast_glcm": bool(self.fast_glcm),
        }

    # -- the shared pipeline -----------------------------------------------------------
    def prepare(self, image: sitk.Image) -> PreparedImage:
        """Normalise ``image`` once (if the params enable it) for all its regions."""
        from radiomics import imageoperations

        settings = self.extractor_.settings.copy()
        if settings.get("normalize", False):
            image = imageoperations.normalizeImage(image, **settings)
        return PreparedImage(image=image)

    def measure(self, prepared: PreparedImage, mask: sitk.Image) -> dict[str, float]:
        """pyradiomics features of one region on a prepared image.

        Parameters
        ----------
        prepared
            From :meth:`prepare`.
        mask
            Region mask on the (original) image grid, value ``label`` (1) inside.

        Returns
        -------
        dict[str, float]
            pyradiomics feature name -> value (no region prefix, no diagnostics), exactly
            ``execute(image, mask)``'s values.
        """
        s, resampled, region, bb, crops = self._region(prepared, mask)
        # execute(): step 4, shape on the crop without padding
        features: dict = collections.OrderedDict()
        features.update(self.extractor_.computeShape(resampled, region, bb, **s))
        # step 6: every image type, cropped to the bounding box
        for im_c, mask_c, name, kwargs in crops:
            features.update(self._compute_features(im_c, mask_c, name, kwargs))
        return {k: v for k, v in features.items() if not k.startswith("diagnostics_")}

    def grey_levels(self, prepared: PreparedImage, mask: sitk.Image) -> dict[str, int]:
        """Grey levels of one region after discretisation, per filtered image.

        The count is pyradiomics' ``Ng`` of the texture classes: the highest bin index of the
        region after ``imageoperations.binImage`` with the image type's own settings
        (``binWidth`` or ``binCount``), i.e. the number of bins its intensity range spans.

        Parameters
        ----------
        prepared
            From :meth:`prepare` (the filtered images are shared with :meth:`measure`).
        mask
            Region mask on the (original) image grid.

        Returns
        -------
        dict[str, int]
            pyradiomics image-type name (``original``, ``log-sigma-1-0-mm-3D``,
            ``wavelet-HH``...) -> grey levels.
        """
        from radiomics import imageoperations

        s, _, _, _, crops = self._region(prepared, mask)
        out: dict[str, int] = {}
        for im_c, mask_c, name, kwargs in crops:
            values = sitk.GetArrayFromImage(im_c)
            inside = sitk.GetArrayFromImage(mask_c) == s.get("label", 1)
            binned, _ = imageoperations.binImage(values, inside, **kwargs)
            out[name] = int(binned[inside].max())
        return out

    def _region(self, prepared: PreparedImage, mask: sitk.Image):
        """Steps 1, 2 and 6 of ``execute`` for one region, shared by :meth:`measure` and
        :meth:`grey_levels`.

        Returns
        -------
        (dict, SimpleITK.Image, SimpleITK.Image, ndarray, iterator)
            The settings, the image on the region's grid (:meth:`_grid`), the region's mask
            on it (as ``checkMask`` corrected it), its bounding box, and every enabled image
            type cropped to that box (padDistance 0) as ``(image, mask, image type name,
            its settings)``: the filters that do not depend on the mask are computed once
            per grid and cached in ``prepared.grids``, the others for this region.
        """
        from radiomics import imageoperations

        ex = self.extractor_
        s = ex.settings.copy()
        key, region = self._grid(prepared, imageoperations.getMask(mask, **s), s)
        resampled, filtered = prepared.grids[key]
        bb, corrected = imageoperations.checkMask(resampled, region, **s)
        if corrected is not None:
            region = corrected
        if filtered is None:
            filtered = self._filter(resampled, region, s, shared_only=True)
            prepared.grids[key] = (resampled, filtered)
        per_region = self._filter(resampled, region, s, shared_only=False)
        crops = ((*imageoperations.cropToTumorMask(im, region, bb, padDistance=0), name, kwargs)
                 for im, name, kwargs in _ordered(ex.enabledImagetypes, filtered, per_region))
        return s, resampled, region, bb, crops

    @staticmethod
    def _grid(prepared: PreparedImage, label_mask: sitk.Image,
              settings: dict) -> tuple[tuple, sitk.Image]:
        """Step 1 of ``execute`` for one region: the grid it is measured on.

        The image on that grid (resampled when ``interpolator`` and
        ``resampledPixelSpacing`` are set, cropped with ``preCrop``, else the image itself)
        is cached in ``prepared.grids`` under the returned key, with no filtered images yet.

        Returns
        -------
        (tuple, SimpleITK.Image)
            The grid key and the region's label mask on that grid.
        """
        from radiomics import imageoperations

        s, image = settings, prepared.image
        if s.get("interpolator") is not None and s.get("resampledPixelSpacing") is not None:
            _, region = imageoperations.resampleImage(
                label_mask, label_mask, **{**s, "interpolator": "sitkNearestNeighbor"})
            key = _grid_key(region)
            if key not in prepared.grids:
                resampled, check = imageoperations.resampleImage(image, label_mask, **s)
                if _grid_key(resampled) != key or not _same_pixels(check, region):
                    raise RuntimeError("internal error: pyradiomics resampling grid of the mask "
                                       "differs from the image's; report this with the image")
                prepared.grids[key] = (resampled, None)
            return key, region
        if s.get("preCrop", False):
            bb, corrected = imageoperations.checkMask(image, label_mask, **s)
            if corrected is not None:
                label_mask = corrected
            cropped, region = imageoperations.cropToTumorMask(image, label_mask, bb, **s)
            key = _grid_key(cropped)
            prepared.grids.setdefault(key, (cropped, None))
            return key, region
        key = _grid_key(image)
        prepared.grids.setdefault(key, (image, None))
        return key, label_mask

    def _compute_features(self, image: sitk.Image, mask: sitk.Image, image_type: str,
                          settings: dict) -> dict:
        """``RadiomicsFeatureExtractor.computeFeatures``, with FastGLCM for ``glcm`` if enabled."""
        ex = self.extractor_
        if not self.fast_glcm:
            return ex.computeFeatures(image, mask, image_type, **settings)
        from radiomics import getFeatureClasses

        from alnburden.extraction.glcm import FastGLCM

        classes = {**getFeatureClasses(), "glcm": FastGLCM}
        out: dict = collections.OrderedDict()
        for class_name, feature_names in ex.enabledFeatures.items():  # as computeFeatures
            if class_name.startswith("shape") or class_name not in classes:
                continue
            feature_class = classes[class_name](image, mask, **settings)
            for feature in feature_names or ():
                feature_class.enableFeatureByName(feature)
            for feature, value in feature_class.execute().items():
                out[f"{image_type}_{class_name}_{feature}"] = value
        return out

    def _filter(self, image: sitk.Image, mask: sitk.Image, settings: dict,
                shared_only: bool) -> dict[str, list]:
        """Filtered images per image type (shared types or mask-dependent types only)."""
        from radiomics import imageoperations

        out: dict[str, list] = {}
        for image_type, custom in self.extractor_.enabledImagetypes.items():
            if (image_type in MASK_DEPENDENT_IMAGE_TYPES) == shared_only:
                continue
            args = settings.copy()
            args.update(custom or {})
            generator = getattr(imageoperations, f"get{image_type}Image")(image, mask, **args)
            out[image_type] = list(generator)
        return out

    def measure_regions(self, prepared: PreparedImage,
                        regions: Mapping[str, sitk.Image]) -> dict[str, float]:
        """Features of several regions of one prepared image, prefixed ``<region>_``.

        Raises
        ------
        ValueError
            When a region is invalid for pyradiomics (empty, a single pixel...) or a feature
            is not finite (NaN/inf); the message names the region (and feature).
        """
        out: dict[str, float] = {}
        for name, mask in regions.items():
            try:
                values = self.measure(prepared, mask)
            except (ValueError, RuntimeError, AssertionError) as err:
                raise ValueError(f"region {name}: pyradiomics failed ({err})") from err
            for feature, value in values.items():
                v = float(value)
                if not math.isfinite(v):
                    raise ValueError(f"region {name}: feature {feature} is {v} (not finite); "
                                     "the region is probably too small or uniform for this "
                                     "feature: check the segmentation or disable the feature "
                                     "in the params file")
                out[f"{name}_{feature}"] = v
        return out

    # -- patients and cohorts ------------------------------------------------------------
    def load_patient(self, image_path: str | Path, mask_path: str | Path,
                     spacing_mm: float | None = None) -> tuple[sitk.Image, sitk.Image, int]:
        """Read one patient's image and lesion mask (components policy applied).

        Returns
        -------
        (image, mask, n_components)
            ``n_components`` counts the 8-connected components of the mask as read.
        """
        image, mask = read_pair(image_path, mask_path, spacing_mm, components="keep_all")
        mask, n = apply_component_policy(mask, self.components)
        return image, mask, n

    def extract_patient(self, image_path: str | Path, mask_path: str | Path,
                        spacing_mm: float | None = None,
                        extra_masks: Mapping[str, str | Path | sitk.Image] | None = None,
                        patient_id: str | None = None, with_grey_levels: bool = False):
        """All features of one patient: lesion, peritumoral rings and any extra region.

        Parameters
        ----------
        image_path, mask_path
            Image and lesion mask files (see :mod:`alnburden.io.images`).
        spacing_mm
            Pixel spacing (mm) for files without one (PNG/JPEG).
        extra_masks
            Additional named regions (file on the image grid, or a SimpleITK mask), measured
            on the same filtered images and prefixed with their name.
        patient_id
            Used in error messages.
        with_grey_levels
            Also return the grey levels of every region and image type (:meth:`grey_levels`).

        Returns
        -------
        dict[str, float] or (dict[str, float], list[dict])
            ``<region>_<feature>`` -> value; with ``with_grey_levels``, also one record
            ``{region, image_type, grey_levels}`` per region and image type.

        Raises
        ------
        ExtractionError
            Naming the patient and the reason (unreadable file, invalid region, non-finite
            feature...). Nothing is dropped or imputed.
        """
        pid = patient_id if patient_id is not None else Path(image_path).stem
        try:
            image, mask, n = self.load_patient(image_path, mask_path, spacing_mm)
            regions = region_masks(mask, self.peritumoral_mm)
            for name, extra in (extra_masks or {}).items():
                if name in regions:
                    raise ValueError(f"extra region name {name!r} collides with {list(regions)}; "
                                     "rename it")
                if isinstance(extra, sitk.Image):
                    regions[name] = extra
                else:
                    regions[name] = read_mask(extra, image, image_path=image_path)
            prepared = self.prepare(image)
            features = self.measure_regions(prepared, regions)
            if not with_grey_levels:
                return features
            levels = [{"region": name, "image_type": image_type, "grey_levels": n_levels}
                      for name, region in regions.items()
                      for image_type, n_levels in self.grey_levels(prepared, region).items()]
            return features, levels
        except ExtractionError:
            raise
        except Exception as err:  # noqa: BLE001 - re-raised with the patient's id
            raise ExtractionError(f"patient {pid}: radiomics extraction failed: {err}") from err

    def extract_cohort(self, cohort: pd.DataFrame,
                       progress_logger: logging.Logger | None = None,
                       with_grey_levels: bool = False):
        """Features of every patient of ``cohort`` (serially; shard for parallelism).

        Parameters
        ----------
        cohort
            ``patient_id``, ``image``, ``mask`` (absolute paths, as in cohort.csv) and
            optionally ``pixel_spacing_mm``.
        progress_logger
            Logger receiving one INFO line per patient, e.g. ``"12/73 P0012 0.41 s"``
            (defaults to this module's logger).
        with_grey_levels
            Also return the grey levels table (``patient_id, region, image_type,
            grey_levels``, :meth:`grey_levels`).

        Returns
        -------
        pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
            ``patient_id`` then the feature columns, sorted by name; one row per patient in
            the cohort's order (and the grey levels table).

        Raises
        ------
        ExtractionError
            The first patient that fails, or when patients do not yield the same features.
        """
        log = progress_logger or logger
        _require_columns(cohort, ["patient_id", "image", "mask"])
        rows, levels, n = [], [], len(cohort)
        for i, row in enumerate(cohort.itertuples(index=False), start=1):
            t0 = time.perf_counter()
            pid = str(row.patient_id)
            out = self.extract_patient(row.image, row.mask, row_spacing(row), patient_id=pid,
                                       with_grey_levels=with_grey_levels)
            feats = out[0] if with_grey_levels else out
            if with_grey_levels:
                levels += [{"patient_id": pid, **rec} for rec in out[1]]
            rows.append((pid, feats))
            log.info("%d/%d %s %.2f s", i, n, pid, time.perf_counter() - t0)
        if not with_grey_levels:
            return features_frame(rows)
        return features_frame(rows), pd.DataFrame(
            levels, columns=["patient_id", "region", "image_type", "grey_levels"])


def _require_columns(df: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"cohort table lacks columns {missing}; pass results/cohort/cohort.csv")


def features_frame(rows: Sequence[tuple[str, Mapping[str, float]]],
                   index_columns: Sequence[str] = ("patient_id",)) -> pd.DataFrame:
    """Build the features table from ``(key, features)`` rows, checking they agree.

    ``key`` is a patient id (or a tuple matching ``index_columns``). Every row must have the
    same feature names (a filter silently skipped for one image would otherwise leave holes).
    """
    if not rows:
        return pd.DataFrame(columns=list(index_columns))
    names = sorted(rows[0][1])
    ref = set(names)
    for key, feats in rows[1:]:
        if set(feats) != ref:
            missing = sorted(ref - set(feats))[:5]
            extra = sorted(set(feats) - ref)[:5]
            raise ExtractionError(f"patient {key}: features differ from patient {rows[0][0]} "
                                  f"(missing {missing}, extra {extra}); an image too small for "
                                  "a filter? check the image size against the LoG sigmas")
    keys = [k if isinstance(k, tuple) else (k,) for k, _ in rows]
    values = np.array([[feats[name] for name in names] for _, feats in rows], dtype=float)
    df = pd.DataFrame(values, columns=names)
    for j, col in enumerate(index_columns):
        df.insert(j, col, [k[j] for k in keys])
    return df


def _same_pixels(a: sitk.Image, b: sitk.Image) -> bool:
    return _grid_key(a) == _grid_key(b) and np.array_equal(sitk.GetArrayViewFromImage(a),
                                                           sitk.GetArrayViewFromImage(b))


def _ordered(enabled: Mapping, shared: Mapping[str, list], per_region: Mapping[str, list]):
    """Filtered images in the image-type order of the params file (as ``execute``)."""
    for image_type in enabled:
        yield from shared.get(image_type, per_region.get(image_type, []))


def single_threaded_itk() -> None:
    """Run every (Simple)ITK filter of this process on one thread.

    ITK's multi-threaded reductions sum per thread, then over threads: the whole-image mean
    and SD of pyradiomics' ``normalizeImage`` (``sitk.Normalize``) of an image with
    non-integer grey levels then change in the last bits with the number of threads, and so
    does every feature. ITK's default thread count is the machine's cores, so features
    would depend on the machine (measured: perturbed in-silico images gave different bytes
    with 1, 3 and 8 ITK threads). Every extraction job of the workflow runs on one core
    anyway (``threads: 1``), so one ITK thread costs nothing and makes the features the same
    on any machine.
    """
    if sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() != 1:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)


def build_pyradiomics_extractor(params_path: str | Path):
    """pyradiomics' extractor for ``params_path``, validated, with the unsupported settings refused.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, a file pyradiomics' schema rejects (pykwalify message), 3-D shape
        enabled, or a setting this module does not replay (``resegmentRange``).
    """
    from radiomics import featureextractor

    path = Path(params_path)
    if not path.is_file():
        raise FileNotFoundError(f"pyradiomics params file {path} not found; set "
                                "radiomics.params in the config (default config/radiomics.yaml)")
    try:
        ex = featureextractor.RadiomicsFeatureExtractor(str(path))
    except Exception as err:  # pykwalify SchemaError and friends
        raise ValueError(f"pyradiomics params file {path} is invalid: {err}") from err
    if "shape" in ex.enabledFeatures:
        raise ValueError(f"{path}: featureClass 'shape' is 3-D; images are 2-D, use 'shape2D'")
    if ex.settings.get("resegmentRange") is not None:
        raise ValueError(f"{path}: resegmentRange is not supported by alnburden's shared "
                         "extraction; remove it")
    return ex
