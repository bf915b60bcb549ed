"""Tuning grids and the search from the config (models.grids, models.search)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from alnburden.modeling.learners import LEARNERS, grid_points, learner_grids, search_space
from alnburden.modeling.folds import stratified_folds
from alnburden.modeling.level_fit import _tune
from alnburden.schemas import CONFIG_SCHEMA, load_schema, section_defaults, with_defaults

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def _config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_schema_grids_are_the_registry():
    """The schema names exactly the registry's learners and its defaults are their grids."""
    grids = load_schema(CONFIG_SCHEMA)["properties"]["models"]["properties"]["grids"]
    assert list(grids["properties"]) == list(LEARNERS)
    assert grids["additionalProperties"] is False
    assert section_defaults("models")["grids"] == {n: lr.grid for n, lr in LEARNERS.items()}


def test_a_learner_not_given_keeps_its_grid():
    grids = learner_grids({"knn": {"n_neighbors": [5, 15, 35, 55]}}, ["knn", "logistic"])
    assert grids == {"knn": {"n_neighbors": [5, 15, 35, 55]}, "logistic": LEARNERS["logistic"].grid}


def test_bad_grids_are_named_with_the_fix():
    with pytest.raises(ValueError,
                       match=r"knn: no parameter\(s\) \['k'\]; it has \[.*'n_neighbors'"):
        learner_grids({"knn": {"k": [5]}}, ["knn"])
    with pytest.raises(ValueError, match=r"unknown learner\(s\) \['xgboost'\]"):
        learner_grids({"xgboost": {"eta": [0.1]}}, ["knn"])
    with pytest.raises(ValueError,
                       match=r"svm: parameter\(s\) \['estimator__C'\] need a non-empty"):
        learner_grids({"svm": {"estimator__C": []}}, ["svm"])


@pytest.mark.parametrize("grids, ok", [
    ({"knn": {"n_neighbors": [5, 15]}}, True),
    ({"xgboost": {"eta": [0.1]}}, False),
    ({"knn": {"n_neighbors": []}}, False),
    ({"knn": {}}, False),
], ids=["ok", "unknown-learner", "empty-values", "empty-grid"])
def test_schema_validates_grids(grids, ok):
    config = _config()
    config["models"]["grids"] = grids
    if ok:
        validate(config, schema=SCHEMA)
    else:
        with pytest.raises(WorkflowError):
            validate(config, schema=SCHEMA)


def test_schema_validates_search():
    config = copy.deepcopy(_config())
    config["models"]["search"] = {"kind": "random", "n_iter": 3}
    validate(config, schema=SCHEMA)
    config["models"]["search"] = {"kind": "bayes"}
    with pytest.raises(WorkflowError, match="bayes"):
        validate(config, schema=SCHEMA)


def test_random_search_draws_n_iter_points_of_the_grid_seeded():
    grid = {"n_neighbors": [5, 15, 35, 55], "p": [1, 2]}
    space = search_space(grid, {"kind": "random", "n_iter": 3}, 0)
    points = grid_points(space)
    assert len(points) == 3 and len({json.dumps(p, sort_keys=True) for p in points}) == 3
    assert all(p in grid_points(grid) for p in points)
    assert grid_points(search_space(grid, {"kind": "random", "n_iter": 3}, 0)) == points
    assert search_space(grid, {"kind": "random", "n_iter": 8}, 0) == grid  # whole grid
    assert search_space(grid, None, 0) == grid  # default: grid search


def test_tune_reads_the_grids_and_the_search_from_the_config(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 4)), columns=list("abcd"))
    y = (X["a"] + rng.normal(size=120) > 0).to_numpy().astype(int)
    cfg = with_defaults("models", {"learners": ["knn", "logistic"], "cv_folds": 3,
                                   "cv_repeats": 1,
                                   "grids": {"knn": {"n_neighbors": [3, 9, 21, 41]}},
                                   "search": {"kind": "random", "n_iter": 2}})
    fit = SimpleNamespace(models_cfg=cfg, seed=1, X_tr=X, y=y, groups=None,
                          folds=stratified_folds(y, 3, 1),
                          level=SimpleNamespace(name="level1"), model_dir=tmp_path)
    table, best = _tune(fit, Pipeline([("scale", StandardScaler())]), n_jobs=1)
    t = table.set_index("learner")
    assert t.loc["knn", "n_grid_points"] == 2 and t.loc["logistic", "n_grid_points"] == 2
    k = json.loads(t.loc["knn", "best_params"])["n_neighbors"]
    assert k in (3, 9, 21, 41) and best["knn"].get_params()["n_neighbors"] == k
    cfg["search"] = {"kind": "grid"}
    table, _ = _tune(fit, Pipeline([("scale", StandardScaler())]), n_jobs=1)
    assert table.set_index("learner").loc["knn", "n_grid_points"] == 4


def test_tune_on_a_tiny_training_set_keeps_only_grid_points_that_fit(tmp_path, caplog):
    """12 training rows (4 events): 3-fold tuning fits on 8 rows, so k-NN's default k (15,
    35) cannot fit, nor the SVM's 3 calibration folds on 2 events; with every learner of the
    registry, tuning runs and logs what it changed."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(12, 3)), columns=list("abc"))
    y = np.array([0, 0, 1] * 4)
    X["a"] += 1.5 * y
    cfg = with_defaults("models", {"learners": list(LEARNERS), "cv_folds": 3, "cv_repeats": 1})
    fit = SimpleNamespace(models_cfg=cfg, seed=1, X_tr=X, y=y, groups=None,
                          folds=stratified_folds(y, 3, 1),
                          level=SimpleNamespace(name="level1"), model_dir=tmp_path)
    with caplog.at_level("WARNING", logger="alnburden.modeling.level_fit"):
        table, best = _tune(fit, Pipeline([("scale", StandardScaler())]), n_jobs=1)
    t = table.set_index("learner")
    assert list(t.index) == list(LEARNERS) and t["cv_auc_mean"].notna().all()
    assert json.loads(t.loc["knn", "best_params"]) == {"n_neighbors": 8}
    assert best["knn"].get_params()["n_neighbors"] == 8
    assert best["lightgbm"].get_params()["min_child_samples"] == 3
    assert best["svm"].get_params()["cv"] == 2    # 2 rows of a class per training part
    assert "knn on 8 training rows (2 in the smaller class): grid point(s) [{'n_neighbors': " \
           "15}, {'n_neighbors': 35}] dropped (k-NN needs at least n_neighbors training rows); " \
           "no point has n_neighbors <= 8, tuning {'n_neighbors': 8} instead" in caplog.text
    assert "lightgbm on 8 training rows (2 in the smaller class): min_child_samples lowered " \
           "from 10 to 3" in caplog.text


@pytest.mark.workflow
def test_bad_grid_and_coding_stop_the_run_before_any_job(tmp_path):
    import subprocess
    import sys

    config = {"models": {"grids": {"knn": {"k": [3]}}},
              "clinical": {"variables": [{"name": "aln_us_class", "type": "ordinal",
                                          "levels": [1, 2, 3, 4, 5, 6],
                                          "coding": {"threshold": 9}}]}}
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                           str(ROOT / "Snakefile"), "--configfile", str(cfg), "-n"],
                          cwd=tmp_path, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in out
    assert "knn: no parameter(s) ['k']" in out
    assert "'aln_us_class': threshold 9 must lie above the lowest" in out
