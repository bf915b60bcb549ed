"""The whole level fit inside the bootstrap (config internal_validation.bootstrap.whole_fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alnburden.modeling.level_fit as level_fit
import alnburden.modeling.whole_fit as wf
from alnburden.design import StudyDesign
from alnburden.evaluation.internal_validation import (INTERNAL_VALIDATION_COLUMNS,
                                                      internal_validation_summary,
                                                      internal_validation_table)
from alnburden.modeling.whole_fit import (RESAMPLE_COLUMNS, WHOLE_FIT_COLUMNS,
                                          WHOLE_FIT_PROCEDURE, build_resample, draw_resample,
                                          fit_resample, resample_optimism, whole_fit_table)
from test_leakage import SEEN, Spy
from test_modeling import CONFIG, LEVEL1, VARIABLES, synthetic_study


def _base(ids) -> set[str]:
    return {str(i).rsplit("~", 1)[0] for i in ids}


# --------------------------------------------------------------------------- the resample


def test_draw_is_stratified_reproducible_and_draws_whole_groups():
    y = np.r_[np.zeros(12), np.ones(8)].astype(int)
    rows = draw_resample(y, None, seed=3, b=0)
    assert len(rows) == 20 and np.bincount(y[rows]).tolist() == [12, 8]
    assert len(set(rows)) < 20                                   # with replacement
    assert np.array_equal(rows, draw_resample(y, None, seed=3, b=0))
    assert not np.array_equal(rows, draw_resample(y, None, seed=3, b=1))
    groups = np.repeat([f"g{i}" for i in range(10)], 2)          # two rows per group
    rows = draw_resample(y, groups, seed=3, b=0)
    drawn = pd.Series(groups[rows])
    assert (drawn.value_counts() % 2 == 0).all()                 # a group comes whole
    assert drawn.nunique() < 10


def _tiny_study():
    cohort, split, features, _ = synthetic_study(40, 6, seed=1)
    train = split.loc[split["set"] == "train", "patient_id"]
    pert = features[features["patient_id"].isin(train)]
    long = pd.concat([pert.assign(rater=0), pert.assign(rater=1)], ignore_index=True)
    return cohort, split, features, {"perturbation": long}


def test_copies_get_their_own_ids_one_group_and_the_source_rows():
    cohort, split, features, pert = _tiny_study()
    train = level_fit.level_data(cohort, split, LEVEL1).query("set == 'train'")
    rows = np.r_[0, 0, 0, 1, 5, 5, np.arange(6, len(train))]
    res = build_resample(cohort, split, features, pert, LEVEL1, rows)
    ids = train["patient_id"].to_numpy()
    first = ids[0]
    assert list(res.copy_ids[:3]) == [f"{first}~1", f"{first}~2", f"{first}~3"]
    assert len(set(res.copy_ids)) == len(rows)                     # every copy its own id
    assert not set(res.copy_ids) & set(cohort["patient_id"])
    sp = res.split.set_index("patient_id")
    assert set(sp.loc[res.copy_ids, "set"]) == {"train"}
    assert sp.loc[list(res.copy_ids[:3]), "group"].nunique() == 1  # one patient, one group
    assert sp.loc[res.copy_ids[0], "group"] != sp.loc[res.copy_ids[3], "group"]
    # the originals: ids untouched, the test rows of the resample's fit
    assert list(res.original_ids) == list(ids)
    assert set(sp.index[sp["set"] == "test"]) == set(ids)
    level_test = set(split.loc[split["set"] == "test", "patient_id"])
    assert not level_test & set(res.cohort["patient_id"])          # the test set is not read
    f = res.features.set_index("patient_id")
    src = features.set_index("patient_id")
    for copy, source in zip(res.copy_ids, res.source_ids):
        assert f.loc[copy].equals(src.loc[source])
    c = res.cohort.set_index("patient_id")
    assert c.loc[f"{first}~2"].drop("nodal_class").equals(
        cohort.set_index("patient_id").loc[first].drop("nodal_class"))
    p = res.perturbations["perturbation"]
    assert sorted(p.loc[p["patient_id"] == f"{first}~3", "rater"]) == [0, 1]
    assert set(p["patient_id"]) == set(res.copy_ids)               # copies only: the ICC's rows
    unperturbed = {"perturbation": pert["perturbation"].query("patient_id != @first")}
    p = build_resample(cohort, split, None, unperturbed, LEVEL1, rows).perturbations
    assert set(p["perturbation"]["patient_id"]) == set(res.copy_ids[3:])  # none: no copies
    with pytest.raises(ValueError, match="already patient ids"):
        clash = cohort.copy()
        clash.loc[clash["patient_id"] == ids[-1], "patient_id"] = f"{first}~1"
        build_resample(clash, split.replace({ids[-1]: f"{first}~1"}), None, None, LEVEL1,
                       rows)
    with pytest.raises(ValueError, match="no row in the radiomics table"):
        build_resample(cohort, split, features[features["patient_id"] != first], None,
                       LEVEL1, rows)


def test_split_groups_are_carried_to_the_copies():
    cohort, split, features, _ = _tiny_study()
    split = split.assign(group=split["patient_id"].str[:4])        # P000..P003: 10 per group
    train = level_fit.level_data(cohort, split, LEVEL1).query("set == 'train'")
    res = build_resample(cohort, split, None, None, LEVEL1, np.arange(len(train)))
    g = res.split.set_index("patient_id")["group"]
    assert (g.loc[res.copy_ids].to_numpy() == g.loc[res.source_ids].to_numpy()).all()


# --------------------------------------------------------------------------- the arithmetic


def _preds(set_name, y, p, model="clinical", ids=None):
    ids = ids or [f"P{i}" for i in range(len(y))]
    return pd.DataFrame({"patient_id": ids, "level": "level1", "set": set_name,
                         "model": model, "y_true": y, "p": p})


def test_optimism_arithmetic_on_a_hand_computed_case():
    # resample (apparent in the resample): pairs (pos, neg) ordered 3 of 4 -> AUC 0.75;
    # Brier (0.1^2 + 0.4^2 + 0.65^2 + 0.2^2) / 4 = 0.158125
    fit_b = pd.concat([_preds("train", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8],
                              ids=["A~1", "A~2", "B~1", "C~1"]),
                       # original patients: 2 of 4 -> AUC 0.5; Brier 1.35 / 4 = 0.3375
                       _preds("test", [0, 1, 0, 1], [0.6, 0.3, 0.7, 0.9],
                              ids=["A", "B", "C", "D"])])
    r = resample_optimism(fit_b, "level1", 0).set_index("metric")
    assert list(r.columns) == [c for c in RESAMPLE_COLUMNS if c != "metric"]
    assert r.loc["auc", "training"] == pytest.approx(0.75)
    assert r.loc["auc", "test"] == pytest.approx(0.5)
    assert r.loc["auc", "optimism"] == pytest.approx(0.25)
    assert r.loc["brier", "optimism"] == pytest.approx(0.158125 - 0.3375)
    assert r.loc["auc", "n_rows"] == 4 and r.loc["auc", "n_patients"] == 3
    assert r.loc["auc", "n_oob"] == 1 and np.isnan(r.loc["auc", "oob"])  # D alone: one class
    # a second resample with AUC optimism 0.05, an empty (skipped) one; apparent AUC 1.0
    second = r.reset_index().assign(resample=1, training=0.80, test=0.75, optimism=0.05,
                                    oob=0.7)
    apparent = _preds("train", [0, 1, 0, 1], [0.2, 0.9, 0.3, 0.8])
    table = whole_fit_table([r.reset_index()[RESAMPLE_COLUMNS], second[RESAMPLE_COLUMNS],
                             pd.DataFrame(columns=RESAMPLE_COLUMNS)], apparent, "level1",
                            "p_value")
    assert list(table.columns) == WHOLE_FIT_COLUMNS
    table = table.set_index("metric")
    assert table.loc["auc", "apparent"] == pytest.approx(1.0)
    assert table.loc["auc", "optimism"] == pytest.approx((0.25 + 0.05) / 2)
    assert table.loc["auc", "corrected"] == pytest.approx(1.0 - 0.15)
    assert table.loc["auc", "n_resamples"] == 2
    assert table.loc["auc", "oob"] == pytest.approx(0.7)                 # the one that exists
    assert table.loc["brier", "apparent"] == pytest.approx((0.04 + 0.01 + 0.09 + 0.04) / 4)
    assert set(table["procedure"]) == {WHOLE_FIT_PROCEDURE}


def test_the_internal_validation_table_gains_the_whole_fit_rows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    p = np.clip(0.3 * y + rng.uniform(0.1, 0.6, 60), 0.01, 0.99)
    pred = pd.concat([_preds(s, y, p, model=m) for s in ("train", "test")
                      for m in ("radiomics", "clinical")])
    logistic = pd.DataFrame({"level": "level1", "model": "clinical", "metric": ["auc"],
                             "apparent": [0.8], "training": [0.82], "test": [0.77],
                             "optimism": [0.05], "corrected": [0.75], "n_resamples": [200],
                             "strategy": ["p_value"]})
    whole = pd.DataFrame({"level": "level1", "model": ["radiomics", "clinical"],
                          "metric": "auc", "apparent": [0.9, 0.8], "training": [0.95, 0.85],
                          "test": [0.8, 0.78], "optimism": [0.15, 0.07],
                          "corrected": [0.75, 0.73], "n_resamples": 2,
                          "strategy": [np.nan, "p_value"], "procedure": WHOLE_FIT_PROCEDURE,
                          "learners_chosen": ["knn 2", np.nan]})
    table = internal_validation_table(pred, pd.concat([logistic, whole], ignore_index=True))
    assert list(table.columns) == INTERNAL_VALIDATION_COLUMNS
    assert table["procedure"].tolist() == ["bootstrap (logistic refit)", *[WHOLE_FIT_PROCEDURE] * 2]
    rad = table[table["model"] == "radiomics"].iloc[0]
    assert np.isfinite(rad["test"]) and rad["strategy"] == ""
    lines = internal_validation_summary(table)
    assert sum("level1 clinical: apparent AUC" in line for line in lines) == 1
    assert any("whole level fit refitted in each of 2 bootstrap resample(s)" in line
               and "level1 radiomics 0.750" in line for line in lines)
    assert not any("whole level fit" in line
                   for line in internal_validation_summary(table.iloc[:1]))


def test_design_runs_the_whole_fit_only_when_enabled():
    import yaml
    from pathlib import Path

    config = yaml.safe_load((Path(__file__).parent / "data" / "ci_config.yaml").read_text())
    assert StudyDesign.from_config(config).whole_fit_resample_ids == []
    on = {**config, "internal_validation": {"bootstrap": {"whole_fit": {"enabled": True,
                                                                        "n": 3}}}}
    design = StudyDesign.from_config(on)
    assert design.has_whole_fit_bootstrap and design.whole_fit_resample_ids == [0, 1, 2]
    assert not any("whole level fit" in line for line in design.skipped_steps())
    no_clinical = StudyDesign.from_config({**on, "clinical": {"variables": []}})
    assert not no_clinical.has_whole_fit_bootstrap and no_clinical.whole_fit_resample_ids == []
    assert any(line.startswith("skipped: the whole level fit inside the bootstrap") and
               "config clinical.variables is empty" in line
               for line in no_clinical.skipped_steps())


# --------------------------------------------------------------------------- leakage


def test_the_resample_fit_never_trains_on_the_original_patients(monkeypatch):
    cohort, split, features, _ = synthetic_study(90, 20, seed=3)
    train_ids = split.loc[split["set"] == "train", "patient_id"]
    pert = features[features["patient_id"].isin(train_ids)]
    long = pd.concat([pert.assign(rater=0), pert.assign(rater=1).assign(
        **{c: pert[c] * 1.01 for c in pert.columns[1:]})], ignore_index=True)
    original_sel = level_fit._selection.build_selection

    def spied_selection(cfg, keep, random_state, **kwargs):
        from sklearn.pipeline import Pipeline

        steps = [("spy", Spy())] + original_sel(cfg, keep, random_state, **kwargs).steps
        return Pipeline(steps).set_output(transform="pandas")

    seen_icc, fits = [], []
    original_icc, original_fit = wf.outer_icc, wf._fit_fold

    def spied_icc(perturbations, patient_ids, robustness):
        seen_icc.append(set(map(str, patient_ids)))
        return original_icc(perturbations, patient_ids, robustness)

    def spied_fit(cohort_b, split_b, *args):
        preds, learner = original_fit(cohort_b, split_b, *args)
        fits.append((split_b, preds))
        return preds, learner

    monkeypatch.setattr(level_fit._selection, "build_selection", spied_selection)
    monkeypatch.setattr(wf, "outer_icc", spied_icc)
    monkeypatch.setattr(wf, "_fit_fold", spied_fit)
    SEEN.clear()
    out = fit_resample(cohort, split, features, {"perturbation": long}, LEVEL1, VARIABLES,
                       CONFIG, 1, {"whole_fit": {"n": 2}, "seed": 11},
                       robustness={"icc": "ICC2", "threshold": 0.5})
    (split_b, preds), = fits
    copies = set(split_b.loc[split_b["set"] == "train", "patient_id"])
    originals = set(map(str, train_ids))
    drawn = _base(copies)
    assert drawn < originals                                  # some patients were not drawn
    assert all("~" in i for i in copies) and not copies & originals
    assert set(preds.loc[preds["set"].isin(["train", "cv"]), "patient_id"]) == copies
    assert set(preds.loc[preds["set"] == "test", "patient_id"]) == originals
    fitted = [ids for _, ids in SEEN]
    assert fitted and all(ids <= copies for ids in fitted)    # never an original row
    assert any(ids == copies for ids in fitted)               # the final refit: every copy
    for ids in fitted:  # every fold's fitting part holds all copies of a patient, or none
        for base in _base(ids):
            assert {c for c in copies if c.rsplit("~", 1)[0] == base} <= ids
    assert seen_icc == [copies]
    assert set(out["model"]) == {"radiomics", "clinical", "combined"}
    assert (out["optimism"] == out["training"] - out["test"]).all()
    assert out["n_patients"].iloc[0] == len(drawn)
    assert out["n_oob"].iloc[0] == len(originals - drawn)       # the out-of-bag patients


# --------------------------------------------------------------------------- workflow


@pytest.mark.workflow
def test_whole_fit_rules_write_the_rows_and_the_corrected_indices(tmp_path):
    """A tiny imaging cohort, one level, whole_fit n = 2 (nested CV off: not under test)."""
    import yaml

    from conftest import run_workflow
    from test_partial_designs import Cell, write_cohort

    cell = Cell(images=True, ki67=True, two_levels=False, node_counts=True, clinical=True)
    manifest = write_cohort(cell, tmp_path / "cohort", n=36)
    config = cell.config(manifest)
    config["internal_validation"] = {"nested": {"enabled": False},
                                     "bootstrap": {"n": 10, "seed": 3,
                                                   "whole_fit": {"enabled": True, "n": 2}}}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    work = tmp_path / "work"
    work.mkdir()
    run_workflow(configfile, work, "--cores", "1", "--no-hooks", "results/summary.md")
    results = work / "results"
    per = pd.concat([pd.read_csv(results / "level1" / "whole_fit" / f"resample_{b}.csv")
                     for b in (0, 1)], ignore_index=True)
    assert set(per["resample"]) == {0, 1}
    assert set(per["model"]) == {"radiomics", "clinical", "combined"}
    table = pd.read_csv(results / "tables" / "internal_validation.csv")
    whole = table[table["procedure"] == WHOLE_FIT_PROCEDURE]
    assert set(whole["model"]) == {"radiomics", "clinical", "combined"}
    assert set(table.loc[table["procedure"] != WHOLE_FIT_PROCEDURE, "model"]) == {"clinical",
                                                                                  "combined"}
    for r in whole.itertuples():
        mine = per[(per["model"] == r.model) & (per["metric"] == r.metric)]
        mine = mine[mine["training"].notna() & mine["test"].notna()]
        assert r.n_resamples == len(mine)
        if len(mine):
            assert r.optimism == pytest.approx((mine["training"] - mine["test"]).mean(),
                                               rel=1e-5, abs=1e-6)
            assert r.corrected == pytest.approx(r.apparent - r.optimism, rel=1e-5, abs=1e-6)
    assert (whole.loc[whole["metric"] == "auc", "n_resamples"] == 2).all()
    summary = (results / "summary.md").read_text()
    assert "whole level fit refitted in each of 2 bootstrap resample(s)" in summary
    assert (results / "benchmarks" / "whole_fit_resample" / "level1_0.tsv").is_file()


def test_the_combined_training_rows_are_rescored_by_the_fitted_pipeline():
    """The combined model's training index is the pipeline's: the combined model on the
    final radiomics model's Rad-scores, not on the out-of-fold ones it was fitted on."""
    from scipy.special import expit

    from alnburden.modeling.persistence import rad_score
    from alnburden.modeling.whole_fit import applied_train_rows

    class OnRadScore:  # a combined model that returns expit(rad_score)
        def predict_proba(self, df):
            p = expit(df["rad_score"].to_numpy(dtype=float))
            return np.c_[1 - p, p]

    cohort, split, _, _ = _tiny_study()
    train = level_fit.level_data(cohort, split, LEVEL1).query("set == 'train'")
    ids = list(train.index)
    rng = np.random.default_rng(0)
    p_rad = rng.uniform(0.05, 0.95, len(ids))
    preds = pd.concat([
        _preds("train", train["y"], p_rad, "radiomics", ids),
        _preds("train", train["y"], np.full(len(ids), 0.5), "combined", ids),  # out-of-fold
        _preds("test", train["y"], np.full(len(ids), 0.3), "combined", ids)], ignore_index=True)
    preds["rad_score"] = 0.0
    out = applied_train_rows(preds, cohort, split, LEVEL1, OnRadScore())
    comb = out[(out["set"] == "train") & (out["model"] == "combined")]
    assert comb["p"].to_numpy() == pytest.approx(expit(rad_score(p_rad)))
    assert comb["rad_score"].to_numpy() == pytest.approx(rad_score(p_rad))
    assert out[out["set"] == "test"].equals(preds[preds["set"] == "test"])
    assert applied_train_rows(preds, cohort, split, LEVEL1, None) is preds
