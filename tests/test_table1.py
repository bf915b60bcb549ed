"""Table 1 on a synthetic clinical cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import LEVELS, VARIABLES, make_clinical_cohort
from scipy import stats

from alnburden.io import write_table
from alnburden.levels import Level
from alnburden.cohort.split import stratified_split
from alnburden.cohort.table1 import baseline_table, level_group_names


@pytest.fixture(scope="module")
def table():
    """Table 1 of the default 583-patient synthetic cohort (built once per module)."""
    cohort = make_clinical_cohort(583, seed=0)
    return baseline_table(cohort, stratified_split(cohort, seed=2026), VARIABLES, LEVELS)


def row(table: pd.DataFrame, variable: str, level: str = "") -> pd.Series:
    hit = table[(table["variable"] == variable) & (table["level"] == level)]
    assert len(hit) == 1, (variable, level)
    return hit.iloc[0]


def test_columns_and_counts(table):
    assert list(table.columns) == [
        "variable", "statistic", "level", "Missing", "Overall", "Train", "Test",
        "p (train vs test)", "level1: N0", "level1: N+", "p (level1)",
        "level2: N1-2", "level2: N>=3", "p (level2)", "test"]
    n = row(table, "n")
    assert (n["Overall"], n["Train"], n["Test"]) == ("583", "408", "175")
    assert (n["level1: N0"], n["level1: N+"]) == ("278", "305")
    assert (n["level2: N1-2"], n["level2: N>=3"]) == ("191", "114")


def test_types_get_their_summaries_and_tests(table):
    age, ki67 = row(table, "age"), row(table, "ki67")
    assert age["statistic"] == "mean (SD), years" and age["test"] == "Welch t-test"
    assert ki67["statistic"] == "median [Q1,Q3], %" and ki67["test"] == "Kruskal-Wallis"
    assert row(table, "er", "1")["test"] == "Chi-squared"
    assert not (table["variable"] == "er").sum() > 1  # binary: the "1" row only
    assert table.loc[table["variable"] == "grade", "level"].tolist() == ["1", "2", "3"]
    assert table.loc[table["variable"] == "subtype", "level"].tolist() == [
        "luminal_a", "luminal_b", "her2_enriched", "triple_negative"]


def test_p_values_match_scipy(clinical_cohort, table):
    ki67, pop = clinical_cohort["ki67"], clinical_cohort["level1"]
    p = stats.kruskal(ki67[pop == 0], ki67[pop == 1]).pvalue
    assert row(table, "ki67")["p (level1)"] == ("<0.001" if p < 0.001 else f"{p:.3f}")
    split = stratified_split(clinical_cohort, seed=2026)
    is_test = split["set"].eq("test").to_numpy()
    age = clinical_cohort["age"].to_numpy()
    p_age = stats.ttest_ind(age[~is_test], age[is_test], equal_var=False).pvalue
    assert float(row(table, "age")["p (train vs test)"]) == pytest.approx(p_age, abs=6e-4)


def test_signal_shows_where_it_was_put(table):
    """ki67 depends on the node count in the synthetic cohort, age does not."""
    assert row(table, "ki67")["p (level1)"] == "<0.001"
    assert float(row(table, "age")["p (level1)"]) > 0.01


def test_nonnormal_override(clinical_cohort):
    split = stratified_split(clinical_cohort)
    t = baseline_table(clinical_cohort, split, VARIABLES, LEVELS, nonnormal=["age"])
    assert row(t, "age")["statistic"] == "median [Q1,Q3], years"
    assert row(t, "age")["test"] == "Kruskal-Wallis"
    assert row(t, "ki67")["test"] == "Welch t-test"


def test_fisher_exact_for_small_2x2():
    cohort = make_clinical_cohort(40, seed=3)
    cohort["her2"] = 0
    cohort.loc[cohort.index[:2], "her2"] = 1
    split = stratified_split(cohort, seed=1)
    t = baseline_table(cohort, split, VARIABLES, LEVELS)
    assert row(t, "her2", "1")["test"].startswith("Fisher's exact")


def test_nodal_class_not_tested_within_levels(table):
    nodal = row(table, "nodal_class", "N0")
    assert nodal["p (level1)"] == "" and nodal["p (level2)"] == ""
    assert nodal["test"] == "Chi-squared (train vs test only)"
    assert row(table, "nodal_class", "N0")["level2: N1-2"] == ""  # N0 outside level2


def test_same_table_from_csv_round_trip(clinical_cohort, tmp_path, table):
    """cohort.csv read back (levels as floats with NaN) gives the same Table 1."""
    clinical_cohort.to_csv(tmp_path / "cohort.csv", index=False)
    split = stratified_split(clinical_cohort, seed=2026)
    split.to_csv(tmp_path / "split.csv", index=False)
    again = baseline_table(pd.read_csv(tmp_path / "cohort.csv"), pd.read_csv(tmp_path / "split.csv"),
                           VARIABLES, [vars(lv) for lv in LEVELS])
    pd.testing.assert_frame_equal(again, table)


def test_writes_csv_and_markdown(table, tmp_path):
    write_table(table, tmp_path / "table1_baseline.csv", title="Table 1")
    back = pd.read_csv(tmp_path / "table1_baseline.csv", dtype=str, keep_default_na=False)
    assert back.shape == table.shape
    md = (tmp_path / "table1_baseline.md").read_text()
    assert md.startswith("# Table 1") and "| level1: N0" in md


def test_split_must_cover_cohort(clinical_cohort):
    split = stratified_split(clinical_cohort).iloc[:-3]
    with pytest.raises(ValueError, match=r"split does not match the cohort: 3 cohort patients"):
        baseline_table(clinical_cohort, split, VARIABLES, LEVELS)


def test_level_with_one_class_is_left_out():
    """Burden study: every patient is N+, so a level-1 comparison has nothing to compare."""
    cohort = make_clinical_cohort(200, seed=5)
    cohort = cohort[cohort["n_positive_nodes"] > 0].reset_index(drop=True)
    split = stratified_split(cohort)
    t = baseline_table(cohort, split, VARIABLES, LEVELS)
    assert "level1: N+" not in t and "level2: N>=3" in t


def test_missing_values_counted(clinical_cohort):
    cohort = clinical_cohort.copy()
    cohort["ki67"] = cohort["ki67"].astype(float)
    cohort.loc[cohort.index[:7], "ki67"] = np.nan
    t = baseline_table(cohort, stratified_split(cohort), VARIABLES, LEVELS)
    assert row(t, "ki67")["Missing"] == "7"


@pytest.mark.parametrize(("population", "label", "names"), [
    ("all", "n_positive_nodes > 0", ("N0", "N+")),
    ("n_positive_nodes > 0", "n_positive_nodes >= 3", ("N1-2", "N>=3")),
    ("n_positive_nodes >= 1", "n_positive_nodes > 3", ("N1-3", "N>=4")),
    ("all", "n_positive_nodes <= 2", ("N>=3", "N0-2")),
    ("all", "n_positive_nodes == 2", ("lv=0", "lv=1")),
    ("all", "n_positive_nodes >= 2.5", ("n_positive_nodes < 2.5", "n_positive_nodes >= 2.5")),
])
def test_level_group_names(population, label, names):
    assert level_group_names(Level(name="lv", population=population, label=label)) == names
