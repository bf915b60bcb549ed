"""The checklists name the split the study actually used: random, grouped (split.group),
user-given (split.column) or repeated (split.repeats), with the numbers of its split.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alnburden.cohort.split import make_split
from alnburden.reporting.fillers import FILLERS, RunRecord
from alnburden.reporting.fillers.split import split_facts

ROOT = Path(__file__).resolve().parents[1]
CI = yaml.safe_load((ROOT / "tests/data/ci_config.yaml").read_text())
#: The fillers whose text names the split or the test set.
SPLIT_ITEMS = ("data_split", "testing", "objectives", "data_source", "limitations",
               "train_vs_evaluation", "model_building")


def _cohort(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    nodes = rng.choice([0, 0, 1, 2, 3, 5], n)
    return pd.DataFrame({
        "patient_id": [f"p{i:02d}" for i in range(n)], "n_positive_nodes": nodes,
        "level1": (nodes > 0).astype(int),
        "level2": np.where(nodes > 0, (nodes >= 3).astype(float), np.nan),
        "case": [f"c{i // 3}" for i in range(n)],
        "cohort_set": np.where(np.arange(n) < 39, "train", " Test ")})


def _run(tmp_path: Path, split_cfg: dict) -> tuple[RunRecord, pd.DataFrame]:
    """A clinical-only run (manifest header without images) split as ``split_cfg`` asks."""
    cohort = _cohort()
    config = {**CI, "cohort": {"manifest": "cohort.csv"}, "split": split_cfg}
    split = make_split(cohort, split_cfg, CI["levels"])
    files = {"cohort": tmp_path / "cohort.csv", "split": tmp_path / "split.csv",
             "predictions": tmp_path / "predictions.csv",
             "performance": tmp_path / "performance.csv",
             "table1": tmp_path / "table1_baseline.csv",
             **{f"clinical_{lv['name']}": tmp_path / f"{lv['name']}_clinical.csv"
                for lv in CI["levels"]}}
    cohort.to_csv(files["cohort"], index=False)
    split.to_csv(files["split"], index=False)
    sets = split.set_index("patient_id")["set"]
    pd.DataFrame({"level": "level1", "model": "clinical", "set": cohort["patient_id"].map(sets),
                  "patient_id": cohort["patient_id"], "y_true": cohort["level1"]}
                 ).to_csv(files["predictions"], index=False)
    pd.DataFrame({"level": ["level1"], "model": ["clinical"], "set": ["test"]}
                 ).to_csv(files["performance"], index=False)
    return RunRecord({k: str(v) for k, v in files.items()}, config), split


def _texts(run: RunRecord) -> dict[str, str]:
    return {name: FILLERS[name](run).text for name in SPLIT_ITEMS}


def _sizes(split: pd.DataFrame) -> tuple[int, int]:
    return int((split["set"] == "train").sum()), int((split["set"] == "test").sum())


def test_random_split_states_its_fraction_seed_and_sizes(tmp_path):
    run, split = _run(tmp_path, {"test_fraction": 0.25, "seed": 11})
    n_train, n_test = _sizes(split)
    filled = FILLERS["data_split"](run)
    assert filled.text.startswith(f"Random split of patients (one row each) into training "
                                  f"({n_train}) and test ({n_test}) sets, test fraction 0.25, "
                                  "seed 11, stratified by nodal class")
    assert filled.facts["split"] == "random" and filled.facts["test_fraction"] == 0.25
    assert (filled.facts["n_train"], filled.facts["n_test"]) == (n_train, n_test) == (45, 15)
    texts = _texts(run)
    assert "divided by the random split." in texts["data_source"]
    assert "a random hold-out test set" in texts["objectives"]
    assert "one random split of one source" in texts["limitations"]
    assert "The test set is a random part of the same cohort" in texts["train_vs_evaluation"]
    for name, text in texts.items():
        assert "user-given" not in text and "group" not in text, name
        assert "repeated random split" not in text and "split.repeats" not in text, name
    assert FILLERS["clusters"](run).text.startswith("Not examined")


def test_grouped_split_names_the_groups_on_each_side(tmp_path):
    run, split = _run(tmp_path, {"group": "case", "test_fraction": 0.3, "seed": 5})
    n_train, n_test = _sizes(split)
    g_train = split.loc[split["set"] == "train", "group"].nunique()
    g_test = split.loc[split["set"] == "test", "group"].nunique()
    assert g_train + g_test == split["group"].nunique() == 20  # no group on both sides
    filled = FILLERS["data_split"](run)
    assert (f"Grouped random split (config split.group `case`): training {n_train} rows in "
            f"{g_train} groups and test {n_test} rows in {g_test} groups") in filled.text
    assert "test fraction 0.3 (approximate: whole groups), seed 5" in filled.text
    assert "each fold keeping a `case` group's rows together" in filled.text
    assert filled.facts["split"] == "grouped" and filled.facts["group"] == "case"
    assert (filled.facts["n_train"], filled.facts["n_test"]) == (n_train, n_test)
    for name, text in _texts(run).items():
        assert "`case`" in text, name
        assert "user-given" not in text, name
    assert f"({n_test} rows; {n_train} for development)" in FILLERS["testing"](run).text
    assert "clustered in `case` groups" in FILLERS["clusters"](run).text
    assert "60 rows in 20 groups of `case`" in FILLERS["data_source"](run).text


@pytest.mark.parametrize("group", [None, "case"])
def test_user_given_split_names_its_column_and_is_not_called_random(tmp_path, group):
    run, split = _run(tmp_path, {"column": "cohort_set", "group": group})
    assert _sizes(split) == (39, 21)  # the column's own train/test cells
    filled = FILLERS["data_split"](run)
    assert filled.text.startswith("User-given split: the manifest column `cohort_set` (config "
                                  "split.column) puts 39 patients in the training set and 21 "
                                  "patients in the test set, as given (not drawn by the workflow")
    assert filled.facts["split"] == "user" and filled.facts["column"] == "cohort_set"
    assert "test_fraction" not in filled.facts and "seed 2026" not in filled.text
    assert ("every `case` group is on one side" in filled.text) == (group is not None)
    for name, text in _texts(run).items():
        assert "random" not in text.lower(), name
        assert "`cohort_set`" in text, name


def test_repeated_splits_are_named_with_their_count(tmp_path):
    run, split = _run(tmp_path, {"repeats": 3, "seed": 11})
    filled = FILLERS["data_split"](run)
    assert ("The whole level fit was also repeated on 3 seeded random splits of the same kind "
            "(config split.repeats") in filled.text
    assert filled.facts["repeats"] == 3 and filled.facts["split"] == "random"
    texts = _texts(run)
    assert "3 repeated random splits" in texts["objectives"]
    assert "the whole fit was also repeated on 3 random splits" in texts["testing"]
    assert "one random split of one source (and 3 repeated random splits)" in texts["limitations"]
    # the repeats' table is evidence once a rule writes it
    table = tmp_path / "repeated_splits.csv"
    table.write_text("level,model,repeats\nlevel1,clinical,3\n")
    lit = RunRecord({**run.files, "repeated_splits": str(table)}, run.config)
    assert str(table) in FILLERS["data_split"](lit).evidence
    assert str(table) not in filled.evidence


def test_split_facts_take_the_schema_defaults(tmp_path):
    run, split = _run(tmp_path, {})
    facts = split_facts(run)
    assert (facts.kind, facts.test_fraction, facts.seed, facts.repeats) == ("random", 0.3,
                                                                             2026, 0)
    assert (facts.n_train, facts.n_test) == _sizes(split)
