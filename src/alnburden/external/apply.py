"""Applying a bundle's frozen models to an external cohort, and evaluating them there.

Nothing is refitted: :func:`external_predictions` calls
:func:`alnburden.modeling.persistence.predict_models` (the function the study's own test
rows go through) with the bundle's models. The evaluation tables are the study's
(:mod:`alnburden.evaluation.tables`) computed on the rows of set ``external``, with the
operating points at the cutoffs the study chose on its training set (stored in the bundle),
never re-chosen on the external cohort.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.evaluation import tables as tb
from alnburden.external.bundle import Bundle
from alnburden.external.contract import check_features
from alnburden.external.recalibration import recalibration_table
from alnburden.io import write_table
from alnburden.levels import levels_from_config
from alnburden.modeling.harmonization import EXTERNAL_BATCH_PREFIX
from alnburden.modeling.persistence import predict_models
from alnburden.modeling.predictions import PREDICTION_COLUMNS, PREDICTION_EXTRA_COLUMNS

logger = logging.getLogger(__name__)

__all__ = ["EXTERNAL", "external_feature_matrix", "external_predictions", "external_tables",
           "EXTERNAL_TABLES", "external_table_names", "as_test_rows", "as_external_rows", "predict_external", "write_external_tables"]

#: The set name of an external cohort's rows.
EXTERNAL = "external"
#: The evaluation tables of an external cohort (those of the study that apply to one set).
EXTERNAL_TABLES = ("performance", "auc_delong", "calibration", "dca", "subgroups",
                   "recalibration")


def external_table_names(meta: dict) -> list[str]:
    """The tables of :data:`EXTERNAL_TABLES` a bundle (its ``bundle.json``) has: the DeLong
    comparison needs two models per level, the Ki-67 subgroups a ``ki67`` variable."""
    n_models = min(len(m["files"]) for m in meta["models"].values())
    has_ki67 = any(v["name"] == "ki67" for v in meta["clinical_variables"])
    return [t for t in EXTERNAL_TABLES
            if not (t == "auc_delong" and n_models < 2) and not (t == "subgroups" and not has_ki67)]


def external_feature_matrix(features: pd.DataFrame, patient_ids: Sequence[str],
                            columns: Sequence[str]) -> pd.DataFrame:
    """The external features of ``patient_ids`` in order, restricted to ``columns`` (the
    bundle's feature columns); a column absent (accepted by ``allow_mismatch``) is all NaN,
    which the frozen imputer fills with the training median."""
    f = features.assign(patient_id=features["patient_id"].astype(str)).set_index("patient_id")
    absent = [i for i in map(str, patient_ids) if i not in f.index]
    if absent:
        raise ValueError(f"{len(absent)} external patient(s) have no features, e.g. "
                         f"{absent[:5]}; rerun the external extraction")
    X = f.reindex(columns=list(columns)).loc[list(map(str, patient_ids))].astype(float)
    return X.replace([np.inf, -np.inf], np.nan)


def external_predictions(bundle: Bundle, cohort: pd.DataFrame, features: pd.DataFrame | None,
                         labelled: bool = True) -> pd.DataFrame:
    """Predictions of every frozen model of every level for an external cohort.

    Parameters
    ----------
    bundle
        The unpacked bundle.
    cohort
        The validated external cohort (:func:`~alnburden.external.contract.validate_external_manifest`).
    features
        Its radiomic features (``patient_id`` + columns), None for a clinical-only bundle.
    labelled
        With labels, each level scores its population (e.g. level 2 the node-positive
        patients) and ``y_true`` is the label; without, each level scores every patient
        and ``y_true`` is empty.

    Returns
    -------
    pandas.DataFrame
        The predictions contract (``patient_id, level, set, model, y_true, p, rad_score,
        nodal_class, ki67``) with ``set = external``.
    """
    columns = bundle.meta["radiomics"]["feature_columns"] if bundle.has_images else None
    parts = []
    for level in levels_from_config({"levels": bundle.levels}):
        rows = cohort
        if labelled:
            rows = cohort[cohort[level.name].notna()]
        rows = rows.reset_index(drop=True)
        if rows.empty:
            logger.warning("%s: no external patient in the population %r", level.name,
                           level.population)
            continue
        ids = rows["patient_id"].astype(str).to_numpy()
        X = None if columns is None else external_feature_matrix(features, ids, columns)
        models = bundle.models(level.name)
        harm = bundle.meta.get("harmonization") or {}
        if harm.get("method", "none") != "none" and X is not None:
            _harmonize_as_new_batches(models, rows[harm["batch"]], ids)
        probs, rs = predict_models(models, rows, X)
        y = (rows[level.name].astype(float).to_numpy() if labelled
             else np.full(len(rows), np.nan))
        nodal = rows["nodal_class"].to_numpy() if "nodal_class" in rows else np.nan
        ki67 = (pd.to_numeric(rows["ki67"]).to_numpy(dtype=float) if "ki67" in rows
                else np.nan)
        for model in sorted(probs):
            parts.append(pd.DataFrame({
                "patient_id": ids, "level": level.name, "set": EXTERNAL, "model": model,
                "y_true": y, "p": probs[model], "rad_score": rs, "nodal_class": nodal,
                "ki67": ki67}))
        logger.info("%s: %d external patients scored by %s", level.name, len(rows),
                    ", ".join(sorted(probs)))
    out = pd.concat(parts, ignore_index=True)[[*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS]]
    return out.sort_values(["level", "model", "patient_id"], kind="stable").reset_index(drop=True)


def _harmonize_as_new_batches(models: dict, batch: pd.Series, ids: np.ndarray) -> None:
    """Give the frozen ComBat step of every radiomics model the external rows' batch labels,
    prefixed so that each external batch is estimated from its own features against the
    training reference (:class:`~alnburden.modeling.harmonization.ComBatHarmonizer`); a
    parameter change, nothing refitted."""
    labels = pd.Series([EXTERNAL_BATCH_PREFIX + str(b) for b in batch.to_numpy()], index=ids)
    for model in models.values():
        steps = getattr(model, "named_steps", {})
        sel = steps.get("selection")
        if sel is not None and "harmonize" in sel.named_steps:
            sel.named_steps["harmonize"].set_params(batch=labels)


def as_test_rows(pred: pd.DataFrame) -> pd.DataFrame:
    """The external rows under the set name the study's table functions evaluate by default
    (``test``: the held-out role an external cohort plays); :func:`as_external_rows` undoes it."""
    return pred[pred["set"] == EXTERNAL].assign(set="test")


def as_external_rows(table: pd.DataFrame) -> pd.DataFrame:
    """A table computed by :func:`as_test_rows` with its ``set`` named ``external`` again."""
    if "set" in table.columns:
        table = table.assign(set=table["set"].replace({"test": EXTERNAL}))
    return table.reset_index(drop=True)


def _performance(pred: pd.DataFrame, bundle: Bundle) -> pd.DataFrame:
    """Performance at the bundle's (training-chosen) cutoff of each level/model."""
    parts = []
    for (level, model), g in as_test_rows(pred).groupby(["level", "model"], sort=True):
        cut = bundle.cutoffs(level).get(model)
        if cut is None or not np.isfinite(cut):
            raise ValueError(f"the bundle holds no cutoff for {level}/{model}; re-write the "
                             "bundle from a study whose performance.csv has one")
        parts.append(tb.performance_table(g, cutoff=float(cut)))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=tb.PERFORMANCE_COLUMNS)
    return as_external_rows(out)


def external_tables(pred: pd.DataFrame, bundle: Bundle,
                    names: Sequence[str] = EXTERNAL_TABLES) -> dict[str, pd.DataFrame]:
    """The evaluation tables of the external rows (labelled cohorts only).

    Parameters
    ----------
    pred
        :func:`external_predictions` of a labelled cohort.
    bundle
        Its bundle (the cutoffs and the study's evaluation settings).
    names
        Tables wanted, of :data:`EXTERNAL_TABLES`; ``subgroups`` needs a Ki-67 variable.

    Returns
    -------
    dict[str, pandas.DataFrame]
        The study's table columns, ``set = external``.
    """
    ev = bundle.meta.get("evaluation") or {}
    grid = ev.get("dca_thresholds", (0.01, 0.99, 0.01))
    ki67_cutoff = ev.get("ki67_cutoff", 20)
    compute = {
        "performance": lambda: _performance(pred, bundle),
        "auc_delong": lambda: as_external_rows(tb.delong_table(as_test_rows(pred))),
        "calibration": lambda: as_external_rows(tb.calibration_table(as_test_rows(pred))),
        "dca": lambda: as_external_rows(tb.dca_table(as_test_rows(pred), tb.dca_thresholds(*grid))),
        "subgroups": lambda: tb.subgroup_table(pred, ki67_cutoff=ki67_cutoff, set_=EXTERNAL),
        "recalibration": lambda: recalibration_table(pred, set_=EXTERNAL),
    }
    unknown = [n for n in names if n not in compute]
    if unknown:
        raise ValueError(f"no external table {unknown}; the tables are {list(compute)}")
    return {n: compute[n]() for n in names}


#: Markdown titles of the external tables.
TITLES = {"performance": "Discrimination and operating points at the bundle's cutoffs",
          "auc_delong": "Paired DeLong comparison of AUCs", "calibration": "Calibration",
          "dca": "Decision-curve net benefit", "subgroups": "AUC by Ki-67 subgroup",
          "recalibration": "Frozen vs recalibrated on the external labels"}


def predict_external(bundle_dir: str | Path, cohort: pd.DataFrame,
                     features_path: str | Path | None, contract: dict,
                     allow_mismatch: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """The ``external_predict`` rule: check the features against the bundle, then predict.

    Returns
    -------
    predictions : pandas.DataFrame
        :func:`external_predictions`.
    accepted : list[str]
        Mismatches of the features accepted by ``allow_mismatch``.

    Raises
    ------
    alnburden.external.contract.ContractError
        Features the frozen models cannot read (before anything is predicted).
    """
    from alnburden.extraction.shards import read_features

    bundle = Bundle.open(bundle_dir)
    features, accepted = None, []
    if bundle.has_images:
        features, provenance = read_features(features_path)
        accepted = check_features([c for c in features.columns if c != "patient_id"],
                                  provenance, bundle, allow_mismatch)
    return external_predictions(bundle, cohort, features, bool(contract["labelled"])), accepted


def write_external_tables(pred: pd.DataFrame, bundle_dir: str | Path, out_dir: str | Path,
                          names: Sequence[str]) -> list[Path]:
    """Compute :func:`external_tables` and write each as CSV + Markdown into ``out_dir``."""
    tables = external_tables(pred, Bundle.open(bundle_dir), names)
    paths = []
    for name, df in tables.items():
        path = Path(out_dir) / f"{name}.csv"
        write_table(df, path, title=f"External cohort: {TITLES[name]}")
        paths.append(path)
    return paths
