"""The risk calculator: its constants are the nomogram's, and in a real browser (headless
Chromium) the page shows the model's own probability for test patients."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest

from alnburden.modeling.clinical import LogisticModel
from alnburden.modeling.nomogram import nomogram_from_model
from alnburden.reporting.calculator import (RAD_SCORE_LIMIT, calculator_spec, level_cutoff,
                                            render_calculator, write_calculator)

VARIABLES = [
    {"name": "rad_score", "type": "continuous"},
    {"name": "age", "type": "continuous", "min": 18, "max": 100, "unit": "years"},
    {"name": "er", "type": "binary"},
    {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]},
    {"name": "subtype", "type": "categorical",
     "levels": ["luminal_a", "luminal_b", "her2_enriched", "triple_negative"]},
]


def _study(n: int = 160, seed: int = 3):
    """A small fitted combined model (train rows) and its held-out test rows."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "rad_score": rng.normal(0, 1.2, n),
        "age": np.clip(rng.normal(55, 11, n), 18, 100).round(0),
        "er": rng.integers(0, 2, n),
        "grade": rng.integers(1, 4, n),
        "subtype": rng.choice(VARIABLES[4]["levels"], n),
    })
    lp = (-0.4 + 1.1 * df["rad_score"] - 0.02 * (df["age"] - 55) + 0.5 * df["er"]
          + 0.4 * df["grade"] - 0.6 * (df["subtype"] == "triple_negative"))
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    train, test = df.iloc[:110], df.iloc[110:].reset_index(drop=True)
    model = LogisticModel(VARIABLES).fit(train, y[:110])
    return model, test


@pytest.fixture(scope="module")
def study():
    return _study()


def test_spec_points_are_the_nomograms(study):
    model, test = study
    spec = calculator_spec(model, VARIABLES, cutoff=0.4, level="level1")
    nom = nomogram_from_model(model)
    assert spec["max_span"] == nom.max_span and spec["lp0"] == nom.lp0
    by_name = {v["name"]: v for v in spec["inputs"]}
    assert [v["name"] for v in spec["inputs"]] == [v["name"] for v in VARIABLES]
    assert by_name["age"]["unit"] == "years" and by_name["age"]["min"] == 18
    assert by_name["rad_score"]["max"] == pytest.approx(RAD_SCORE_LIMIT)
    assert [lv["value"] for lv in by_name["subtype"]["levels"]] == VARIABLES[4]["levels"]
    assert [lv["label"] for lv in by_name["er"]["levels"]] == ["negative", "positive"]
    # the page's arithmetic, done here in Python with the page's constants, is the model's
    for _, row in test.head(10).iterrows():
        total = 0.0
        for v in spec["inputs"]:
            for a in v["axes"]:
                x = float(row[v["name"]] == a["level"]) if "level" in a else float(row[v["name"]])
                total += 100 * a["beta"] * (x - a["x0"]) / spec["max_span"]
        p = 1 / (1 + np.exp(-(spec["lp0"] + total * spec["max_span"] / 100)))
        assert p == pytest.approx(model.predict_proba(row.to_frame().T)[0, 1], abs=1e-12)


def test_page_is_self_contained(study, tmp_path):
    model, _ = study
    page = render_calculator(calculator_spec(model, VARIABLES, cutoff=0.4, level="level1",
                                             label_rule="n_positive_nodes > 0", simulated=True))
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "fetch(" not in page
    assert "In-silico" in page or "in-silico" in page
    assert "</script>" in page and page.count("<script") == 2


def test_cutoff_is_the_training_rows(tmp_path):
    perf = pd.DataFrame({"level": ["level1"] * 3, "model": ["combined"] * 3,
                         "set": ["cv", "test", "train"], "cutoff": [0.31, 0.31, 0.31]})
    assert level_cutoff(perf, "level1", "combined") == 0.31
    with pytest.raises(ValueError, match="no cutoff for level 'level2'"):
        level_cutoff(perf, "level2", "combined")
    with pytest.raises(ValueError, match="cutoff must be a probability"):
        calculator_spec(_study(60)[0], VARIABLES, cutoff=1.5, level="level1")


# --------------------------------------------------------------------------- real browser
CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (CI installs Debian's chromium in "
                             ".ci/run; locally: apt-get install chromium)")


def _browser(page: Path, query: dict, tmp_path: Path, *mode: str) -> str:
    url = page.resolve().as_uri() + "?" + urlencode(query)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *mode, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _attr(dom: str, element_id: str, attr: str) -> str:
    tag = re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', dom)
    assert tag, f"no element #{element_id} in the rendered page"
    value = re.search(rf'\b{attr}="([^"]*)"', tag.group(0))
    assert value, f"#{element_id} has no {attr}"
    return value.group(1)


@pytest.fixture(scope="module")
def page(study, tmp_path_factory):
    model, _ = study
    folder = tmp_path_factory.mktemp("calc")
    (folder / "models").mkdir()
    import joblib

    joblib.dump(model, folder / "models" / "combined.joblib")
    pd.DataFrame({"level": ["level1"], "model": ["combined"], "set": ["train"],
                  "cutoff": [0.45]}).to_csv(folder / "performance.csv", index=False)
    return write_calculator(folder / "models", folder / "performance.csv",
                            folder / "calculator" / "level1.html", level="level1",
                            variables=VARIABLES, level_label="N0 vs N+ (all patients)",
                            label_rule="n_positive_nodes > 0", simulated=True)


@needs_browser
def test_browser_shows_the_models_probability(study, page, tmp_path):
    model, test = study
    nom = nomogram_from_model(model)
    for i in range(5):
        row = test.iloc[i]
        query = {"rad_score": repr(float(row["rad_score"])), "age": f'{row["age"]:g}',
                 "er": int(row["er"]), "grade": int(row["grade"]), "subtype": row["subtype"]}
        dom = _browser(page, query, tmp_path, "--dump-dom")
        expected = model.predict_proba(row.to_frame().T.infer_objects())[0, 1]
        shown = float(_attr(dom, "probability", "data-probability"))
        assert abs(shown - expected) < 1e-6, (i, shown, expected)
        assert _attr(dom, "probability", "data-valid") == "true"
        verdict = _attr(dom, "verdict", "data-verdict")
        assert verdict == ("above" if expected >= 0.45 else "below")
        total = float(_attr(dom, "total", "data-total-points"))
        assert total == pytest.approx(nom.total_points(
            pd.DataFrame([{"rad_score": row["rad_score"], "age": row["age"], "er": row["er"],
                           "grade": row["grade"],
                           **{f"subtype[{lv}]": float(row["subtype"] == lv)
                              for lv in VARIABLES[4]["levels"][1:]}}]))[0], abs=1e-9)


@needs_browser
def test_browser_refuses_out_of_range_and_fills_empty(study, page, tmp_path):
    model, test = study
    dom = _browser(page, {"rad_score": "0.2", "age": "140", "er": 1, "grade": 2,
                          "subtype": "luminal_a"}, tmp_path, "--dump-dom")
    assert _attr(dom, "probability", "data-valid") == "false"
    assert _attr(dom, "probability", "data-probability") == ""
    assert "outside the allowed range" in dom
    # no age: the model's own missing-value rule (training median)
    dom = _browser(page, {"rad_score": "0.2", "er": 1, "grade": 2, "subtype": "luminal_b"},
                   tmp_path, "--dump-dom")
    row = pd.DataFrame([{"rad_score": 0.2, "age": np.nan, "er": 1, "grade": 2,
                         "subtype": "luminal_b"}])
    expected = model.predict_proba(row)[0, 1]
    assert abs(float(_attr(dom, "probability", "data-probability")) - expected) < 1e-6
    assert "training median" in dom


@needs_browser
def test_browser_screenshot(page, tmp_path):
    shot = tmp_path / "calculator.png"
    _browser(page, {"rad_score": "0.8", "age": "47", "er": 0, "grade": 3,
                    "subtype": "triple_negative"}, tmp_path,
             f"--screenshot={shot}", "--window-size=920,900", "--hide-scrollbars")
    assert shot.is_file() and shot.stat().st_size > 10_000
    keep = os.environ.get("ALNBURDEN_SCREENSHOT_DIR")
    if keep:  # to look at it: ALNBURDEN_SCREENSHOT_DIR=/some/dir pytest tests/test_calculator.py
        shutil.copy(shot, Path(keep) / "calculator.png")


@needs_browser
@pytest.mark.workflow
def test_run_calculators_show_the_runs_test_predictions(e2e_run, tmp_path):
    """Each level's page of a real run gives, for test patients, the probability that the
    run wrote to predictions.csv, and its cutoff is the run's training cutoff."""
    work = e2e_run
    cohort = pd.read_csv(work / "results/cohort/cohort.csv", dtype={"patient_id": str})
    pred = pd.read_csv(work / "results/predictions.csv", dtype={"patient_id": str})
    perf = pd.read_csv(work / "results/tables/performance.csv")
    for level in ("level1", "level2"):
        page = work / f"results/calculator/{level}.html"
        spec = json.loads(re.search(r'<script type="application/json" id="spec">(.*?)</script>',
                                    page.read_text(), re.S).group(1).replace("<\\/", "</"))
        assert spec["cutoff"] == pytest.approx(level_cutoff(perf, level, "combined"))
        test = pred[(pred["level"] == level) & (pred["set"] == "test")
                    & (pred["model"] == "combined")].head(3)
        rows = cohort.set_index("patient_id").loc[test["patient_id"]]
        for (_, p), (_, row) in zip(test.iterrows(), rows.iterrows()):
            query = {v["name"]: (repr(float(p["rad_score"])) if v["name"] == "rad_score"
                                 else row[v["name"]]) for v in spec["inputs"]}
            query = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in query.items()}
            dom = _browser(page, query, tmp_path, "--dump-dom")
            assert abs(float(_attr(dom, "probability", "data-probability")) - p["p"]) < 1e-6
