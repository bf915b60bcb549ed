"""Levels labelled on a column other than the node count (e.g. malignant vs benign).

The ALN hierarchy keeps ``n_positive_nodes``; a study without node counts (BUS-BRA) labels
on another recorded column. Validation then does not ask for ``n_positive_nodes``, the
split is stratified by the label, Table 1 has no nodal-class rows, the predictions carry
empty ``nodal_class``/``ki67`` and the Ki-67 subgroup table is empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import LEVELS, TinyCohort, make_clinical_cohort

from alnburden.evaluation import cascade as cs
from alnburden.evaluation import tables as ev
from alnburden.cohort.manifest import validate_manifest
from alnburden.cohort.report import CohortValidationError
from alnburden.cohort.row_schema import manifest_row_schema
from alnburden.levels import Level, add_level_labels
from alnburden.modeling.level_fit import fit_level, level_data
from alnburden.modeling.predictions import PREDICTION_COLUMNS, PREDICTION_EXTRA_COLUMNS
from alnburden.cohort.split import split_strata, stratified_split
from alnburden.cohort.table1 import baseline_table

MALIGNANCY = Level(name="malignancy", label="malignant == 1", population="all")
DEVICE = {"name": "device", "type": "categorical", "levels": ["a", "b"]}


@pytest.fixture
def malignancy_cohort(tiny_cohort: TinyCohort) -> TinyCohort:
    """The tiny cohort relabelled: no node count, a 0/1 ``malignant`` and a ``device``."""
    df = tiny_cohort.table().drop(columns=["n_positive_nodes"])
    df["malignant"] = ["0", "1", "0", "1", "0", "1"]
    df["device"] = ["a", "b", "a", "b", "a", "a"]
    tiny_cohort.save(df)
    tiny_cohort.variables = [DEVICE]
    tiny_cohort.levels = [MALIGNANCY]
    return tiny_cohort


# --------------------------------------------------------------------------- validation


def test_label_on_another_column_needs_no_node_count(malignancy_cohort):
    cohort = malignancy_cohort.validate()
    assert "n_positive_nodes" not in cohort and "nodal_class" not in cohort
    assert cohort["malignancy"].tolist() == [0, 1, 0, 1, 0, 1]
    assert str(cohort["malignancy"].dtype) == "Int64"
    assert cohort["malignant"].tolist() == [0, 1, 0, 1, 0, 1]


def test_missing_rule_column_is_named(malignancy_cohort):
    malignancy_cohort.save(malignancy_cohort.table().drop(columns=["malignant"]))
    with pytest.raises(CohortValidationError,
                       match=r"manifest, column malignant: required column malignant is missing "
                             r"\(read by level malignancy \(all; malignant == 1\)\)") as info:
        malignancy_cohort.validate()
    assert "change the level rules in config levels" in str(info.value)


def test_node_count_still_required_by_the_aln_hierarchy(malignancy_cohort):
    malignancy_cohort.levels = list(LEVELS)
    with pytest.raises(CohortValidationError,
                       match=r"column n_positive_nodes: required column n_positive_nodes is "
                             r"missing \(read by level level1"):
        malignancy_cohort.validate()


@pytest.mark.parametrize("value, message", [
    ("yes", r"malignant is 'yes', not a number"),
    ("", r"malignant is missing \(empty cell\)"),
])
def test_bad_or_missing_label_value_is_reported(malignancy_cohort, value, message):
    malignancy_cohort.set(2, "malignant", value)
    with pytest.raises(CohortValidationError,
                       match=rf"row 4, patient P003, column malignant: {message}"):
        malignancy_cohort.validate()


def test_hand_typed_label_must_agree_with_its_column(malignancy_cohort):
    df = malignancy_cohort.table()
    df["malignancy"] = ["0", "1", "0", "1", "0", "0"]
    malignancy_cohort.save(df)
    with pytest.raises(CohortValidationError,
                       match=r"row 7, patient P006, column malignancy: malignancy is 0 but "
                             r"malignant = 1 gives 1 \(malignancy: malignant == 1\)"):
        malignancy_cohort.validate()


def test_label_column_declared_as_clinical_variable_is_a_leak(malignancy_cohort):
    variables = [DEVICE, {"name": "malignant", "type": "binary"}]
    with pytest.raises(ValueError, match=r"takes its label from 'malignant'.*remove 'malignant' "
                                         r"from clinical.variables"):
        validate_manifest(malignancy_cohort.manifest, variables, [MALIGNANCY])


def test_population_rule_on_another_column(malignancy_cohort):
    df = malignancy_cohort.table()
    df["birads"] = ["2", "5", "4", "4", "3", "5"]
    malignancy_cohort.save(df)
    lv = Level(name="suspicious", population="birads >= 4", label="malignant == 1")
    cohort = validate_manifest(malignancy_cohort.manifest, [DEVICE], [lv])
    assert cohort["suspicious"].isna().tolist() == [True, False, False, False, True, False]
    assert cohort["suspicious"].dropna().tolist() == [1, 0, 1, 1]


def test_row_schema_requires_the_rule_columns():
    schema = manifest_row_schema([DEVICE], has_images=False, label_columns=["malignant"])
    assert "malignant" in schema["required"] and "n_positive_nodes" not in schema["required"]
    assert schema["properties"]["malignant"]["type"] == "number"
    default = manifest_row_schema([DEVICE], has_images=False)
    assert "n_positive_nodes" in default["required"]


# --------------------------------------------------------------------------- split, Table 1


def clinical_malignancy_cohort(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """make_clinical_cohort without node counts: labelled on ``malignant`` (= N+)."""
    df = make_clinical_cohort(n, seed)
    df["malignant"] = (df["n_positive_nodes"] > 0).astype(int)
    df = df.drop(columns=["n_positive_nodes", "nodal_class", "level1", "level2", "ki67"])
    return add_level_labels(df, [MALIGNANCY])


def test_split_stratified_by_the_label_without_node_counts():
    cohort = clinical_malignancy_cohort()
    split = stratified_split(cohort, 0.3, seed=1, levels=[MALIGNANCY])
    assert list(split.columns) == ["patient_id", "set", "stratum"]
    rate = split.assign(y=cohort["malignancy"].to_numpy()).groupby("set")["y"].mean()
    assert abs(rate["train"] - rate["test"]) < 0.01
    assert split["stratum"].iloc[0] in {"malignancy=0", "malignancy=1"}
    # config dicts and names work too, and give the same split
    same = stratified_split(cohort, 0.3, seed=1, levels=[{"name": "malignancy"}])
    assert same.equals(split)


def test_split_without_node_counts_or_levels_is_a_clear_error():
    with pytest.raises(ValueError, match="no node counts.*pass levels="):
        stratified_split(clinical_malignancy_cohort(), 0.3, seed=1)


def test_split_keeps_nodal_class_when_there_are_node_counts(clinical_cohort):
    by, strata = split_strata(clinical_cohort, levels=LEVELS)
    assert by == "nodal_class" and set(strata) == {"N0", "N1-2", "N>=3"}


def test_table1_without_nodal_class():
    cohort = clinical_malignancy_cohort()
    split = stratified_split(cohort, 0.3, seed=1, levels=[MALIGNANCY])
    table = baseline_table(cohort, split, [{"name": "age", "type": "continuous", "unit": "years"}],
                           [MALIGNANCY])
    assert not table["variable"].str.startswith("nodal_class").any()
    assert {"malignancy: malignant != 1", "malignancy: malignant == 1"} <= set(table.columns)
    assert table.loc[0, "malignancy: malignant == 1"] == str(int(cohort["malignant"].sum()))


def test_table1_without_clinical_variables_or_node_counts_counts_the_patients():
    cohort = clinical_malignancy_cohort()
    split = stratified_split(cohort, 0.3, seed=1, levels=[MALIGNANCY])
    table = baseline_table(cohort, split, [], [MALIGNANCY])
    assert table["variable"].tolist() == ["n"]
    n_test = int((split["set"] == "test").sum())
    assert table.loc[0, "Overall"] == str(len(cohort)) and table.loc[0, "Test"] == str(n_test)
    assert table.loc[0, "malignancy: malignant == 1"] == str(int(cohort["malignant"].sum()))
    assert table.loc[0, "test"] == "" and table.loc[0, "p (malignancy)"] == ""


# --------------------------------------------------------------------------- modelling, evaluation


def test_level_data_reads_the_label_column():
    cohort = clinical_malignancy_cohort(40)
    split = stratified_split(cohort, 0.3, seed=1, levels=[MALIGNANCY])
    data = level_data(cohort, split, MALIGNANCY)
    assert data["y"].tolist() == cohort["malignant"].tolist()
    assert data["nodal_class"].isna().all()
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['malignant'\] read by level"):
        level_data(cohort.drop(columns=["malignant"]), split, MALIGNANCY)


def test_clinical_only_fit_and_evaluation_without_node_counts_or_ki67(tmp_path):
    cohort = clinical_malignancy_cohort(200)
    split = stratified_split(cohort, 0.3, seed=1, levels=[MALIGNANCY])
    variables = [{"name": "age", "type": "continuous"},
                 {"name": "tumor_size_mm", "type": "continuous"},
                 {"name": "aln_us_class", "type": "ordinal", "levels": [1, 2, 3, 4, 5, 6]}]
    pred = fit_level(cohort, split, None, None, MALIGNANCY, variables,
                     {"seed": 0, "models": {"cv_folds": 3, "rad_score_folds": 3}}, tmp_path)
    assert list(pred.columns) == [*PREDICTION_COLUMNS, *PREDICTION_EXTRA_COLUMNS]
    assert pred["nodal_class"].isna().all() and pred["ki67"].isna().all()
    assert set(pred["set"]) == {"train", "cv", "test"}
    test = pred[(pred["set"] == "test") & (pred["model"] == "clinical")]
    assert ev.performance_table(pred)["auc"].notna().all()
    assert 0.6 < ev.performance_table(pred).query("set == 'test'")["auc"].iloc[0] <= 1
    assert len(test) == (split["set"] == "test").sum()
    subgroups = ev.subgroup_table(pred)
    assert subgroups.empty
    assert list(subgroups.columns) == ev.SUBGROUP_COLUMNS


def test_clinical_only_cohort_with_ki67_has_subgroups_of_the_clinical_model(tmp_path):
    """The bug of a clinical-only cohort with Ki-67: the subgroup table compared radiomics
    and combined, which it lacks, came out empty and the forest plot failed."""
    from alnburden.design import StudyDesign
    from alnburden.evaluation.registry import evaluation_tables
    from alnburden.figures.forest import plot_subgroups_forest

    cohort = clinical_malignancy_cohort(200)
    cohort["ki67"] = np.round(10 + 30 * cohort["malignant"] + np.arange(200) % 17, 0)
    split = stratified_split(cohort, 0.3, seed=1, levels=[MALIGNANCY])
    ki67 = {"name": "ki67", "type": "continuous", "min": 0, "max": 100}
    pred = fit_level(cohort, split, None, None, MALIGNANCY, [ki67],
                     {"seed": 0, "models": {"cv_folds": 3, "rad_score_folds": 3}}, tmp_path)
    design = StudyDesign.from_config(
        {"levels": [{"name": "malignancy", "label": "malignant == 1"}],
         "clinical": {"variables": [ki67]}, "cohort": {"manifest": "m.csv"}},
        ["patient_id", "malignant", "ki67"])
    assert design.subgroup_models == ("clinical",)
    table = evaluation_tables(pred, ["subgroups"], subgroup_models=design.subgroup_models,
                              n_boot=0)["subgroups"]
    assert table["model"].tolist() == ["clinical", "clinical"] and table["n"].sum() > 0
    assert plot_subgroups_forest(table, tmp_path / "forest.png")[0].is_file()


def test_cascade_without_node_counts_is_a_clear_error(tmp_path):
    pred = pd.DataFrame({"patient_id": ["a", "b", "a", "b"], "level": ["l1", "l1", "l2", "l2"],
                         "set": ["test", "train", "test", "train"], "model": "combined",
                         "y_true": [0, 1, 0, 1], "p": [0.2, 0.8, 0.3, 0.7],
                         "rad_score": np.nan, "nodal_class": np.nan})
    with pytest.raises(ValueError, match="no nodal_class.*needs n_positive_nodes"):
        cs.cascade_predictions(pred, "l1", "l2", cutoffs={"l1": 0.5, "l2": 0.5})
