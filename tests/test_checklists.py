"""The TRIPOD+AI and CLEAR checklists: complete item lists, and every item the run fills
states what the run's own files say."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alnburden.design import StudyDesign
from alnburden.evaluation.registry import table_names
from alnburden.reporting.checklists import (AUTHORS, CHECKLISTS, checklist_files,
                                            fill_checklist, load_checklist, render_checklist)
from alnburden.reporting.fillers import (FILLERS, RunRecord, discretisation_settings, feature_class_counts,
                                         level_counts, missing_counts, set_counts)

ROOT = Path(__file__).resolve().parents[1]

TRIPOD_NUMBERS = ("1 2 3a 3b 3c 4 5a 5b 6a 6b 6c 7 8a 8b 8c 9a 9b 9c 10 11 12a 12b 12c 12d "
                  "12e 12f 12g 13 14 15 16 17 18a 18b 18c 18d 18e 18f 19 20a 20b 20c 21 22 "
                  "23a 23b 24 25 26 27a 27b 27c").split()


def test_tripod_ai_has_27_items_and_52_sub_items():
    cl = load_checklist("tripod_ai")
    numbers = [it.number for it in cl.items]
    assert numbers == TRIPOD_NUMBERS
    assert len({re.match(r"\d+", n).group(0) for n in numbers}) == 27
    assert "BMJ 2024;385:e078378" in cl.reference


def test_clear_has_58_items():
    cl = load_checklist("clear")
    assert [it.number for it in cl.items] == [str(i) for i in range(1, 59)]
    assert "Insights Imaging 2023;14:75" in cl.reference


@pytest.mark.parametrize("name", CHECKLISTS)
def test_items_are_filled_or_left_to_the_authors(name):
    for it in load_checklist(name).items:
        assert it.filler in FILLERS if it.filler else it.authors, it.number
        assert 0 < len(it.title) <= 110, f"{name} {it.number}: keep titles short"


def test_what_no_workflow_can_know_is_for_the_authors():
    authors_only = {"tripod_ai": ["5b", "8c", "17", "18a", "18b", "18d", "19"],
                    "clear": ["8", "14", "36"]}
    for name, numbers in authors_only.items():
        items = {it.number: it for it in load_checklist(name).items}
        for n in numbers:
            assert items[n].filler is None and items[n].authors, (name, n)


def test_unknown_checklist_and_filler_are_refused(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no checklist 'stard'"):
        load_checklist("stard")
    monkeypatch.delitem(FILLERS, "sample_size")
    with pytest.raises(ValueError, match=r"unknown filler\(s\) \['sample_size'\]"):
        load_checklist("tripod_ai")


def test_counts_of_a_small_cohort():
    cohort = pd.DataFrame({"patient_id": ["a", "b", "c", "d", "e"],
                           "level1": [0, 1, 1, 1, 0], "level2": [np.nan, 0, 1, 1, np.nan],
                           "age": [50, np.nan, 60, 70, np.nan]})
    split = pd.DataFrame({"patient_id": ["a", "b", "c", "d", "e"],
                          "set": ["train", "train", "test", "train", "test"]})
    c = level_counts(cohort, split, ["level1", "level2"])
    assert c["level1"] == {"n": 5, "events": 3, "train_n": 3, "train_events": 2,
                           "test_n": 2, "test_events": 1}
    assert c["level2"] == {"n": 3, "events": 2, "train_n": 2, "train_events": 1,
                           "test_n": 1, "test_events": 1}
    assert missing_counts(cohort, ["age"]) == {"age": 2}
    pred = pd.DataFrame({"level": "level1", "set": ["train"] * 4 + ["test"] * 2,
                         "model": ["m", "m", "k", "k", "m", "k"], "y_true": [1, 0, 1, 0, 1, 1]})
    assert set_counts(pred) == {"level1": {"test": (1, 1), "train": (2, 1)}}


def test_discretisation_and_feature_classes():
    """The wavelets use a fixed bin count (config/radiomics.yaml), the others a bin width."""
    params = yaml.safe_load((ROOT / "config/radiomics.yaml").read_text())
    assert discretisation_settings(params) == {"Original": "bin width 10",
                                               "LoG": "bin width 2.5",
                                               "Wavelet": "bin count 32"}
    assert feature_class_counts(["intra_original_glcm_Contrast", "peri3mm_log-sigma-1-0-mm-3D_"
                                 "glcm_Idm", "intra_original_shape2D_Elongation"]) == {
        "glcm": 2, "shape2D": 1}


def test_render_marks_the_authors_items():
    cl = load_checklist("tripod_ai")
    filled = [(it, None) for it in cl.items]
    md = render_checklist(cl, filled, "my study")
    assert md.startswith("# TRIPOD+AI checklist: my study")
    assert md.count(AUTHORS) == 52 and "| 17 | **Ethical approval**" in md


# --------------------------------------------------------------------------- a real run
def _run_record(work: Path) -> RunRecord:
    config = yaml.safe_load((work / "results/logs/run_config.yaml").read_text())
    design = StudyDesign.from_config(config)
    files = checklist_files(design, table_names(design), str(ROOT / config["radiomics"]["params"]),
                            str(work / "results"), produced=lambda path: Path(path).exists())
    return RunRecord(files, config)


def _cells(md: str) -> dict[str, list[str]]:
    """Item number -> the cells of its row in a rendered checklist."""
    rows = {}
    for line in md.splitlines():
        m = re.match(r"\| (\w+) \| (.*) \|$", line)
        if m and m.group(1) not in ("No",):
            rows[m.group(1)] = [c.strip() for c in re.split(r"(?<!\\)\|", m.group(2))]
    return rows


def _independent_counts(cohort: pd.DataFrame, split: pd.DataFrame) -> dict:
    """The level counts of the CI study from the node counts (not from the label columns)."""
    sets = dict(zip(split["patient_id"].astype(str), split["set"]))
    nodes = cohort.set_index(cohort["patient_id"].astype(str))["n_positive_nodes"]
    out = {}
    for name, pop, lab in (("level1", nodes >= 0, nodes > 0),
                           ("level2", nodes > 0, nodes >= 3)):
        ids = nodes.index[pop]
        y = lab[pop].astype(int)
        s = np.array([sets[i] for i in ids])
        out[name] = {"n": len(ids), "events": int(y.sum()),
                     **{f"{k}_n": int((s == k).sum()) for k in ("train", "test")},
                     **{f"{k}_events": int(y[s == k].sum()) for k in ("train", "test")}}
    return out


def _ints(x, out=None) -> list[int]:
    """Integer facts (missing-value counts are stated as "none" when zero: left out)."""
    out = [] if out is None else out
    if isinstance(x, dict):
        for k, v in x.items():
            if k not in ("missing", "total"):
                _ints(v, out)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _ints(v, out)
    elif isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        out.append(int(x))
    return out


@pytest.mark.workflow
def test_every_filled_item_states_the_runs_own_files(e2e_run):
    work = e2e_run
    run = _run_record(work)
    cohort = pd.read_csv(work / "results/cohort/cohort.csv", dtype={"patient_id": str})
    split = pd.read_csv(work / "results/cohort/split.csv", dtype={"patient_id": str})
    pred = pd.read_csv(work / "results/predictions.csv", dtype={"patient_id": str})
    perf = pd.read_csv(work / "results/tables/performance.csv")
    icc = pd.read_csv(work / "results/features/icc.csv")
    sidecar = json.loads((work / "results/features/radiomics.json").read_text())
    params = yaml.safe_load((ROOT / run.config["radiomics"]["params"]).read_text())
    counts = _independent_counts(cohort, split)
    n_checked = 0
    for name in CHECKLISTS:
        md = (work / f"results/checklists/{name}.md").read_text()
        rows = _cells(md)
        checklist = load_checklist(name)
        assert list(rows) == [it.number for it in checklist.items]
        for item, filled in fill_checklist(checklist, run):
            text = rows[item.number][1]
            if filled is None:
                assert text == AUTHORS, (name, item.number)
                continue
            n_checked += 1
            # the Markdown says what the filler reads from the run's files, with its evidence
            assert text == " ".join(filled.text.split()).replace("|", "\\|"), (name, item.number)
            for path in filled.evidence:
                assert Path(path).exists(), (name, item.number, path)
            for k in _ints(filled.facts):
                assert re.search(rf"(?<![\d.]){k:,}(?![\d])", text), (name, item.number, k)
            f = filled.facts
            if "n_patients" in f:
                assert f["n_patients"] == len(cohort)
            if isinstance(f.get("levels"), dict):
                for lv, c in f["levels"].items():
                    if isinstance(c, dict):
                        assert c == {k: counts[lv][k] for k in c}, (name, item.number)
                    else:
                        assert c == counts[lv]["n"], (name, item.number)
            if "missing" in f:
                assert f["missing"] == {v["name"]: int(cohort[v["name"]].isna().sum())
                                        for v in run.config["clinical"]["variables"]}
            if "sets" in f:
                for lv, sets in f["sets"].items():
                    for s, (n, e) in sets.items():
                        g = pred[(pred["level"] == lv) & (pred["set"] == s)
                                 & (pred["model"] == "combined")]
                        assert (n, e) == (len(g), int(g["y_true"].sum()))
                    assert sets["train"] == [counts[lv]["train_n"], counts[lv]["train_events"]]
                    assert sets["test"] == [counts[lv]["test_n"], counts[lv]["test_events"]]
            if "n_train" in f:
                assert (f["n_train"], f["n_test"]) == tuple(
                    int((split["set"] == s).sum()) for s in ("train", "test"))
            if "kept" in f:
                assert f["kept"] == int(icc["kept"].astype(str).isin(["True", "1"]).sum())
                assert f["n"] == len(icc)
                assert f["threshold"] == run.config["radiomics"]["robustness"]["threshold"]
            if "selected" in f:
                for lv, n in f["selected"].items():
                    assert n == len(pd.read_csv(work / f"results/{lv}/selection/"
                                                "selected_features.csv"))
            if "chosen" in f:
                for lv, learner in f["chosen"].items():
                    cv = pd.read_csv(work / f"results/{lv}/models/learners_cv.csv")
                    assert learner == cv.loc[cv["chosen"], "learner"].item()
            if "cutoffs" in f:
                for key, c in f["cutoffs"].items():
                    lv, m = key.split("/")
                    row = perf[(perf["level"] == lv) & (perf["model"] == m)
                               & (perf["set"] == "test")]
                    assert c == pytest.approx(float(row["cutoff"].item()))
                    assert f"{lv} {m} {c:.3f}" in text
            if "test_auc" in f:
                for lv, aucs in f["test_auc"].items():
                    for m, auc in aucs.items():
                        row = perf[(perf["level"] == lv) & (perf["model"] == m)
                                   & (perf["set"] == "test")]
                        assert auc == round(float(row["auc"].item()), 2)
                        assert f"{m} {auc:.2f}" in text
            if "discretisation" in f:
                for name, how in f["discretisation"].items():
                    own = {**params["setting"], **(params["imageType"][name] or {})}
                    key = "binCount" if "binCount" in own else "binWidth"
                    assert how == f"bin {key[3:].lower()} {float(own[key]):g}"
                    assert f"{name} {how}" in text
            if "pyradiomics" in f:
                assert f["pyradiomics"] == sidecar["pyradiomics_version"]
                assert f["pyradiomics"] in text
            if "peritumoral_mm" in f:
                assert f["peritumoral_mm"] == run.config["radiomics"]["peritumoral_mm"]
            if "n_features" in f and f["n_features"]:
                assert f["n_features"] == pd.read_parquet(
                    work / "results/features/radiomics.parquet").shape[1] - 1
            if "alnburden" in f:
                assert f["alnburden"] == version("alnburden")
    assert n_checked >= 70


@pytest.mark.workflow
def test_optional_files_light_up_their_items(e2e_run, tmp_path):
    """Nested CV rows, a sample-size table and SHAP tables, once another stage writes them,
    are read by the items that report them."""
    run = _run_record(e2e_run)
    pred = run.table("predictions")
    nested = pred[pred["set"] == "cv"].assign(set="nested")
    files = dict(run.files)
    files["predictions"] = str(tmp_path / "predictions.csv")
    pd.concat([pred, nested]).to_csv(files["predictions"], index=False)
    files["sample_size"] = str(tmp_path / "sample_size.csv")
    pd.DataFrame({"level": ["level1"], "model": ["combined"], "parameters": [12],
                  "n_min": [431], "binding": ["shrinkage"], "n": [33],
                  "adequate": [False]}).to_csv(files["sample_size"], index=False)
    files["shap_level1"] = str(tmp_path / "level1_shap.csv")
    Path(files["shap_level1"]).write_text("feature,mean_abs_shap\nx,0.1\n")
    lit = RunRecord(files, run.config)
    riley = FILLERS["sample_size"](lit).text
    assert "minimum 431 patients (shrinkage criterion), training set 33 patients: is below" in riley
    # the same run without the optional stages' files (a run whose stages did not write them)
    bare = RunRecord({k: v for k, v in run.files.items()
                      if k != "sample_size" and not k.startswith("shap_")}, run.config)
    assert "not computed" in FILLERS["sample_size"](bare).text
    assert "nested cross-validation" in FILLERS["objectives"](lit).text
    assert "nested CV" in FILLERS["analysis_counts"](lit).text
    assert "SHAP" in FILLERS["explainability"](lit).text
    assert "SHAP" not in FILLERS["explainability"](bare).text
