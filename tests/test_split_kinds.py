"""User-given (split.column), grouped (split.group) and repeated (split.repeats) splits:
the split functions, the manifest checks of their columns, and the level fit's grouped folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alnburden.cohort.manifest import CohortValidationError
from alnburden.cohort.split import (grouped_split, make_split, one_class_sides, repeat_seed,
                                    set_value, stratified_split, user_split)
from conftest import LEVELS

#: Sides of the six TinyCohort patients (node counts 0, 0, 1, 2, 3, 6) that give both
#: classes of both levels on each side.
GOOD_SIDES = ["train", "Test", " TRAIN ", "test", "Train", "TEST"]


def _with_groups(cohort: pd.DataFrame, seed: int = 0, max_size: int = 4) -> pd.DataFrame:
    """The cohort with a ``patient`` column grouping 1-``max_size`` consecutive rows."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_size + 1, len(cohort))
    labels = np.repeat(np.arange(len(sizes)), sizes)[: len(cohort)]
    return cohort.assign(patient=[f"G{g:04d}" for g in labels])


# --------------------------------------------------------------------------- user-given split


@pytest.mark.parametrize("text, value", [("train", "train"), ("TEST", "test"),
                                         (" Train ", "train"), ("training", None),
                                         ("validation", None), ("0", None), ("", None),
                                         (None, None), (float("nan"), None)])
def test_set_value_is_case_insensitive_and_nothing_else(text, value):
    assert set_value(text) == value


def test_user_split_takes_the_column_in_cohort_order(clinical_cohort):
    sides = np.where(np.arange(len(clinical_cohort)) % 4 == 0, "Test", "train")
    cohort = clinical_cohort.assign(centre_split=sides)
    split = user_split(cohort, "centre_split", LEVELS)
    assert split["patient_id"].tolist() == cohort["patient_id"].tolist()
    assert split["set"].tolist() == [s.lower() for s in sides]
    assert list(split.columns) == ["patient_id", "set", "nodal_class"]


def test_user_split_names_every_bad_value(clinical_cohort):
    cohort = clinical_cohort.assign(centre_split="train")
    cohort.loc[[3, 8], "centre_split"] = ["validation", None]
    with pytest.raises(ValueError, match=r"2 patient\(s\).*\['S0003', 'S0008'\]"):
        user_split(cohort, "centre_split", LEVELS)


def test_user_split_refuses_a_side_with_one_class(clinical_cohort):
    # every N>=3 patient in train: level 2's test side has no positive
    sides = np.where((clinical_cohort["n_positive_nodes"] >= 3)
                     | (np.arange(len(clinical_cohort)) % 3 > 0), "train", "test")
    with pytest.raises(ValueError, match=r"level level2: the test side has \d+ negative and 0 "
                                         r"positive"):
        user_split(clinical_cohort.assign(s=sides), "s", LEVELS)


def test_one_class_sides_lists_each_level_and_side(clinical_cohort):
    sets = np.where(clinical_cohort["n_positive_nodes"] > 0, "train", "test")
    problems = one_class_sides(clinical_cohort, sets, LEVELS)
    assert len(problems) == 3  # level1 train (no N0) and test (no N+); level2 test (no one)
    assert sum("level level2" in p for p in problems) == 1


def test_user_split_refuses_a_group_on_both_sides(clinical_cohort):
    cohort = _with_groups(clinical_cohort).assign(s="train")
    cohort.loc[1::5, "s"] = "test"
    mixed = sorted(cohort.groupby("patient")["s"].nunique().loc[lambda s: s > 1].index)
    assert mixed
    with pytest.raises(ValueError, match="have rows on both sides") as err:
        user_split(cohort, "s", LEVELS, group="patient")
    assert all(g in str(err.value) for g in mixed)


# --------------------------------------------------------------------------- validation


def test_validation_reports_every_bad_split_cell(tiny_cohort):
    df = tiny_cohort.table()
    df["cohort_set"] = GOOD_SIDES
    df.loc[1, "cohort_set"] = "validation"
    df.loc[4, "cohort_set"] = ""
    tiny_cohort.save(df)
    with pytest.raises(CohortValidationError) as err:
        tiny_cohort.validate(split_column="cohort_set")
    report = err.value.report
    bad = report[report["column"] == "cohort_set"]
    assert bad["patient_id"].tolist() == ["P002", "P005"]
    assert "'validation', not train or test" in bad["problem"].iloc[0]
    assert "missing (empty cell)" in bad["problem"].iloc[1]
    assert bad["fix"].str.contains("write train or test").all()


def test_validation_accepts_a_good_split_and_keeps_the_column(tiny_cohort):
    df = tiny_cohort.table()
    df["cohort_set"] = GOOD_SIDES
    tiny_cohort.save(df)
    cohort = tiny_cohort.validate(split_column="cohort_set")
    split = make_split(cohort, {"column": "cohort_set"}, LEVELS)
    assert split["set"].tolist() == ["train", "test"] * 3


def test_validation_refuses_a_level_with_one_class_on_a_side(tiny_cohort):
    df = tiny_cohort.table()
    df["cohort_set"] = ["train", "test", "train", "test", "train", "train"]  # P006 (N>=3)
    tiny_cohort.save(df)
    with pytest.raises(CohortValidationError) as err:
        tiny_cohort.validate(split_column="cohort_set")
    problems = err.value.report["problem"].tolist()
    assert problems == ["split column cohort_set: level level2: the test side has 1 negative "
                        "and 0 positive patient(s); both classes are needed on each side "
                        "(n_positive_nodes >= 3)"]


def test_validation_names_an_absent_split_or_group_column(tiny_cohort):
    with pytest.raises(CohortValidationError) as err:
        tiny_cohort.validate(split_column="cohort_set", split_group="patient")
    report = err.value.report
    assert set(report["column"]) == {"cohort_set", "patient"}
    assert report["problem"].str.contains("named by config split").all()


def test_validation_reports_empty_groups_and_groups_on_both_sides(tiny_cohort):
    df = tiny_cohort.table()
    df["cohort_set"] = GOOD_SIDES
    df["patient"] = ["A", "A", "B", "C", "", "D"]  # A is on both sides; P005 has no group
    tiny_cohort.save(df)
    with pytest.raises(CohortValidationError) as err:
        tiny_cohort.validate(split_column="cohort_set", split_group="patient")
    report = err.value.report
    assert report.loc[report["column"] == "patient", "patient_id"].tolist() == ["P005"]
    both = report[report["problem"].str.contains("both sides")]
    assert both["patient_id"].tolist() == ["P001", "P002"]
    assert "patient A has rows on both sides" in both["problem"].iloc[0]


# --------------------------------------------------------------------------- grouped split


@pytest.mark.parametrize("seed", [0, 1, 2026])
def test_grouped_split_keeps_groups_whole_and_near_the_fraction(clinical_cohort, seed):
    cohort = _with_groups(clinical_cohort, seed)
    split = grouped_split(cohort, "patient", 0.3, seed, LEVELS)
    assert split["patient_id"].tolist() == cohort["patient_id"].tolist()
    assert split.groupby("group")["set"].nunique().eq(1).all()
    share = (split["set"] == "test").mean()
    assert abs(share - 0.3) < 0.02
    for _, stratum in split.groupby("nodal_class"):  # stratified as well as groups allow
        assert abs((stratum["set"] == "test").mean() - 0.3) < 0.06


def test_grouped_split_is_seeded(clinical_cohort):
    cohort = _with_groups(clinical_cohort)
    a = grouped_split(cohort, "patient", 0.3, 5, LEVELS)
    assert a.equals(grouped_split(cohort, "patient", 0.3, 5, LEVELS))
    assert not a["set"].equals(grouped_split(cohort, "patient", 0.3, 6, LEVELS)["set"])


def test_grouped_split_with_singletons_is_a_stratified_split(clinical_cohort):
    cohort = clinical_cohort.assign(patient=clinical_cohort["patient_id"])
    split = grouped_split(cohort, "patient", 0.3, 0, LEVELS)
    reference = stratified_split(clinical_cohort, 0.3, 0)
    for cls in ("N0", "N1-2", "N>=3"):
        ours = split.loc[split["nodal_class"] == cls, "set"].eq("test").sum()
        theirs = reference.loc[reference["nodal_class"] == cls, "set"].eq("test").sum()
        assert abs(ours - theirs) <= 1


def test_grouped_split_refuses_missing_groups(clinical_cohort):
    cohort = _with_groups(clinical_cohort)
    cohort.loc[[2, 9], "patient"] = None
    with pytest.raises(ValueError, match=r"2 row\(s\) have no patient.*S0002"):
        grouped_split(cohort, "patient", 0.3, 0, LEVELS)


# --------------------------------------------------------------------------- make_split


def test_make_split_default_is_the_stratified_split(clinical_cohort):
    assert make_split(clinical_cohort, {"seed": 3}, LEVELS).equals(
        stratified_split(clinical_cohort, 0.3, 3, LEVELS))
    assert make_split(clinical_cohort, None).equals(stratified_split(clinical_cohort))


def test_make_split_grouped_writes_the_group(clinical_cohort):
    split = make_split(_with_groups(clinical_cohort), {"group": "patient"}, LEVELS)
    assert list(split.columns) == ["patient_id", "set", "nodal_class", "group"]


def test_repeats_use_derived_seeds(clinical_cohort):
    seeds = [repeat_seed(2026, k) for k in range(5)]
    assert len(set(seeds)) == 5 and 2026 not in seeds
    assert seeds == [repeat_seed(2026, k) for k in range(5)]
    assert repeat_seed(2027, 0) != seeds[0]
    r1 = make_split(clinical_cohort, {"seed": 2026}, LEVELS, repeat=1)
    assert r1.equals(stratified_split(clinical_cohort, 0.3, seeds[1], LEVELS))
    assert not r1["set"].equals(make_split(clinical_cohort, {"seed": 2026}, LEVELS)["set"])


def test_repeats_refuse_a_user_split(clinical_cohort):
    cohort = clinical_cohort.assign(s="train")
    with pytest.raises(ValueError, match="split.column fixes the split"):
        make_split(cohort, {"column": "s"}, LEVELS, repeat=0)


def test_schema_defaults_keep_the_stratified_split():
    from alnburden.schemas import section_defaults

    assert section_defaults("split") == {"test_fraction": 0.3, "seed": 2026, "column": None,
                                         "group": None, "repeats": 0}

