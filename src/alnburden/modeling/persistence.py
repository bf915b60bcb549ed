"""Saving, loading and applying the fitted models of one level.

Layout of ``results/{level}/models/``:

* ``radiomics.joblib`` and ``<learner>.joblib``: a :class:`~sklearn.pipeline.Pipeline`
  ``[("selection", <fitted selection Pipeline>), ("learner", <fitted learner>)]`` that takes
  the radiomics table's columns (it checks their names) and returns probabilities;
* ``clinical.joblib`` and ``combined.joblib``: :class:`alnburden.modeling.clinical.LogisticModel`
  holding the column coding (ordinal numeric, categorical one-hot) and the coefficients;
  the combined model reads a ``rad_score`` column, computed by :func:`predict_patients`
  from ``radiomics.joblib``;
* ``model_card.json``: inputs, coefficients, training size and events, library versions;
  no dates, sorted keys, so two runs with the same seed write identical bytes.
"""

from __future__ import annotations

import json
import logging
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from alnburden.io.jsonable import to_jsonable
from alnburden.modeling.learners import learner_libraries

logger = logging.getLogger(__name__)

__all__ = ["RAD_SCORE_EPS", "rad_score", "save_model", "load_model", "write_model_card",
           "read_model_card", "library_versions", "predict_models", "predict_patients"]

#: Probabilities are clipped to [eps, 1 - eps] before the logit, so the Rad-score of a
#: learner that outputs exactly 0 or 1 (kNN, random forest) stays finite (|rad_score| <= 6.9).
RAD_SCORE_EPS = 1e-3

_LIBRARIES = ("alnburden", "numpy", "scipy", "pandas", "scikit-learn", *learner_libraries(),
              "statsmodels", "mrmr-selection", "joblib", "combatlearn")


def rad_score(p) -> np.ndarray:
    """Rad-score: logit of the radiomics probability clipped to [eps, 1 - eps]."""
    p = np.clip(np.asarray(p, dtype=float), RAD_SCORE_EPS, 1 - RAD_SCORE_EPS)
    return np.log(p) - np.log1p(-p)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries the models depend on (and Python's)."""
    out = {"python": platform.python_version()}
    for lib in _LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "not installed"
    return out


def save_model(model, path: str | Path) -> Path:
    """Pickle ``model`` with joblib (compress 3) to ``path``; parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=3)
    return path


def load_model(path: str | Path):
    """Load a model written by :func:`save_model`.

    Only load files you wrote yourself: joblib files are pickles and can run code.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist; run the fit_level step "
                                "of this level first")
    return joblib.load(path)


def write_model_card(card: dict, path: str | Path) -> Path:
    """Write the model card as JSON (sorted keys, 2-space indent, trailing newline).

    Values go through :func:`alnburden.io.jsonable.to_jsonable` (numpy scalars and arrays
    become plain numbers and lists, NaN becomes null).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(card), indent=2, sort_keys=True) + "\n")
    return path


def read_model_card(model_dir: str | Path) -> dict:
    """The ``model_card.json`` of a model folder."""
    path = Path(model_dir) / "model_card.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; {model_dir} is not a model folder "
                                "written by fit_level")
    return json.loads(path.read_text())


def predict_models(models: dict, cohort_rows: pd.DataFrame,
                   features_rows: pd.DataFrame | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Probabilities of every model for the given patients (in-memory models).

    Parameters
    ----------
    models
        Name -> fitted model: the level's arms (:func:`alnburden.design.model_arms`):
        ``clinical`` with clinical variables; with radiomics ``radiomics`` and the
        learners, and ``combined`` when both are present.
    cohort_rows
        Clinical columns of the patients (one row each).
    features_rows
        Radiomic features of the same patients in the same order (feature columns only, or
        with ``patient_id``), or None for the clinical-only arm.

    Returns
    -------
    probs : dict of str -> ndarray
        P(label = 1) per model.
    rad_score : ndarray
        Rad-score per patient (NaN without radiomics).
    """
    probs = ({"clinical": models["clinical"].predict_proba(cohort_rows)[:, 1]}
             if "clinical" in models else {})
    rs = np.full(len(cohort_rows), np.nan)
    if "radiomics" in models:
        if features_rows is None:
            raise ValueError("these models include radiomics: pass the patients' features")
        if len(features_rows) != len(cohort_rows):
            raise ValueError(f"{len(features_rows)} feature rows for {len(cohort_rows)} "
                             "patients; pass one row per patient in the same order")
        for name, model in models.items():
            if name in ("clinical", "combined"):
                continue
            cols = list(model.feature_names_in_)
            missing = [c for c in cols if c not in features_rows.columns]
            if missing:
                raise ValueError(f"model {name} needs {len(missing)} feature column(s) absent "
                                 f"from the features, e.g. {missing[:3]}")
            X = features_rows[cols].astype(float).replace([np.inf, -np.inf], np.nan)
            probs[name] = model.predict_proba(X)[:, 1]
        rs = rad_score(probs["radiomics"])
    if "combined" in models:
        probs["combined"] = models["combined"].predict_proba(
            cohort_rows.assign(rad_score=rs))[:, 1]
    return probs, rs


def predict_patients(model_dir: str | Path, cohort_rows: pd.DataFrame,
                     features_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apply the saved models of one level to new patients.

    Parameters
    ----------
    model_dir
        ``results/{level}/models``.
    cohort_rows
        Patients' clinical columns, with ``patient_id``.
    features_rows
        Their radiomic features (``patient_id`` + feature columns); matched to
        ``cohort_rows`` by ``patient_id``. Not needed for a clinical-only model folder.

    Returns
    -------
    DataFrame
        Long format: ``patient_id, model, p, rad_score``; reproduces the ``test`` rows of
        the level's predictions exactly for the test patients.
    """
    model_dir = Path(model_dir)
    card = read_model_card(model_dir)
    models = {name: load_model(model_dir / fname) for name, fname in card["models"].items()}
    if "patient_id" not in cohort_rows.columns:
        raise ValueError("cohort_rows needs a patient_id column")
    ids = cohort_rows["patient_id"].astype(str).to_numpy()
    feats = None
    if "radiomics" in models:
        if features_rows is None:
            raise ValueError(f"{model_dir} holds radiomics models: pass features_rows")
        f = features_rows.assign(patient_id=features_rows["patient_id"].astype(str))
        f = f.drop_duplicates("patient_id").set_index("patient_id")
        absent = [i for i in ids if i not in f.index]
        if absent:
            raise ValueError(f"no features for patient(s) {absent[:5]}"
                             f"{' ...' if len(absent) > 5 else ''}")
        feats = f.loc[ids]
    probs, rs = predict_models(models, cohort_rows.reset_index(drop=True), feats)
    return pd.concat([pd.DataFrame({"patient_id": ids, "model": name, "p": p, "rad_score": rs})
                      for name, p in probs.items()], ignore_index=True)
