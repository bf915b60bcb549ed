"""Patient-level train/test split, stratified by nodal class (N0 / N1-2 / N>=3), or by the
levels' labels in a cohort without node counts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from alnburden.levels import NODE_COUNT, Level, nodal_class

logger = logging.getLogger(__name__)


def _level_names(levels: Sequence[str | Level | dict]) -> list[str]:
    return [lv if isinstance(lv, str) else lv.name if isinstance(lv, Level) else lv["name"]
            for lv in levels]


def split_strata(cohort: pd.DataFrame,
                 levels: Sequence[str | Level | dict] | None = None) -> tuple[str, np.ndarray]:
    """The stratification variable of the split: its name and one value per patient.

    Parameters
    ----------
    cohort
        The validated cohort.
    levels
        Levels (names, :class:`~alnburden.levels.Level` or config dicts) whose label
        columns stratify the split when the cohort has no node counts.

    Returns
    -------
    name : str
        ``"nodal_class"`` (N0 / N1-2 / N>=3, from ``nodal_class`` or ``n_positive_nodes``)
        when every patient has one, else ``"stratum"``: the combination of the levels'
        labels, e.g. ``"malignancy=1"`` (``"<level>=NA"`` outside a level's population).
    values : ndarray of str

    Raises
    ------
    ValueError
        No node counts and no levels given, or a level column absent from the cohort.
    """
    if "nodal_class" in cohort and cohort["nodal_class"].notna().all():
        return "nodal_class", cohort["nodal_class"].astype(str).to_numpy()
    if NODE_COUNT in cohort and cohort[NODE_COUNT].notna().all():
        return "nodal_class", nodal_class(pd.to_numeric(cohort[NODE_COUNT]).to_numpy())
    names = _level_names(levels or [])
    if not names:
        raise ValueError("the cohort has no node counts (nodal_class / n_positive_nodes) to "
                         "stratify the split by; pass levels= the config's levels to stratify by "
                         "their labels")
    absent = [n for n in names if n not in cohort]
    if absent:
        raise ValueError(f"cohort has no label column(s) {absent}; validate the manifest with "
                         "these levels first (alnburden.cohort.manifest.validate_manifest adds them)")
    parts = [n + "=" + pd.to_numeric(cohort[n], errors="coerce").astype("Int64").astype(str)
             .replace("<NA>", "NA") for n in names]
    strata = parts[0]
    for part in parts[1:]:
        strata = strata + "|" + part
    return "stratum", strata.to_numpy(dtype=str)


def stratified_split(cohort: pd.DataFrame, test_fraction: float = 0.3,
                     seed: int = 2026,
                     levels: Sequence[str | Level | dict] | None = None) -> pd.DataFrame:
    """Split patients into a training and a test set, stratified by nodal class.

    Parameters
    ----------
    cohort
        The validated cohort: ``patient_id`` (unique) and ``nodal_class`` (or
        ``n_positive_nodes``, from which the class is derived); a cohort without node
        counts is stratified by the labels of ``levels`` instead (:func:`split_strata`).
    test_fraction
        Fraction of patients held out for testing, in (0, 1). The test set has
        ``ceil(test_fraction * n)`` patients (scikit-learn's rule): 583 -> 175 test, 408 train.
    seed
        Random state of the split (same seed, same cohort -> same split).
    levels
        The config's levels (names, :class:`~alnburden.levels.Level` or dicts); used only
        when the cohort has no node counts.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, set, nodal_class`` with ``set`` in {"train", "test"}, one row per
        patient in the cohort's order (``patient_id, set, stratum`` when stratified by the
        levels' labels). Each stratum is split in the overall proportion, within one patient.

    Raises
    ------
    ValueError
        On duplicate or missing ids, a fraction outside (0, 1), nothing to stratify by, or
        a cohort too small to give every stratum a patient in both sets.

    Notes
    -----
    A stratum with a single patient cannot be stratified; it is pooled with the largest
    stratum for the draw (a warning is logged) and keeps its own label in the output.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction is {test_fraction}; it must be in (0, 1), e.g. 0.3 "
                         "(config split.test_fraction)")
    ids = cohort["patient_id"]
    if ids.isna().any() or ids.astype(str).str.strip().eq("").any():
        raise ValueError("cohort has patients without patient_id; validate the manifest first")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique().tolist()
        raise ValueError(f"duplicate patient_id {dup[:5]}: the split is patient-level; "
                         "validate the manifest first")
    by, classes = split_strata(cohort, levels)
    strata = classes.copy()
    counts = pd.Series(strata).value_counts()
    lonely = counts[counts < 2].index.tolist()
    if lonely and len(counts) > 1:
        largest = counts.index[0]
        logger.warning("%s %s has a single patient: pooled with %s for the "
                       "stratified draw", by, lonely, largest)
        strata[np.isin(strata, lonely)] = largest
    n = len(cohort)
    try:
        _, test_idx = train_test_split(np.arange(n), test_size=test_fraction,
                                       random_state=seed, shuffle=True, stratify=strata)
    except ValueError as exc:
        raise ValueError(
            f"cannot split {n} patients ({counts.to_dict()}) with test_fraction "
            f"{test_fraction}: {exc}; use a larger cohort or a test_fraction that leaves every "
            f"{by.replace('_', ' ')} in both sets"
        ) from exc
    is_test = np.zeros(n, dtype=bool)
    is_test[test_idx] = True
    out = pd.DataFrame({
        "patient_id": ids.to_numpy(),
        "set": np.where(is_test, "test", "train"),
        by: classes,
    })
    summary = out.groupby(["set", by]).size().unstack(fill_value=0)
    logger.info("split %d patients (seed %d, test fraction %g):\n%s", n, seed, test_fraction,
                summary.to_string())
    return out
