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


@pytest.mark.parametrize("rule", ["nodes > 0", "n_positive_nodes => 3", "n_positive_nodes > x", ""])
def test_bad_rule_is_rejected(rule):
    with pytest.raises(ValueError, match="n_positive_nodes <op> <integer>"):
        parse_rule(rule)


def test_duplicate_level_names_rejected():
    with pytest.raises(ValueError, match="unique"):
        levels_from_config({"levels": [{"name": "a", "label": "n_positive_nodes > 0"}] * 2})


def test_nodal_class():
    assert nodal_class(np.array([0, 1, 2, 3, 10])).tolist() == ["N0", "N1-2", "N1-2", "N>=3", "N>=3"]
