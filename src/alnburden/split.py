"""Patient-level train/test split, stratified by nodal class (N0 / N1-2 / N>=3)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from alnburden.levels import nodal_class

logger = logging.getLogger(__name__)


def stratified_split(cohort: pd.DataFrame, test_fraction: float = 0.3,
                     seed: int = 2026) -> pd.DataFrame:
    """Split patients into a training and a test set, stratified by nodal class.

    Parameters
    ----------
    cohort
        The validated cohort: ``patient_id`` (unique) and ``nodal_class`` (or
        ``n_positive_nodes``, from which the class is derived).
    test_fraction
        Fraction of patients held out for testing, in (0, 1). The test set has
        ``ceil(test_fraction * n)`` patients (scikit-learn's rule): 583 -> 175 test, 408 train.
    seed
        Random state of the split (same seed, same cohort -> same split).

    Returns
    -------
    pandas.DataFrame
        ``patient_id, set, nodal_class`` with ``set`` in {"train", "test"}, one row per
        patient in the cohort's order. Each nodal class is split in the overall proportion,
        within one patient.

    Raises
    ------
    ValueError
        On duplicate or missing ids, a fraction outside (0, 1), or a cohort too small to
        give every class a patient in both sets.

    Notes
    -----
    A nodal class with a single patient cannot be stratified; it is pooled with the largest
    class for the draw (a warning is logged) and keeps its own label in the output.
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
    if "nodal_class" in cohort:
        classes = cohort["nodal_class"].astype(str).to_numpy()
    else:
        classes = nodal_class(cohort["n_positive_nodes"].to_numpy())
    strata = classes.copy()
    counts = pd.Series(strata).value_counts()
    lonely = counts[counts < 2].index.tolist()
    if lonely and len(counts) > 1:
        largest = counts.index[0]
        logger.warning("nodal class %s has a single patient: pooled with %s for the "
                       "stratified draw", lonely, largest)
        strata[np.isin(strata, lonely)] = largest
    n = len(cohort)
    try:
        _, test_idx = train_test_split(np.arange(n), test_size=test_fraction,
                                       random_state=seed, shuffle=True, stratify=strata)
    except ValueError as exc:
        raise ValueError(
            f"cannot split {n} patients ({counts.to_dict()}) with test_fraction "
            f"{test_fraction}: {exc}; use a larger cohort or a test_fraction that leaves every "
            "nodal class in both sets"
        ) from exc
    is_test = np.zeros(n, dtype=bool)
    is_test[test_idx] = True
    out = pd.DataFrame({
        "patient_id": ids.to_numpy(),
        "set": np.where(is_test, "test", "train"),
        "nodal_class": classes,
    })
    summary = out.groupby(["set", "nodal_class"]).size().unstack(fill_value=0)
    logger.info("split %d patients (seed %d, test fraction %g):\n%s", n, seed, test_fraction,
                summary.to_string())
    return out
