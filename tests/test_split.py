"""Patient-level stratified split."""

from __future__ import annotations

import pandas as pd
import pytest

from alnburden.cohort.split import stratified_split


def test_ratio_583_gives_408_175(clinical_cohort):
    split = stratified_split(clinical_cohort, test_fraction=0.3, seed=2026)
    assert list(split.columns) == ["patient_id", "set", "nodal_class"]
    assert split["set"].value_counts().to_dict() == {"train": 408, "test": 175}


def test_rows_follow_the_cohort(clinical_cohort):
    split = stratified_split(clinical_cohort)
    assert split["patient_id"].tolist() == clinical_cohort["patient_id"].tolist()
    assert split["nodal_class"].tolist() == clinical_cohort["nodal_class"].tolist()


@pytest.mark.parametrize("seed", [0, 1, 2026])
@pytest.mark.parametrize("fraction", [0.3, 0.25])
def test_each_stratum_within_one_patient(clinical_cohort, seed, fraction):
    split = stratified_split(clinical_cohort, test_fraction=fraction, seed=seed)
    n_test = (split["set"] == "test").sum()
    share = n_test / len(split)
    for cls, group in split.groupby("nodal_class"):
        expected = share * len(group)
        assert abs((group["set"] == "test").sum() - expected) <= 1, cls


def test_deterministic(clinical_cohort):
    a = stratified_split(clinical_cohort, seed=7)
    b = stratified_split(clinical_cohort.copy(), seed=7)
    pd.testing.assert_frame_equal(a, b)


def test_different_seed_differs(clinical_cohort):
    a = stratified_split(clinical_cohort, seed=7)
    b = stratified_split(clinical_cohort, seed=8)
    assert (a["set"] != b["set"]).sum() > 50


def test_no_patient_in_both_sets(clinical_cohort):
    split = stratified_split(clinical_cohort)
    assert split["patient_id"].is_unique
    train = set(split.loc[split["set"] == "train", "patient_id"])
    test = set(split.loc[split["set"] == "test", "patient_id"])
    assert not train & test
    assert train | test == set(clinical_cohort["patient_id"])


def test_nodal_class_derived_when_absent(clinical_cohort):
    split = stratified_split(clinical_cohort.drop(columns=["nodal_class"]))
    assert split["nodal_class"].tolist() == clinical_cohort["nodal_class"].tolist()


def test_single_patient_class_is_pooled(clinical_cohort):
    cohort = clinical_cohort.copy()
    keep = cohort["nodal_class"] != "N>=3"
    cohort = pd.concat([cohort[keep], cohort[~keep].head(1)], ignore_index=True)
    split = stratified_split(cohort)
    assert split["nodal_class"].value_counts()["N>=3"] == 1


def test_duplicate_ids_rejected(clinical_cohort):
    cohort = pd.concat([clinical_cohort, clinical_cohort.head(1)], ignore_index=True)
    with pytest.raises(ValueError, match=r"duplicate patient_id \['S0000'\]"):
        stratified_split(cohort)


@pytest.mark.parametrize("fraction", [0, 1, 1.5])
def test_bad_fraction_rejected(clinical_cohort, fraction):
    with pytest.raises(ValueError, match=r"test_fraction is .*it must be in \(0, 1\)"):
        stratified_split(clinical_cohort, test_fraction=fraction)


def test_tiny_cohort_explains_itself():
    """Six patients, three classes: a 2-patient test set cannot hold every class."""
    cohort = pd.DataFrame({"patient_id": list("abcdef"), "n_positive_nodes": [0, 0, 1, 2, 3, 5]})
    with pytest.raises(ValueError, match=r"cannot split 6 patients .*test_fraction 0\.3"):
        stratified_split(cohort, test_fraction=0.3)
