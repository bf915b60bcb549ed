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
EXTERNAL_TABLES = ("performance", "auc_delong", "calibration", "dca", "reclassification",
                   "subgroups", "recalibration", "cascade_confusion", "cascade_metrics")
#: Models the cascade may route patients with, in order of preference (as the study's
#: :attr:`alnburden.design.StudyDesign.cascade_model`).
CASCADE_MODELS = ("combined", "clinical", "radiomics")


def external_table_names(meta: dict) -> list[str]:
    """The tables of :data:`EXTERNAL_TABLES` a bundle (its ``bundle.json``) has: the DeLong
    comparison needs two models per level, NRI/IDI the combined model, the Ki-67 subgroups
    a ``ki67`` variable, the cascade two levels on node counts (:func:`cascade_levels`)."""
    n_models = min(len(m["files"]) for m in meta["models"].values())
    combined = all("combined" in m["files"] for m in meta["models"].values())
    has_ki67 = any(v["name"] == "ki67" for v in meta["clinical_variables"])
    cascade = cascade_levels(meta) is not None
    return [t for t in EXTERNAL_TABLES
            if not (t == "auc_delong" and n_models < 2)
            and not (t == "reclassification" and not combined)
            and not (t == "subgroups" and not has_ki67)
            and not (t.startswith("cascade_") and not cascade)]


def cascade_levels(meta: dict) -> tuple[str, str] | None:
    """The two levels of the hierarchical cascade of a bundle, or None: as in the study, the
    first two levels when their rules read ``n_positive_nodes``."""
    from alnburden.levels import NODE_COUNT, rule_columns

    levels = levels_from_config({"levels": meta["levels"]})
    if len(levels) < 2 or NODE_COUNT not in rule_columns(levels):
        return None
    return levels[0].name, levels[1].name


def cascade_model(meta: dict, levels: tuple[str, str]) -> str:
    """The model the cascade routes patients with: the first of :data:`CASCADE_MODELS` both
    levels of the bundle have."""
    have = [set(meta["models"][lv]["files"]) for lv in levels]
    return next(m for m in CASCADE_MODELS if all(m in h for h in have))


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
        y = (rows[level.name].astype(float).to_numpy() if labelled
             else np.full(len(rows), np.nan))
        scored = _scored_rows(bundle, level.name, rows, y, EXTERNAL, columns, features)
        parts += scored
        scored_models = [g["model"].iloc[0] for g in scored]
        logger.info("%s: %d external patients scored by %s", level.name, len(rows),
                    ", ".join(scored_models))
        if labelled and level.population.strip() != "all":
            # a lower level scores EVERY external patient too (set cascade), so that the
            # hierarchical cascade can route a patient the upper level wrongly passes down,
            # as the study's level fit does for its test set
            everyone = cohort.reset_index(drop=True)
            parts += _scored_rows(bundle, level.name, everyone,
                                  pd.to_numeric(everyone[level.name], errors="coerce")
                                  .to_numpy(dtype=float), "cascade", columns, features)
    out = pd.concat(parts, ignore_index=True)[[*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS]]
    return out.sort_values(["level", "model", "patient_id"], kind="stable").reset_index(drop=True)


def _scored_rows(bundle: Bundle, level: str, rows: pd.DataFrame, y: np.ndarray, set_: str,
                 columns, features) -> list[pd.DataFrame]:
    """The frozen models of ``level`` scoring ``rows`` (harmonised as a new batch when the
    bundle has ComBat): one predictions frame per model, with ``set_`` and labels ``y``."""
    ids = rows["patient_id"].astype(str).to_numpy()
    X = None if columns is None else external_feature_matrix(features, ids, columns)
    models = bundle.models(level)
    harm = bundle.meta.get("harmonization") or {}
    if harm.get("method", "none") != "none" and X is not None:
        _harmonize_as_new_batches(models, rows[harm["batch"]], ids)
    probs, rs = predict_models(models, rows, X)
    nodal = rows["nodal_class"].to_numpy() if "nodal_class" in rows else np.nan
    ki67 = pd.to_numeric(rows["ki67"]).to_numpy(dtype=float) if "ki67" in rows else np.nan
    return [pd.DataFrame({"patient_id": ids, "level": level, "set": set_, "model": model,
                          "y_true": y, "p": probs[model], "rad_score": rs,
                          "nodal_class": nodal, "ki67": ki67}) for model in sorted(probs)]


def _cascade_tables(pred: pd.DataFrame, bundle: Bundle) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cascade's confusion matrix and agreement on the external cohort, at the bundle's
    cutoffs (:func:`alnburden.evaluation.cascade.cascade_predictions`)."""
    from alnburden.evaluation.cascade import cascade_predictions, cascade_table

    levels = cascade_levels(bundle.meta)
    model = cascade_model(bundle.meta, levels)
    cuts = {lv: float(bundle.cutoffs(lv)[model]) for lv in levels}
    cascade = cascade_predictions(pred, level1=levels[0], level2=levels[1], model=model,
                                  set_=EXTERNAL, cutoffs=cuts)
    return cascade_table(cascade)


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
    cascade: dict[str, pd.DataFrame] = {}

    def cascade_part(i: int) -> pd.DataFrame:
        if not cascade:
            cascade["tables"] = _cascade_tables(pred, bundle)
        return cascade["tables"][i]

    compute = {
        "performance": lambda: _performance(pred, bundle),
        "auc_delong": lambda: as_external_rows(tb.delong_table(as_test_rows(pred))),
        "calibration": lambda: as_external_rows(tb.calibration_table(as_test_rows(pred))),
        "dca": lambda: as_external_rows(tb.dca_table(as_test_rows(pred), tb.dca_thresholds(*grid))),
        "reclassification": lambda: as_external_rows(tb.reclassification_table(
            as_test_rows(pred), n_boot=int(ev.get("bootstrap", 1000)),
            seed=int(bundle.meta.get("seed", 2026)), sets=("test",))),
        "subgroups": lambda: tb.subgroup_table(pred, ki67_cutoff=ki67_cutoff,
                                               sets=(EXTERNAL,)),
        "recalibration": lambda: recalibration_table(pred, set_=EXTERNAL),
        "cascade_confusion": lambda: cascade_part(0),
        "cascade_metrics": lambda: cascade_part(1),
    }
    unknown = [n for n in names if n not in compute]
    if unknown:
        raise ValueError(f"no external table {unknown}; the tables are {list(compute)}")
    return {n: compute[n]() for n in names}


#: Markdown titles of the external tables.
TITLES = {"performance": "Discrimination and operating points at the bundle's cutoffs",
          "auc_delong": "Paired DeLong comparison of AUCs", "calibration": "Calibration",
          "dca": "Decision-curve net benefit",
          "reclassification": "Reclassification (continuous NRI, IDI)",
          "subgroups": "AUC, calibration and interaction test by Ki-67 subgroup",
          "recalibration": "Frozen vs recalibrated on the external labels",
          "cascade_confusion": "Hierarchical cascade at the bundle's cutoffs",
          "cascade_metrics": "Hierarchical cascade: agreement"}


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
