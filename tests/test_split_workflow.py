"""split.column, split.group and split.repeats end to end, on tiny clinical-only cohorts
(the split stage and the level fits are what these keys change; the radiomics arm of a
grouped fit is covered by tests/test_folds_repeats.py)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import run_workflow
from test_partial_designs import Cell, dag_rules, snakemake, write_cohort

from alnburden.cohort.split import repeat_seed

CLINICAL = Cell(images=False, ki67=True, two_levels=True, node_counts=True, clinical=True)


def _config(tmp_path, manifest, **split) -> "Path":  # noqa: F821
    config = CLINICAL.config(manifest)
    config["split"].update(split)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.workflow
def test_user_given_split_column(tmp_path):
    manifest = write_cohort(CLINICAL, tmp_path / "cohort", n=36)
    df = pd.read_csv(manifest, dtype=str)
    df["centre_split"] = ["Test" if i % 10 < 3 else "train" for i in range(len(df))]
    df.to_csv(manifest, index=False)
    configfile = _config(tmp_path, manifest, column="centre_split")
    work = tmp_path / "work"
    work.mkdir()
    run_workflow(configfile, work, "--cores", "1", "--no-hooks", "results/summary.md")
    split = pd.read_csv(work / "results/cohort/split.csv", dtype={"patient_id": str})
    assert split["set"].tolist() == df["centre_split"].str.lower().tolist()
    pred = pd.read_csv(work / "results/predictions.csv", dtype={"patient_id": str})
    test_ids = set(pred.loc[pred["set"] == "test", "patient_id"])
    assert test_ids == set(df.loc[df["centre_split"] == "Test", "patient_id"])
    assert "skipped: table repeated_splits" in (work / "results/summary.md").read_text()
    # a bad cell stops the run at validation, naming the row
    df.loc[4, "centre_split"] = "validation"
    df.to_csv(manifest, index=False)
    proc = snakemake(configfile, work, "--cores", "1", "--no-hooks", "results/summary.md")
    assert proc.returncode != 0
    assert "'validation', not train or test" in (
        work / "results/cohort/validation_report.csv").read_text()


@pytest.mark.workflow
def test_grouped_split_with_repeats(tmp_path):
    manifest = write_cohort(CLINICAL, tmp_path / "cohort", n=48)
    df = pd.read_csv(manifest, dtype=str)
    df["patient"] = [f"G{i // 2:02d}" for i in range(len(df))]  # two rows per patient
    df.to_csv(manifest, index=False)
    configfile = _config(tmp_path, manifest, group="patient", repeats=2)
    work = tmp_path / "work"
    work.mkdir()
    figures = [f"results/figures/{lv}_repeated_splits.{ext}" for lv in ("level1", "level2")
               for ext in ("png", "pdf")]
    run_workflow(configfile, work, "--cores", "1", "--no-hooks", "results/summary.md", *figures)
    results = work / "results"
    main = pd.read_csv(results / "cohort/split.csv", dtype={"patient_id": str})
    assert main.groupby("group")["set"].nunique().eq(1).all()
    assert abs((main["set"] == "test").mean() - 0.3) < 0.1
    sides = []
    for k in range(2):
        rep = pd.read_csv(results / f"repeats/r{k}/split.csv", dtype={"patient_id": str})
        assert rep.groupby("group")["set"].nunique().eq(1).all()
        sides.append(rep["set"].tolist())
        for level in ("level1", "level2"):
            card = (results / f"repeats/r{k}/{level}/models/model_card.json")
            assert card.is_file()
    assert len({tuple(s) for s in sides + [main["set"].tolist()]}) == 3  # three splits
    assert repeat_seed(7, 0) != repeat_seed(7, 1)
    table = pd.read_csv(results / "tables/repeated_splits.csv")
    assert set(table["level"]) == {"level1", "level2"}
    assert set(table["model"]) == {"clinical"}
    assert (table["repeats"] == 2).all()
    aucs = pd.read_csv(results / "repeats/test_aucs.csv")
    assert len(aucs) == 2 * 2
    for level in ("level1", "level2"):
        for ext in ("png", "pdf"):
            assert (results / f"figures/{level}_repeated_splits.{ext}").is_file()
    summary = (results / "summary.md").read_text()
    assert "## Repeated random splits (test AUC)" in summary
    assert "(2 repeats)" in summary
    # one more repeat refits that repeat only: the study's split and fits are not rerun
    more = _config(tmp_path, manifest, group="patient", repeats=3)
    jobs = dag_rules(snakemake(more, work, "-n", "--no-hooks", "results/summary.md", *figures))
    assert jobs["repeat_split"] == 1 and jobs["repeat_fit_level"] == 2
    assert not {"validate_cohort", "split_cohort", "fit_level"} & set(jobs)
