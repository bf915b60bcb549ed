"""Every partial design runs to the end, or is refused when the config is read.

A design is one cell of {images or not} x {a ``ki67`` variable or not} x {one level or two}
x {labels from node counts or from another column} x {other clinical variables or none}:
32 cells. With no images, no Ki-67 and no other clinical variable nothing can be fitted
(4 cells): the Snakefile refuses them at parse time. :class:`StudyDesign` is checked on
all 32 cells, the workflow's DAG by a dry run of every cell (exactly the rules the design
asks for), and the workflow end to end on a covering subset of 5 cells on tiny cohorts
(every value of every factor, and each risky pair: no clinical + images, no images +
Ki-67, one level, no node counts); the full design runs in ``test_workflow.py``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import disk, run_workflow, write_png

from alnburden.design import PARTS, StudyDesign
from alnburden.evaluation import registry as rg
from alnburden.figures import registry as fr

ROOT = Path(__file__).resolve().parents[1]
CI_CONFIG = yaml.safe_load((ROOT / "tests" / "data" / "ci_config.yaml").read_text())
KI67 = {"name": "ki67", "type": "continuous", "min": 0, "max": 100, "unit": "%"}
OTHERS = [{"name": "age", "type": "continuous", "min": 18, "max": 100, "unit": "years"},
          {"name": "er", "type": "binary"},
          {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]}]
NODE_LEVELS = [{"name": "level1", "population": "all", "label": "n_positive_nodes > 0"},
               {"name": "level2", "population": "n_positive_nodes > 0",
                "label": "n_positive_nodes >= 3"}]
OTHER_LEVELS = [{"name": "level1", "population": "all", "label": "malignant == 1"},
                {"name": "level2", "population": "malignant == 1",
                 "label": "high_burden == 1"}]
#: Rules of every design (the figures' rules and the radiomics stage come on top).
BASE_RULES = {"validate_cohort", "split_cohort", "table1", "fit_level", "merge_predictions",
              "evaluation_tables", "level_figures", "summary", "bundle", "all"}
IMAGE_RULES = {"extract_shard", "merge_features", "discretisation", "robustness_shard", "icc"}


@dataclass(frozen=True)
class Cell:
    """One design of the matrix."""

    images: bool
    ki67: bool
    two_levels: bool
    node_counts: bool
    clinical: bool

    @property
    def id(self) -> str:
        return "-".join(f"{'' if on else 'no_'}{name}" for name, on in (
            ("images", self.images), ("ki67", self.ki67), ("level2", self.two_levels),
            ("nodes", self.node_counts), ("clinical", self.clinical)))

    @property
    def runnable(self) -> bool:
        return self.images or self.ki67 or self.clinical

    def variables(self) -> list[dict]:
        return ([KI67] if self.ki67 else []) + (list(OTHERS) if self.clinical else [])

    def config(self, manifest: Path) -> dict:
        """The CI config made tiny: this cell's levels and variables, one shard, two learners."""
        config = copy.deepcopy(CI_CONFIG)
        levels = NODE_LEVELS if self.node_counts else OTHER_LEVELS
        config["levels"] = copy.deepcopy(levels[:2 if self.two_levels else 1])
        config["clinical"]["variables"] = self.variables()
        config["cohort"]["manifest"] = str(manifest)
        config["radiomics"].update(params=str(ROOT / config["radiomics"]["params"]), shards=1)
        # k-NN's default k (15, 35) exceeds these tiny training folds: its grid is made
        # feasible for them (alnburden.modeling.learners.feasible_learner)
        config["models"]["learners"] = ["logistic", "knn"]
        config["evaluation"]["bootstrap"] = 0
        return config

    def design(self, manifest: Path) -> StudyDesign:
        return StudyDesign.from_config(self.config(manifest), manifest_header(self))


CELLS = [Cell(*flags) for flags in itertools.product((True, False), repeat=5)]
#: The end-to-end subset: every value of every factor, and every risky pair.
E2E_CELLS = [
    Cell(images=True, ki67=False, two_levels=True, node_counts=True, clinical=False),
    Cell(images=False, ki67=True, two_levels=False, node_counts=True, clinical=True),
    Cell(images=True, ki67=True, two_levels=False, node_counts=False, clinical=False),
    Cell(images=False, ki67=False, two_levels=True, node_counts=False, clinical=True),
    Cell(images=True, ki67=False, two_levels=False, node_counts=False, clinical=False),
]

#: The cell whose test first builds one target only (``results/tables/performance.csv``).
PARTIAL_TARGET_CELL = E2E_CELLS[1]


def manifest_header(cell: Cell) -> list[str]:
    cols = ["patient_id"]
    if cell.images:
        cols += ["image", "mask", "pixel_spacing_mm"]
    cols += ["n_positive_nodes"] if cell.node_counts else ["malignant", "high_burden"]
    return cols + [v["name"] for v in cell.variables()]


def write_cohort(cell: Cell, root: Path, n: int = 36, seed: int = 0) -> Path:
    """A tiny cohort of ``cell``'s columns: 48 x 48 PNGs at 0.5 mm whose dark disk grows
    with the nodal class (N0 / N1-2 / N>=3, or benign / low / high), clinical values that
    follow it loosely. Returns the manifest."""
    rng = np.random.default_rng(seed)
    cls = np.arange(n) % 3
    rows = []
    for i, c in enumerate(cls):
        pid = f"P{i + 1:03d}"
        row = {"patient_id": pid}
        if cell.images:
            lesion = disk((48, 48), (24 + rng.integers(-2, 3), 24 + rng.integers(-2, 3)),
                          np.clip(7 + 2 * c + rng.normal(0, 1.2), 6, 13))
            image = rng.normal(150, 25, (48, 48))
            image[lesion] -= 60 + 15 * c
            write_png(root / "images" / f"{pid}.png", np.clip(image, 0, 255))
            write_png(root / "masks" / f"{pid}.png", lesion * 255)
            row.update(image=f"images/{pid}.png", mask=f"masks/{pid}.png", pixel_spacing_mm=0.5)
        if cell.node_counts:
            row["n_positive_nodes"] = [0, 1 + i % 2, 3 + i % 4][c]
        else:
            row.update(malignant=int(c > 0), high_burden=int(c == 2))
        if cell.ki67:
            row["ki67"] = float(np.clip(15 + 12 * c + rng.normal(0, 12), 0, 100).round())
        if cell.clinical:
            row.update(age=int(rng.integers(30, 80)), er=int(rng.random() < 0.6),
                       grade=int(np.clip(1 + c + rng.integers(-1, 2), 1, 3)))
        rows.append(row)
    root.mkdir(parents=True, exist_ok=True)
    manifest = root / "manifest.csv"
    pd.DataFrame(rows)[manifest_header(cell)].to_csv(manifest, index=False)
    return manifest


def expected_rules(design: StudyDesign) -> set[str]:
    """The rules a design's DAG holds: its stages, the cascade and its figures' rules."""
    rules = BASE_RULES | (IMAGE_RULES if design.has_images else set())
    rules |= {"cascade"} if design.has_cascade else set()
    rules |= {"internal_validation_bootstrap"} if design.has_clinical else set()
    rules |= {"checklists"} | ({"calculator"} if design.nomogram_model else set())
    rules |= {"nested_fold", "merge_nested"} if design.has_nested else set()
    rules |= {"shap_values"} if design.has_images else set()
    rules |= {"sample_size"} if design.has_combined else set()
    return rules | {fig.rule for fig in fr.figure_kinds(design)}


def snakemake(configfile: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(configfile), "--cores", "2", *args]
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True)


def dag_rules(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    stats = proc.stdout.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def write_config(cell: Cell, tmp_path: Path, manifest: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cell.config(manifest), sort_keys=False))
    return path


# --------------------------------------------------------------------------- StudyDesign


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.id)
def test_study_design_of_every_cell(cell, tmp_path):
    design = cell.design(tmp_path / "manifest.csv")
    assert design.can_run is cell.runnable
    has_clinical = cell.ki67 or cell.clinical
    assert design.arms == tuple(arm for arm, on in (
        ("radiomics", cell.images), ("clinical", has_clinical),
        ("combined", cell.images and has_clinical)) if on)
    assert design.has_cascade is (cell.two_levels and cell.node_counts)
    assert design.has_ki67 is cell.ki67
    assert design.nomogram_model == ("combined" if cell.images and has_clinical
                                     else "clinical" if has_clinical else None)
    assert design.cascade_model == (design.nomogram_model or "radiomics")
    assert set(design.subgroup_models) <= set(design.arms)
    assert set(rg.table_names(design)) == {n for n in rg.TABLES if rg.TABLES[n].applies(design)}
    skipped = rg.skipped_tables(design) + fr.skipped_figures(design) + design.skipped_steps()
    assert len(rg.skipped_tables(design)) + len(rg.table_names(design)) == len(rg.TABLES)
    assert len(fr.skipped_figures(design)) + len(fr.figure_kinds(design)) == len(fr.FIGURES)
    assert all(re.fullmatch(r"skipped: .+ because .+", line) for line in skipped), skipped
    assert ("figure subgroups_forest" in " ".join(skipped)) is not cell.ki67
    assert ("figure nomogram" in " ".join(skipped)) is not has_clinical


def test_the_full_design_skips_nothing():
    # the full design includes the optional repeated random splits (config split.repeats)
    design = StudyDesign.from_config({**CI_CONFIG, "split": {**CI_CONFIG["split"], "repeats": 2}})
    assert design.arms == ("radiomics", "clinical", "combined") and design.can_run
    assert not design.skipped_steps() + rg.skipped_tables(design) + fr.skipped_figures(design)
    assert [p for p in PARTS if not design.has(p)] == []


def test_radiomics_only_design_says_why_each_part_is_missing(tmp_path):
    cell = Cell(images=True, ki67=False, two_levels=True, node_counts=True, clinical=False)
    design = cell.design(tmp_path / "m.csv")
    assert rg.table_names(design) == ["performance", "calibration", "dca"]
    assert "skipped: table reclassification (Reclassification (continuous NRI, IDI)) because " \
           "config clinical.variables is empty" in rg.skipped_tables(design)
    assert any(line.startswith("skipped: figure nomogram (Nomogram) because config "
                               "clinical.variables is empty (the radiomics model is a")
               for line in fr.skipped_figures(design))
    assert design.cascade_model == "radiomics" and design.subgroup_models == ("radiomics",)


def test_design_without_any_model_is_refused_with_the_keys_and_the_fix(tmp_path):
    cell = Cell(images=False, ki67=False, two_levels=False, node_counts=True, clinical=False)
    design = cell.design(tmp_path / "m.csv")
    with pytest.raises(ValueError, match=r"cannot run: no model can be fitted: the manifest "
                       r"\(cohort.manifest\) has no image/mask columns and config clinical.variables"
                       r" is empty; add image and mask columns .* declare at least one "
                       r"clinical variable under clinical.variables"):
        design.check()


def test_unknown_design_part_is_named():
    with pytest.raises(ValueError, match=r"no design part 'pixels'; the parts are \['images'"):
        StudyDesign.from_config(CI_CONFIG).has("pixels")


# --------------------------------------------------------------------------- the workflow


@pytest.mark.workflow
@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.id)
def test_dry_run_holds_exactly_the_rules_of_the_design(cell, tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(",".join(manifest_header(cell)) + "\n")
    proc = snakemake(write_config(cell, tmp_path, manifest), tmp_path, "-n")
    if not cell.runnable:
        assert proc.returncode != 0
        assert re.search(r"this study design cannot run: no model can be fitted: .*"
                         r"clinical.variables is empty", proc.stdout + proc.stderr), proc.stdout
        assert "Job stats" not in proc.stdout
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    design = cell.design(manifest)
    jobs = dag_rules(proc)
    assert set(jobs) == expected_rules(design)
    assert jobs["fit_level"] == len(design.levels)


def check_study_outputs(design: StudyDesign, results: Path) -> None:
    """The outputs of the internal validation, explanation and reporting stages exist when
    ``design`` has their parts; otherwise they are absent and the summary says why.

    Checked: the checklists, the bundle (and its models of every level and arm), the risk
    calculators, the SHAP tables, the sample size, the nested CV and the internal
    validation table; and ``report.html`` (the run built the whole study)."""
    summary = (results / "summary.md").read_text()
    steps = dict(zip(("shap", "sample_size", "calculator", "nested"), (
        "SHAP values and permutation importance", "the minimum sample size (Riley et al.)",
        "the risk calculators", "the nested cross-validation")))

    def skipped(what: str, present: bool) -> None:
        lines = [ln for ln in summary.splitlines() if ln.startswith(f"- skipped: {what}")]
        assert bool(lines) is not present, f"{what}: skip line {lines} but present={present}"
        assert all(" because " in ln for ln in lines)

    assert {p.name for p in (results / "checklists").glob("*.md")} == {"tripod_ai.md", "clear.md"}
    tripod = (results / "checklists" / "tripod_ai.md").read_text()
    assert "Riley et al. (2020) minimum sample size" in tripod
    assert (results / "bundle.zip").is_file() and (results / "report.html").is_file()
    bundle = json.loads((results / "bundle" / "bundle.json").read_text())
    assert list(bundle["models"]) == design.level_names
    for level, entry in bundle["models"].items():
        arms = set(design.arms) | ({"radiomics"} if design.has_images else set())
        assert arms <= set(entry["files"]), (level, entry["files"])
        assert all((results / "bundle" / "models" / level / f).is_file()
                   for f in entry["files"].values())
    calculators = sorted(p.stem for p in (results / "calculator").glob("*.html"))
    assert calculators == (sorted(design.level_names) if design.nomogram_model else [])
    skipped(steps["calculator"], bool(design.nomogram_model))
    shap = [results / "tables" / f"{lv}_shap.csv" for lv in design.level_names]
    assert all(p.is_file() for p in shap) is design.has_images
    assert not any(p.is_file() for p in shap) or design.has_images
    skipped(steps["shap"], design.has_images)
    assert (results / "tables" / "sample_size.csv").is_file() is design.has_combined
    assert ("## Sample size (Riley et al. 2020)" in summary) is design.has_combined
    skipped(steps["sample_size"], design.has_combined)
    pred = pd.read_csv(results / "predictions.csv")
    assert ("nested" in set(pred["set"])) is design.has_nested
    assert all((results / lv / "nested_predictions.csv").is_file() is design.has_nested
               for lv in design.level_names)
    skipped(steps["nested"], design.has_nested)
    has_iv = "internal_validation" in rg.table_names(design)
    assert (results / "tables" / "internal_validation.csv").is_file() is has_iv
    skipped("table internal_validation", has_iv)


@pytest.mark.workflow
@pytest.mark.parametrize("cell", E2E_CELLS, ids=lambda c: c.id)
def test_partial_design_runs_to_the_end(cell, tmp_path):
    manifest = write_cohort(cell, tmp_path / "cohort")
    configfile = write_config(cell, tmp_path, manifest)
    work = tmp_path / "work"
    work.mkdir()
    if cell == PARTIAL_TARGET_CELL:  # a run of one target writes no report (Snakefile onsuccess)
        run_workflow(configfile, work, "results/tables/performance.csv")
        assert (work / "results/tables/performance.csv").is_file()
        assert not (work / "results/report.html").exists()
        assert not (work / "results/summary.md").exists()
    run_workflow(configfile, work, "--set-threads", "fit_level=1")  # levels side by side
    assert "Nothing to be done" in snakemake(configfile, work, "-n").stdout
    design = cell.design(manifest)
    results = work / "results"
    missing = [f for f in fr.figure_files(design) if not (results / f).is_file()]
    assert not missing, f"figures not drawn: {missing}"
    tables = {p.stem for p in (results / "tables").glob("*.csv")}
    assert set(rg.table_names(design)) <= tables
    assert not (set(rg.TABLES) - set(rg.table_names(design))) & tables
    pred = pd.read_csv(results / "predictions.csv")
    assert set(pred["model"]) & {"radiomics", "clinical", "combined"} == set(design.arms)
    summary = (results / "summary.md").read_text()
    expected = design.skipped_steps() + rg.skipped_tables(design) + fr.skipped_figures(design)
    assert expected and all(f"- {line}" in summary for line in expected)
    check_study_outputs(design, results)
