"""Benchmark tooling (alnburden.tools.bench, alnburden.tools.scaling, alnburden.tools.runs): what it measures
and writes, on tiny inputs. The timings themselves are never asserted."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from alnburden.tools.bench import bench_extraction, main
from alnburden.tools.runs import DEFAULT_CONFIG, rule_breakdown, study_config
from alnburden.tools.scaling import plot_scaling, stage_times

FAST_PARAMS = Path(__file__).parent / "data" / "radiomics_fast.yaml"


def test_extraction_benchmark_compares_three_methods_on_the_same_features(tmp_path):
    table = bench_extraction("insilico", n=2, cores=1, params=FAST_PARAMS,
                             n_perturbations=2, out_dir=tmp_path, repeats=1).set_index("method")
    assert list(table.index) == ["shared", "shared_stock_glcm", "plain"]
    # sharing alone is bit-identical to the textbook loop; FastGLCM only differs in rounding
    assert table.loc["shared_stock_glcm", "max_rel_diff_vs_plain"] == 0
    assert 0 <= table.loc["shared", "max_rel_diff_vs_plain"] < 1e-9
    assert table.loc["plain", "speedup_vs_plain"] == 1
    assert (table["wall_s"] > 0).all() and (table["regions_per_image"] == 6).all()
    written = pd.read_csv(tmp_path / "extraction_insilico.csv")
    assert len(written) == 3 and (tmp_path / "extraction_insilico.md").is_file()


def _tsv(path: Path, s: float, cpu: float, rss: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
                    f"{s}\t0:00:01\t{rss}\t0\t0\t0\t0\t0\t0\t{cpu}\n")


def test_rule_breakdown_sums_jobs_and_sorts_by_wall_time(tmp_path, capsys):
    bench = tmp_path / "results" / "benchmarks"
    _tsv(bench / "extract_shard" / "000.tsv", 30, 14, 250)
    _tsv(bench / "extract_shard" / "001.tsv", 32, 15, 260)
    _tsv(bench / "fit_level" / "level1.tsv", 40, 50, 1000)
    _tsv(bench / "summary.tsv", 1.5, 1.2, 150)
    table = rule_breakdown(tmp_path / "results")
    assert list(table["rule"]) == ["extract_shard", "fit_level", "summary", "total"]
    shard = table.set_index("rule").loc["extract_shard"]
    assert (shard["jobs"], shard["wall_s"], shard["cpu_s"], shard["max_rss_mb"]) == (2, 62, 29, 260)
    assert table.set_index("rule").loc["total", "wall_s"] == pytest.approx(103.5)
    assert main(["rules", "--results", str(tmp_path / "results")]) == 0
    assert "extract_shard" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="run the workflow first"):
        rule_breakdown(tmp_path / "nothing")


def test_stage_times_from_output_mtimes(tmp_path):
    res = tmp_path / "results"
    files = {"cohort/cohort.csv": 1010, "features/shards/000.parquet": 1100,
             "features/shards/001.parquet": 1150, "features/robustness/000.parquet": 1180}
    for rel, mtime in files.items():
        (res / rel).parent.mkdir(parents=True, exist_ok=True)
        (res / rel).write_text("x")
        os.utime(res / rel, (mtime, mtime))
    assert stage_times(res, 1000, 1250) == {"cohort_s": 10, "extraction_s": 170,
                                            "after_extraction_s": 70}
    for p in (res / "features").rglob("*.parquet"):
        p.unlink()
    with pytest.raises(FileNotFoundError, match="clinical-only"):
        stage_times(res, 1000, 1250)


def test_study_config_changes_dotted_keys_only():
    base = study_config({})
    cfg = study_config({"cohort.simulate.n_patients": 150, "split.seed": 3}, DEFAULT_CONFIG)
    assert cfg["cohort"]["simulate"]["n_patients"] == 150 and cfg["split"]["seed"] == 3
    cfg["cohort"]["simulate"].pop("n_patients")
    base["cohort"]["simulate"].pop("n_patients")
    cfg["split"].pop("seed")
    base["split"].pop("seed")
    assert cfg == base


def test_scaling_figure(tmp_path):
    table = pd.DataFrame({"n_patients": [150, 300], "cores": [2, 2], "wall_s": [120.0, 230.0],
                          "s_per_patient": [0.8, 0.77], "cohort_s_per_patient": [0.1, 0.1],
                          "extraction_s_per_patient": [0.5, 0.5],
                          "after_extraction_s_per_patient": [0.2, 0.17]})
    pdf, png = plot_scaling(table, tmp_path / "scaling")
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_calibration_table_covers_every_finished_seed(tmp_path):
    """A second `calibrate --seeds 6 7` extends the table with seeds 1-5 instead of replacing it."""
    from alnburden.tools.calibrate import collect_seeds, summarise

    published = [{"level": "level1", "model": "radiomics", "set": "test", "auc": 0.79},
                 {"level": "level2", "model": "combined", "set": "test", "auc": 0.68,
                  "subgroup": "high"}]
    for seed, auc in [(1, 0.70), (2, 0.80), (10, 0.90)]:
        tables = tmp_path / f"seed_{seed}" / "results" / "tables"
        tables.mkdir(parents=True)
        pd.DataFrame({"level": ["level1"], "model": ["radiomics"], "set": ["test"],
                      "auc": [auc], "auc_ci_low": [auc - 0.1], "auc_ci_high": [auc + 0.1]}
                     ).to_csv(tables / "performance.csv", index=False)
        pd.DataFrame({"level": ["level2"] * 2, "model": ["combined"] * 2,
                      "subgroup": ["Ki-67 < 20%", "Ki-67 >= 20%"],
                      "auc": [0.9, auc - 0.1], "auc_ci_low": [0.8, auc - 0.2],
                      "auc_ci_high": [1.0, auc]}).to_csv(tables / "subgroups.csv", index=False)
    (tmp_path / "seed_3").mkdir()  # an unfinished run is not counted
    rows = collect_seeds(tmp_path, {"published": published})
    assert list(rows["seed"].unique()) == [1, 2, 10]
    table = summarise(rows).set_index("number")
    assert table.loc["level1 radiomics test", "mean"] == pytest.approx(0.8)
    assert table.loc["level2 combined test Ki-67 high", "mean"] == pytest.approx(0.7)
    assert (table["n_seeds"] == 3).all()
    with pytest.raises(FileNotFoundError, match="no finished seed run"):
        collect_seeds(tmp_path / "empty", {"published": published})
    # a generator variant in the same folder would mix two cohorts in one table
    (tmp_path / "seed_2" / "config.yaml").write_text(
        "cohort:\n  simulate:\n    effects: {high_latent_low_ki67: 3.5}\n")
    with pytest.raises(ValueError, match="seed 2: {'high_latent_low_ki67': 3.5}"):
        collect_seeds(tmp_path, {"published": published})


def test_oracle_ceilings_follow_the_generator():
    """Ceilings follow the node model (no latent or Ki-67 effect: chance); Ki-67 orders level 2."""
    from alnburden.tools.calibrate import oracle_aucs

    base = oracle_aucs(n_patients=4000).set_index("number")["oracle_auc"]
    assert 0.4 < base["N+ fraction"] < 0.6
    assert base["level1 full"] > base["level1 image"] > 0.7
    assert base["level2 full Ki-67 low"] > base["level2 full Ki-67 high"]
    flat = oracle_aucs({"pos_latent": 0.0, "pos_ki67": 0.0}, n_patients=4000)
    assert flat.set_index("number")["oracle_auc"]["level1 image"] == pytest.approx(0.5, abs=0.03)


def test_null_effects_make_every_label_independent_of_what_the_study_sees():
    """Under NULL_EFFECTS even the true probabilities (images' latent, Ki-67 and ALN class
    together) rank at chance; a preset's sampling (node-positive only) is honoured."""
    from alnburden.tools.calibrate import NULL_EFFECTS, oracle_aucs

    null = oracle_aucs(NULL_EFFECTS, n_patients=6000).set_index("number")["oracle_auc"]
    for number in ("level1 image", "level1 full", "level2 image", "level2 full"):
        assert null[number] == pytest.approx(0.5, abs=0.03), number
    burden = oracle_aucs(n_patients=3000, node_positive_only=True,
                         high_burden_fraction=0.4).set_index("number")["oracle_auc"]
    assert burden["N+ fraction"] == 1.0 and "level1 image" not in burden
    assert burden["N>=3 among N+"] == pytest.approx(0.4, abs=0.001)


def test_every_auc_averages_each_estimate_over_seeds(tmp_path):
    """The seeds' AUCs are averaged per level x model x set; the bootstrap-corrected AUC of
    internal_validation.csv joins as set ``corrected``, the mean of the outer folds' own AUCs
    (seed 2 only) as ``nested_fold_mean``; the view has one column per kind; each estimate
    minus the same seed's test AUC is averaged over the seeds that have both."""
    from alnburden.tools.calibrate import (estimate_minus_test, every_auc, seed_aucs,
                                           validation_view)

    for seed, shift in ((1, 0.0), (2, 0.1)):
        tables = tmp_path / f"seed_{seed}" / "results" / "tables"
        tables.mkdir(parents=True)
        pd.DataFrame({"level": "l2", "model": ["combined"] * 3 + ["svm"],
                      "set": ["train", "nested", "test", "test"],
                      "auc": [0.8 + shift, 0.7 + shift, 0.6 + shift, 0.5]}).to_csv(
            tables / "performance.csv", index=False)
        pd.DataFrame({"level": "l2", "model": "combined", "metric": ["auc", "brier", "auc"],
                      "corrected": [0.75 + shift, 0.2, 0.99],
                      "procedure": ["bootstrap (logistic refit)"] * 2
                      + ["bootstrap (whole level fit)"]}).to_csv(
            tables / "internal_validation.csv", index=False)
    nested = tmp_path / "seed_2" / "results" / "l2" / "nested"
    nested.mkdir(parents=True)
    for fold, p in enumerate(([0.2, 0.9, 0.1, 0.8], [0.6, 0.4, 0.3, 0.5])):   # AUC 1.0, 0.5
        pd.DataFrame({"patient_id": [f"p{fold}{i}" for i in range(4)], "level": "l2",
                      "model": "combined", "y_true": [0, 1, 0, 1], "p": p, "repeat": 0,
                      "fold": fold}).to_csv(nested / f"fold_{fold}.csv", index=False)
    aucs = every_auc(tmp_path).set_index(["model", "set"])
    assert aucs.loc[("combined", "nested_fold_mean"), "mean"] == pytest.approx(0.75)
    assert aucs.loc[("combined", "nested_fold_mean"), "n_seeds"] == 1
    assert aucs.loc[("combined", "nested"), "mean"] == pytest.approx(0.75)
    assert aucs.loc[("combined", "corrected"), "mean"] == pytest.approx(0.80)
    assert aucs.loc[("combined", "test"), "n_seeds"] == 2
    view = validation_view(every_auc(tmp_path))
    assert list(view.columns) == ["level", "model", "apparent", "nested", "nested_fold_mean",
                                  "corrected", "test"]
    assert list(view["model"]) == ["combined"]
    assert view.loc[0, "apparent"] == pytest.approx(0.85)
    diff = estimate_minus_test(seed_aucs(tmp_path)).set_index("estimate")
    assert diff.loc["nested", "mean"] == pytest.approx(0.1) and diff.loc["nested", "sd"] == 0
    assert diff.loc["nested_fold_mean", "mean"] == pytest.approx(0.75 - 0.7)
    assert diff.loc["nested_fold_mean", "n_seeds"] == 1
    assert diff.loc["corrected", "mean"] == pytest.approx(0.15)
