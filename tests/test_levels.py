import numpy as np
import pandas as pd
import pytest

from alnburden.levels import Level, add_level_labels, levels_from_config, nodal_class, parse_rule


def test_default_hierarchy_labels():
    levels = levels_from_config({"levels": [
        {"name": "level1", "population": "all", "label": "n_positive_nodes > 0"},
        {"name": "level2", "population": "n_positive_nodes > 0", "label": "n_positive_nodes >= 3"},
    ]})
    cohort = pd.DataFrame({"patient_id": list("abcde"), "n_positive_nodes": [0, 1, 2, 3, 7]})
    out = add_level_labels(cohort, levels)
    assert out["level1"].tolist() == [0, 1, 1, 1, 1]
    assert out["level2"].isna().tolist() == [True, False, False, False, False]
    assert out["level2"].dropna().tolist() == [0, 0, 1, 1]
    assert "level1" not in cohort  # input untouched


def test_user_threshold_four_nodes():
    lv = Level(name="burden4", population="n_positive_nodes > 0", label="n_positive_nodes >= 4")
    assert lv.labels([1, 3, 4, 9]).tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize("rule", ["n_positive_nodes => 3", "n_positive_nodes > x", "",
                                  "3 > n_positive_nodes", "malignant = 1", "all > 0 and x",
                                  "a b > 1"])
def test_bad_rule_is_rejected(rule):
    with pytest.raises(ValueError, match=r"'<column> <op> <number>'"):
        parse_rule(rule)


@pytest.mark.parametrize("rule, column, op, value", [
    ("n_positive_nodes > 0", "n_positive_nodes", ">", 0.0),
    ("malignant == 1", "malignant", "==", 1.0),
    ("  birads>=4 ", "birads", ">=", 4.0),
    ("score < -1.5", "score", "<", -1.5),
    ("x <= .25", "x", "<=", 0.25),
])
def test_rule_on_any_numeric_column(rule, column, op, value):
    r = parse_rule(rule)
    assert (r.column, r.op, r.value) == (column, op, value)


def test_rules_read_the_cohort_dataframe():
    cohort = pd.DataFrame({"patient_id": list("abcd"), "malignant": [0, 1, 1, 0],
                           "birads": [2, 5, 4, 4]})
    lv = Level(name="malignancy", label="malignant == 1")
    assert lv.labels(cohort).tolist() == [0, 1, 1, 0]
    assert lv.in_population(cohort).all()
    assert lv.columns == ("malignant",)
    sub = Level(name="suspicious_malignant", population="birads >= 4", label="malignant == 1")
    assert sub.in_population(cohort).tolist() == [False, True, True, True]
    assert sub.columns == ("birads", "malignant")
    out = add_level_labels(cohort, [lv, sub])
    assert out["malignancy"].tolist() == [0, 1, 1, 0]
    assert out["suspicious_malignant"].isna().tolist() == [True, False, False, False]
    assert out["suspicious_malignant"].dropna().tolist() == [1, 1, 0]


def test_the_counts_api_still_works_on_the_node_count():
    lv = Level(name="level2", population="n_positive_nodes > 0", label="n_positive_nodes >= 3")
    n = np.array([0, 1, 3])
    assert lv.in_population(n).tolist() == [False, True, True]
    assert parse_rule("n_positive_nodes > 0")(n).tolist() == [False, True, True]
    frame = pd.DataFrame({"n_positive_nodes": n})
    assert lv.labels(frame).tolist() == lv.labels(n).tolist() == [0, 0, 1]


def test_missing_label_value_stays_missing():
    cohort = pd.DataFrame({"malignant": pd.array([1, pd.NA, 0], dtype="Int64")})
    out = add_level_labels(cohort, [Level(name="m", label="malignant == 1")])
    assert out["m"].isna().tolist() == [False, True, False]


def test_missing_rule_column_names_the_column():
    lv = Level(name="malignancy", label="malignant == 1")
    with pytest.raises(KeyError, match="needs column 'malignant'"):
        add_level_labels(pd.DataFrame({"n_positive_nodes": [0, 1]}), [lv])


def test_non_numeric_rule_column_is_an_error():
    lv = Level(name="malignancy", label="malignant == 1")
    with pytest.raises(ValueError, match="column 'malignant' is not numeric"):
        lv.labels(pd.DataFrame({"malignant": ["yes", "no"]}))


def test_level_named_like_its_rule_column_rejected():
    with pytest.raises(ValueError, match=r"reads column\(s\) \['malignant'\].*rename the level"):
        levels_from_config({"levels": [{"name": "malignant", "label": "malignant == 1"}]})


def test_config_schema_accepts_the_general_rules():
    import re

    from alnburden.schemas import CONFIG_SCHEMA, load_schema

    schema = load_schema(CONFIG_SCHEMA)
    props = schema["properties"]["levels"]["items"]["properties"]
    for rule in ["n_positive_nodes >= 3", "malignant == 1", "score < -1.5"]:
        assert re.search(props["label"]["pattern"], rule)
        assert re.search(props["population"]["pattern"], rule)
        parse_rule(rule)  # the schema and the parser agree
    assert re.search(props["population"]["pattern"], "all")
    for rule in ["all", "malignant = 1", "nodes => 3"]:
        assert not re.search(props["label"]["pattern"], rule)


def test_duplicate_level_names_rejected():
    with pytest.raises(ValueError, match="unique"):
        levels_from_config({"levels": [{"name": "a", "label": "n_positive_nodes > 0"}] * 2})


def test_nodal_class():
    assert nodal_class(np.array([0, 1, 2, 3, 10])).tolist() == ["N0", "N1-2", "N1-2", "N>=3", "N>=3"]


def test_a_levels_own_nested_folds_replace_the_configs():
    from alnburden.design import StudyDesign

    config = {"levels": [{"name": "a", "label": "n_positive_nodes > 0"},
                         {"name": "b", "population": "n_positive_nodes > 0",
                          "label": "n_positive_nodes >= 3", "nested_folds": 10}],
              "clinical": {"variables": [{"name": "age", "type": "continuous"}]},
              "cohort": {}, "internal_validation": {"nested": {"folds": 4, "repeats": 2}}}
    a, b = levels_from_config(config)
    assert (a.nested_folds, b.nested_folds) == (None, 10)
    assert (a.outer_folds_or(4), b.outer_folds_or(4)) == (4, 10)
    design = StudyDesign.from_config(config)
    assert design.nested_fold_ids_of("a") == list(range(8))       # 4 folds x 2 repeats
    assert design.nested_fold_ids_of("b") == list(range(20))      # 10 folds x 2 repeats
    with pytest.raises(KeyError, match="no level 'c'"):
        design.nested_fold_ids_of("c")
    off = {**config, "internal_validation": {"nested": {"enabled": False}}}
    assert StudyDesign.from_config(off).nested_fold_ids_of("b") == []


def test_schema_refuses_one_outer_fold():
    import jsonschema

    from alnburden.schemas import CONFIG_SCHEMA, load_schema

    item = load_schema(CONFIG_SCHEMA)["properties"]["levels"]["items"]
    jsonschema.validate({"name": "a", "label": "x > 0", "nested_folds": 10}, item)
    with pytest.raises(jsonschema.ValidationError, match="minimum of 2"):
        jsonschema.validate({"name": "a", "label": "x > 0", "nested_folds": 1}, item)
