"""The model bundle: everything another centre needs to apply a study's frozen models.

A study writes ``results/bundle/`` and the same files zipped as ``results/bundle.zip``
(:func:`write_bundle`); an external run reads the zip alone (:func:`unpack_bundle`), with no
results folder and no config. Layout::

    bundle.json            levels, clinical variables and their coding, the models and
                           cutoffs of every level, the extraction contract (params file and
                           sha256, pyradiomics version, feature columns, ICC-kept features),
                           evaluation settings, harmonisation, library versions
    model_card.md          the same, for a reader
    radiomics.yaml         the pyradiomics params file the features were extracted with
    models/<level>/        <model>.joblib and model_card.json of each level (as fit_level wrote)
    training/features.csv  per feature of the training patients: n, mean, SD, min, max and
                           the 101 percentiles q000..q100 (no patient-level data)
    training/clinical.json per clinical variable: the same for numbers, counts per category
    checksums.sha256       sha256 of every other file (``sha256sum -c`` reads it)

Nothing in the bundle is patient-level: the drift checks use the summaries only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.io.jsonable import to_jsonable
from alnburden.modeling.persistence import library_versions, load_model

logger = logging.getLogger(__name__)

__all__ = ["BUNDLE_FORMAT", "PERCENTILES", "BundleError", "Bundle", "write_bundle",
           "zip_bundle", "unpack_bundle", "read_bundle_meta", "verify_bundle",
           "feature_summary", "clinical_summary", "training_cutoffs"]

#: Version of the bundle layout (bundle.json ``format``); a reader refuses another one.
BUNDLE_FORMAT = 1
#: The percentiles stored per feature and continuous clinical variable (0, 1, ..., 100).
PERCENTILES = np.arange(101)
CHECKSUMS = "checksums.sha256"
META = "bundle.json"
PARAMS = "radiomics.yaml"
#: Fixed zip entry time, so the same bundle folder always zips to the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BundleError(ValueError):
    """A bundle that is incomplete, altered or of another format (the message says which)."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def quantile_columns() -> list[str]:
    """Column names of the stored percentiles, ``q000`` ... ``q100``."""
    return [f"q{int(q):03d}" for q in PERCENTILES]


def _numeric_summary(values: np.ndarray) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    out = {"n": int(len(v)), "n_missing": int(np.size(values) - len(v))}
    if len(v) == 0:
        return out | {"mean": np.nan, "sd": np.nan, "min": np.nan, "max": np.nan,
                      **{c: np.nan for c in quantile_columns()}}
    qs = np.percentile(v, PERCENTILES)
    return out | {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  "min": float(v.min()), "max": float(v.max()),
                  **dict(zip(quantile_columns(), map(float, qs)))}


def feature_summary(features: pd.DataFrame) -> pd.DataFrame:
    """Per-feature summary of the training patients' features.

    Parameters
    ----------
    features
        Feature columns only (one row per training patient); infinite values count as missing.

    Returns
    -------
    pandas.DataFrame
        ``feature, n, n_missing, mean, sd, min, max, q000 ... q100`` (SD with ddof 1).
    """
    rows = [{"feature": c, **_numeric_summary(features[c].to_numpy(dtype=float))}
            for c in features.columns]
    return pd.DataFrame(rows, columns=["feature", "n", "n_missing", "mean", "sd", "min", "max",
                                       *quantile_columns()])


def clinical_summary(cohort: pd.DataFrame, variables: Sequence[dict]) -> dict:
    """Per clinical variable of the training patients: numbers (continuous) as in
    :func:`feature_summary`, categories (binary, ordinal, categorical) as counts.

    Returns
    -------
    dict
        ``{name: {"type", "kind": "numeric"|"categorical", ...}}``; a categorical entry has
        ``counts`` (category as text -> patients, declared levels first, zero counts kept)
        and ``n_missing``.
    """
    out = {}
    for v in variables:
        name, vtype = v["name"], v["type"]
        if name not in cohort.columns:
            continue
        col = cohort[name]
        if vtype == "continuous":
            out[name] = {"type": vtype, "kind": "numeric",
                         **_numeric_summary(pd.to_numeric(col, errors="coerce").to_numpy(float))}
            continue
        levels = [str(x) for x in v.get("levels", [0, 1] if vtype == "binary" else [])]
        present = col.dropna().map(category_text)
        cats = levels + sorted(set(present) - set(levels))
        out[name] = {"type": vtype, "kind": "categorical",
                     "counts": {c: int((present == c).sum()) for c in cats},
                     "n_missing": int(col.isna().sum())}
    return out


def category_text(value) -> str:
    """A category as the bundle writes it (``2.0`` and ``2`` are both ``"2"``)."""
    try:
        f = float(value)
        if np.isfinite(f) and f.is_integer():
            return str(int(f))
    except (TypeError, ValueError):
        pass
    return str(value)


def training_cutoffs(performance: pd.DataFrame, level: str) -> dict[str, dict]:
    """The cutoffs of one level, as the study's ``performance.csv`` chose them on training.

    Returns
    -------
    dict
        ``{model: {"cutoff": float, "source": where the study chose it}}`` (the table's
        ``cutoff_source``: the nested out-of-fold predictions by default); the cutoff of a
        level/model is the same on every set but ``nested``, the ``train`` row is read.
    """
    rows = performance[performance["level"].astype(str) == level]
    out = {}
    for model, g in rows.groupby("model", sort=True):
        g = g.dropna(subset=["cutoff"])
        if g.empty:
            continue
        row = g[g["set"] == "train"].iloc[0] if (g["set"] == "train").any() else g.iloc[0]
        source = row["cutoff_source"] if "cutoff_source" in row.index else row["set"]
        out[str(model)] = {"cutoff": float(row["cutoff"]), "source": str(source)}
    return out


def _feature_columns(model_dirs: Mapping[str, Path]) -> list[str]:
    """Every feature column a saved radiomics model reads (its ``feature_names_in_``)."""
    cols: set[str] = set()
    for d in model_dirs.values():
        path = Path(d) / "radiomics.joblib"
        if path.is_file():
            cols |= set(map(str, load_model(path).feature_names_in_))
    return sorted(cols)


def write_bundle(out_dir: str | Path, zip_path: str | Path, *, study: str, levels: Sequence[dict],
                 variables: Sequence[dict], model_dirs: Mapping[str, str | Path],
                 performance: pd.DataFrame, cohort: pd.DataFrame, split: pd.DataFrame,
                 features: pd.DataFrame | None = None, feature_meta: Mapping | None = None,
                 icc: pd.DataFrame | None = None, params_path: str | Path | None = None,
                 radiomics: Mapping | None = None, evaluation: Mapping | None = None,
                 harmonization: Mapping | None = None) -> Path:
    """Write the bundle folder and its zip.

    Parameters
    ----------
    out_dir, zip_path
        ``results/bundle`` and ``results/bundle.zip`` (the folder is replaced).
    study
        The config's ``study``.
    levels, variables
        The config's ``levels`` and ``clinical.variables`` (the coding a manifest must follow).
    model_dirs
        Level name -> ``results/<level>/models``.
    performance
        ``results/tables/performance.csv`` (the cutoffs chosen on training).
    cohort, split
        ``results/cohort/cohort.csv`` and ``split.csv``: the training patients' summaries.
    features, feature_meta, icc, params_path, radiomics
        For an imaging study: ``radiomics.parquet`` and its provenance, ``icc.csv``, the
        params file and the config's ``radiomics`` section (peritumoral rings, components).
    evaluation, harmonization
        The config's ``evaluation`` and ``harmonization`` sections (the external evaluation
        uses the study's Ki-67 cutoff, DCA grid and cutoff rule).

    Returns
    -------
    Path
        The zip.
    """
    out_dir, zip_path = Path(out_dir), Path(zip_path)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "training").mkdir(parents=True)
    train_ids = set(split.loc[split["set"] == "train", "patient_id"].astype(str))
    train = cohort[cohort["patient_id"].astype(str).isin(train_ids)]
    meta: dict = {"format": BUNDLE_FORMAT, "study": study, "levels": list(levels),
                  "clinical_variables": list(variables), "evaluation": dict(evaluation or {}),
                  "harmonization": dict(harmonization or {"method": "none"}),
                  "versions": library_versions(),
                  "training": {"n": len(train), "levels": {}}, "models": {}}
    for lv in levels:
        _copy_level_models(out_dir, lv["name"], Path(model_dirs[lv["name"]]), performance, meta)
    clinical = clinical_summary(train, variables)
    (out_dir / "training" / "clinical.json").write_text(
        json.dumps(to_jsonable(clinical), indent=2, sort_keys=True) + "\n")
    meta["radiomics"] = None
    if features is not None:
        meta["radiomics"] = _write_radiomics(out_dir, features, train_ids, feature_meta, icc,
                                             params_path, radiomics, model_dirs)
    (out_dir / META).write_text(json.dumps(to_jsonable(meta), indent=2, sort_keys=True) + "\n")
    (out_dir / "model_card.md").write_text(_model_card_md(meta))
    _write_checksums(out_dir)
    return zip_bundle(out_dir, zip_path)


def _copy_level_models(out_dir: Path, name: str, model_dir: Path, performance: pd.DataFrame,
                       meta: dict) -> None:
    """Copy one level's fitted models and card into the bundle; record its files,
    predictors, training-chosen cutoffs and training counts in ``meta``."""
    dest = out_dir / "models" / name
    dest.mkdir(parents=True)
    card = json.loads((model_dir / "model_card.json").read_text())
    for fname in [*card["models"].values(), "model_card.json"]:
        shutil.copyfile(model_dir / fname, dest / fname)
    meta["models"][name] = {"files": dict(card["models"]),
                            "predictors": card.get("predictors", []),
                            "cutoffs": training_cutoffs(performance, name)}
    meta["training"]["levels"][name] = card.get("data", {})


def _write_radiomics(out_dir: Path, features: pd.DataFrame, train_ids: set[str],
                     feature_meta: Mapping | None, icc: pd.DataFrame | None,
                     params_path: str | Path | None, radiomics: Mapping | None,
                     model_dirs: Mapping[str, str | Path]) -> dict:
    """The params file and the training patients' feature summaries into the bundle; the
    extraction contract an external run checks (``meta["radiomics"]``)."""
    shutil.copyfile(params_path, out_dir / PARAMS)
    fmeta = dict(feature_meta or {})
    f = features.assign(patient_id=features["patient_id"].astype(str))
    ftrain = f[f["patient_id"].isin(train_ids)].drop(columns="patient_id")
    ftrain = ftrain.astype(float).replace([np.inf, -np.inf], np.nan)
    feature_summary(ftrain).to_csv(out_dir / "training" / "features.csv", index=False,
                                   float_format="%.10g", lineterminator="\n")
    kept = (sorted(icc.loc[icc["kept"].astype(bool), "feature"].astype(str))
            if icc is not None and "kept" in icc.columns else None)
    rad = dict(radiomics or {})
    return {"params_file": PARAMS, "params_sha256": sha256_of(out_dir / PARAMS),
            "extracted_params_sha256": fmeta.get("params_sha256"),
            "pyradiomics_version": fmeta.get("pyradiomics_version"),
            "simpleitk_version": fmeta.get("simpleitk_version"),
            "feature_columns": _feature_columns(model_dirs), "icc_kept": kept,
            "extraction": {k: rad[k] for k in ("peritumoral_mm", "components", "fast_glcm")
                           if k in rad},
            "provenance": fmeta}


def _model_card_md(meta: dict) -> str:
    lines = [f"# Model bundle: {meta['study']}", "",
             f"Bundle format {meta['format']}; {meta['training']['n']} training patients.", "",
             "| level | models | clinical predictors | cutoffs (chosen on training) |",
             "|---|---|---|---|"]
    for name, m in meta["models"].items():
        cuts = ", ".join(f"{k} {v['cutoff']:.3f}" for k, v in m["cutoffs"].items())
        lines.append(f"| {name} | {', '.join(sorted(m['files']))} | "
                     f"{', '.join(m['predictors']) or '-'} | {cuts or '-'} |")
    rad = meta.get("radiomics")
    if rad:
        lines += ["", f"Features: {len(rad['feature_columns'])} columns extracted with "
                  f"pyradiomics {rad['pyradiomics_version']} and `{rad['params_file']}` "
                  f"(sha256 `{rad['params_sha256']}`)."]
    lines += ["", "Harmonisation: " + str(meta["harmonization"].get("method", "none")) + ".",
              "", "Library versions: " + ", ".join(f"{k} {v}" for k, v in
                                                   sorted(meta["versions"].items())) + "."]
    return "\n".join(lines) + "\n"


def _bundle_files(root: Path) -> list[Path]:
    """Every file of a bundle folder but the checksums (and Snakemake's directory stamp)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != CHECKSUMS
                  and p.name != ".snakemake_timestamp")


def _write_checksums(root: Path) -> None:
    lines = [f"{sha256_of(p)}  {p.relative_to(root).as_posix()}" for p in _bundle_files(root)]
    (root / CHECKSUMS).write_text("\n".join(lines) + "\n")


def zip_bundle(out_dir: str | Path, zip_path: str | Path) -> Path:
    """Zip the bundle folder (entries sorted, fixed times: the same folder, the same bytes)."""
    out_dir, zip_path = Path(out_dir), Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(q for q in out_dir.rglob("*") if q.is_file()):
            info = zipfile.ZipInfo(p.relative_to(out_dir).as_posix(), date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, p.read_bytes())
    return zip_path


def read_bundle_meta(path: str | Path) -> dict:
    """``bundle.json`` of a bundle zip or folder, without unpacking (the workflow reads it to
    plan the external run)."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"bundle {path} does not exist; copy the study's results/bundle.zip "
                          "there or set external.bundle to its path")
    try:
        if path.is_dir():
            meta = json.loads((path / META).read_text())
        else:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read(META))
    except (KeyError, FileNotFoundError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise BundleError(f"{path} is not a model bundle ({err}); use the results/bundle.zip "
                          "a study wrote") from None
    if meta.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"bundle {path} has format {meta.get('format')!r}; this alnburden "
                          f"reads format {BUNDLE_FORMAT}: re-run the study to write a new bundle")
    return meta


def verify_bundle(root: str | Path) -> None:
    """Check every file of an unpacked bundle against ``checksums.sha256``.

    Raises
    ------
    BundleError
        Naming every changed, missing or unlisted file, and a params file whose sha256 is
        not the one ``bundle.json`` records.
    """
    root = Path(root)
    listed = {}
    if not (root / CHECKSUMS).is_file():
        raise BundleError(f"{root} has no {CHECKSUMS}; it is not a complete bundle")
    for line in (root / CHECKSUMS).read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    problems = []
    present = {p.relative_to(root).as_posix() for p in _bundle_files(root)}
    for name, digest in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name} is missing")
        elif sha256_of(root / name) != digest:
            problems.append(f"{name} was changed (sha256 differs from {CHECKSUMS})")
    problems += [f"{name} is not listed in {CHECKSUMS}" for name in sorted(present - set(listed))]
    if problems:
        raise BundleError(f"bundle {root} fails its checksums: " + "; ".join(problems)
                          + ". Use the bundle.zip exactly as the study wrote it")


@dataclass(frozen=True)
class Bundle:
    """An unpacked, verified bundle.

    Attributes
    ----------
    root : Path
        The folder.
    meta : dict
        ``bundle.json``.
    """

    root: Path
    meta: dict

    @property
    def levels(self) -> list[dict]:
        return list(self.meta["levels"])

    @property
    def variables(self) -> list[dict]:
        return list(self.meta["clinical_variables"])

    @property
    def has_images(self) -> bool:
        return self.meta.get("radiomics") is not None

    @property
    def params_path(self) -> Path | None:
        return self.root / PARAMS if self.has_images else None

    def models(self, level: str) -> dict:
        """The fitted models of ``level`` (name -> model), as fit_level saved them."""
        files = self.meta["models"][level]["files"]
        return {name: load_model(self.root / "models" / level / f) for name, f in files.items()}

    def cutoffs(self, level: str) -> dict[str, float]:
        return {m: c["cutoff"] for m, c in self.meta["models"][level]["cutoffs"].items()}

    def used_inputs(self) -> dict[str, list[str]]:
        """Level -> the features its radiomics model selected (LASSO) and the clinical
        predictors of its clinical/combined models: what the frozen models lean on."""
        out = {}
        for level, m in self.meta["models"].items():
            card = json.loads((self.root / "models" / level / "model_card.json").read_text())
            feats = [r["feature"] for r in (card.get("radiomics") or {}).get(
                "selected_features", [])]
            out[level] = feats + list(m.get("predictors", []))
        return out

    def feature_summary(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "training" / "features.csv")

    def clinical_summary(self) -> dict:
        return json.loads((self.root / "training" / "clinical.json").read_text())

    @classmethod
    def open(cls, root: str | Path) -> Bundle:
        """An unpacked bundle folder, verified (:func:`verify_bundle`)."""
        root = Path(root)
        meta = read_bundle_meta(root)
        verify_bundle(root)
        return cls(root, meta)


def unpack_bundle(zip_path: str | Path, out_dir: str | Path) -> Bundle:
    """Unpack a bundle zip into ``out_dir`` (replaced) and verify it.

    Raises
    ------
    BundleError
        Not a bundle, another format, or a file that fails its checksum.
    """
    zip_path, out_dir = Path(zip_path), Path(out_dir)
    read_bundle_meta(zip_path)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            target = (out_dir / name).resolve()
            if not target.is_relative_to(out_dir.resolve()):
                raise BundleError(f"bundle {zip_path} holds an entry outside its folder: {name}")
        zf.extractall(out_dir)
    return Bundle.open(out_dir)
