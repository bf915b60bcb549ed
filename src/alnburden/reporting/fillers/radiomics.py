"""Fillers of the radiomics: segmentation, image settings, features, robustness,
selection, and the pure helpers that count features (:func:`discretisation_settings`,
:func:`feature_class_counts`, :func:`region_counts`)."""

from __future__ import annotations

import pandas as pd

from alnburden.formatting import fmt_number
from alnburden.reporting.fillers.models import model_building
from alnburden.reporting.fillers.phrases import plural, word_list
from alnburden.reporting.fillers.record import Filled, RunRecord, filler


def _no_images(run: RunRecord) -> Filled:
    return Filled("No images in this design: no radiomics.", (), {})


@filler("segmentation")
def segmentation(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No images in this design: nothing was segmented.", (), {})
    rings = word_list(f"{w:g} mm" for w in run.config["radiomics"]["peritumoral_mm"])
    src = ("drawn by the generator (simulation)" if run.design.simulated
           else "supplied with the manifest (`mask` column)")
    text = (f"One lesion mask per patient, {src}; the peritumoral ring(s) of {rings} are "
            "derived from it by a Euclidean distance map in mm (outside the lesion). The "
            "robustness to re-segmentation is measured by perturbed masks (CLEAR 31).")
    return Filled(text, (run.path("cohort"),), {})


@filler("segmentation_readers")
def segmentation_readers(run: RunRecord) -> Filled:
    base = segmentation(run)
    if not run.design.has_images:
        return base
    return Filled(base.text + " The workflow reads one mask per patient (one reader).",
                  base.evidence, {})


@filler("imaging_protocol")
def imaging_protocol(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    cohort = run.table("cohort")
    sp = pd.to_numeric(cohort.get("pixel_spacing_mm"), errors="coerce").dropna()
    text = "2-D B-mode ultrasound images, one per patient."
    facts = {}
    if len(sp):
        text += (f" Pixel size {fmt_number(sp.median(), 3)} mm (median; range "
                 f"{fmt_number(sp.min(), 3)}-{fmt_number(sp.max(), 3)}) before resampling.")
        facts = {"spacing_median": round(float(sp.median()), 3)}
    return Filled(text, (run.path("cohort"),), facts)


@filler("preprocessing")
def preprocessing(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    s = run.params.get("setting", {})
    meta = run.feature_metadata
    text = (f"pyradiomics {meta.get('pyradiomics_version')} (SimpleITK "
            f"{meta.get('simpleitk_version')}): whole-image z-score normalisation "
            f"(normalize: {s.get('normalize')}, scale {s.get('normalizeScale')}); no other "
            "filtering, no harmonisation.")
    return Filled(text, (run.path("params"), run.path("features")),
                  {"pyradiomics": meta.get("pyradiomics_version")})


@filler("resampling")
def resampling(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    s = run.params.get("setting", {})
    return Filled(f"In-plane resampling to {s.get('resampledPixelSpacing')} mm with "
                  f"{s.get('interpolator')}.", (run.path("params"),),
                  {"spacing": s.get("resampledPixelSpacing")})


def discretisation_settings(params: dict) -> dict[str, str]:
    """How every image type of a pyradiomics params dict is discretised: ``"bin count 32"``
    or ``"bin width 10"`` (its own ``binCount``/``binWidth``, else the global ``setting``;
    pyradiomics uses ``binCount`` when one is set)."""
    glob = params.get("setting") or {}
    out = {}
    for name, cfg in (params.get("imageType") or {}).items():
        own = {**glob, **(cfg or {})}
        out[name] = (f"bin count {own['binCount']:g}" if own.get("binCount") is not None
                     else f"bin width {float(own.get('binWidth', 25)):g}")
    return out


@filler("discretisation")
def discretisation(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    ds = discretisation_settings(run.params)
    return Filled("Grey-level discretisation on the normalised scale: " + "; ".join(
        f"{k} {v}" for k, v in ds.items()) + ".", (run.path("params"),),
        {"discretisation": ds})


@filler("image_types")
def image_types(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    parts = []
    for name, cfg in (run.params.get("imageType") or {}).items():
        extra = {k: v for k, v in (cfg or {}).items() if k != "binWidth"}
        parts.append(name + (f" ({', '.join(f'{k} {v}' for k, v in extra.items())})"
                             if extra else ""))
    return Filled("Image types: " + "; ".join(parts) + ".", (run.path("params"),),
                  {"image_types": list((run.params.get("imageType") or {}))})


def feature_class_counts(columns: list[str]) -> dict[str, int]:
    """Features per class from the feature names ``<region>_<image type>_<class>_<name>``."""
    out: dict[str, int] = {}
    for c in columns:
        parts = c.split("_")
        cls = parts[2] if len(parts) >= 4 else "other"
        out[cls] = out.get(cls, 0) + 1
    return dict(sorted(out.items()))


def region_counts(columns: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in columns:
        out[c.split("_")[0]] = out.get(c.split("_")[0], 0) + 1
    return out


@filler("extraction_software")
def extraction_software(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    meta = run.feature_metadata
    text = (f"pyradiomics {meta.get('pyradiomics_version')} (hand-crafted features, 2-D, "
            f"params file `{meta.get('params_file')}`, sha256 "
            f"{str(meta.get('params_sha256'))[:12]}...); "
            f"GLCM through alnburden's FastGLCM ({'on' if meta.get('fast_glcm') else 'off'}, "
            "equal to pyradiomics' GLCM up to rounding). Regions: lesion and peritumoral ring(s) "
            f"of {word_list(f'{w:g} mm' for w in meta.get('peritumoral_mm', []))}.")
    return Filled(text, (run.path("features"), run.path("params")),
                  {"pyradiomics": meta.get("pyradiomics_version"),
                   "peritumoral_mm": meta.get("peritumoral_mm")})


@filler("feature_classes")
def feature_classes(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    counts = feature_class_counts(run.feature_columns)
    return Filled("Features per class (all regions and image types): " + ", ".join(
        f"{k} {v}" for k, v in counts.items()) + ".", (run.path("features"),),
        {"classes": counts})


@filler("feature_count")
def feature_count(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    reg = region_counts(run.feature_columns)
    return Filled(f"{plural(len(run.feature_columns), 'feature')} per patient (" + ", ".join(
        f"{k} {v}" for k, v in reg.items()) + ").", (run.path("features"),),
        {"n_features": len(run.feature_columns), "regions": reg})


@filler("default_settings")
def default_settings(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    return Filled("Every pyradiomics setting not in the params file kept its default; the "
                  "resolved settings are stored with the features.", (run.path("params"),
                                                                      run.path("features")), {})


@filler("robustness")
def robustness(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    icc = run.table("icc")
    kept = int(icc["kept"].astype(str).str.lower().isin(["true", "1"]).sum())
    rb = run.config["radiomics"]["robustness"]
    text = (f"Segmentation robustness on {fmt_number(100 * rb['fraction'], 0)} % of training "
            f"patients: {rb['n_perturbations']} perturbed masks each (erosion, dilation, "
            f"random contour changes), {rb['icc']} over the original and perturbed masks; "
            f"features with ICC < {rb['threshold']} are dropped: {kept} of {len(icc)} kept.")
    return Filled(text, (run.path("icc"),), {"kept": kept, "n": int(len(icc)),
                                              "threshold": rb["threshold"]})


@filler("feature_scaling")
def feature_scaling(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    return Filled("z-score standardisation (scikit-learn StandardScaler) of the feature "
                  "values, fitted on training rows inside every fold and applied to the "
                  "held-out rows; images are not harmonised.", (), {})


@filler("dimension_reduction")
def dimension_reduction(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    parts = [model_building(run).text.split("; then")[0] + "; all on training data only."]
    facts = {}
    for lv in run.levels:
        steps = run.card(lv)["radiomics"]["features_after_each_step"]
        facts[lv] = int(len(run.table(f"selected_{lv}")))
        parts.append(f"{lv}: " + ", ".join(f"{k} {v}" for k, v in steps.items())
                     + f" features after each step; {facts[lv]} selected.")
    return Filled(" ".join(parts), tuple(run.path(f"selected_{lv}") for lv in run.levels),
                  {"selected": facts})


@filler("feature_statistics")
def feature_statistics(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return _no_images(run)
    rb, dr = robustness(run), dimension_reduction(run)
    text = (f"{rb.facts['kept']} of {rb.facts['n']} features reproducible (ICC); selected "
            "features with their LASSO coefficients: " + "; ".join(
                f"{lv} {n}" for lv, n in dr.facts["selected"].items()) + ".")
    if any(f"shap_{lv}" in run.files for lv in run.levels):
        text += " SHAP values of the radiomics learner: `<level>_shap.csv`."
    return Filled(text, rb.evidence + dr.evidence, {**rb.facts, **dr.facts})


@filler("feature_sharing")
def feature_sharing(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No radiomic features in this design.", (), {})
    return Filled("The run writes every patient's features (`results/features/radiomics.parquet` "
                  "and `.csv`) with their provenance; the authors decide whether to share them.",
                  (run.path("features"),), {})


@filler("settings_sharing")
def settings_sharing(run: RunRecord) -> Filled:
    if not run.design.has_images:
        return Filled("No radiomic features in this design.", (), {})
    meta = run.feature_metadata
    return Filled(f"pyradiomics parameter file `{meta.get('params_file')}` (sha256 "
                  f"{meta.get('params_sha256')}), stored with the features' provenance.",
                  (run.path("params"), run.path("features")),
                  {"params_sha256": meta.get("params_sha256")})
