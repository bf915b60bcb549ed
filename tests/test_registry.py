"""The evaluation table registry: one entry per table, read by the rules and the package."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_evaluation import make_predictions

from alnburden.design import StudyDesign
from alnburden.evaluation import registry as rg

ROOT = Path(__file__).resolve().parents[1]
CI_CONFIG = yaml.safe_load((ROOT / "tests" / "data" / "ci_config.yaml").read_text())


def _without_ki67(config: dict) -> dict:
    out = copy.deepcopy(config)
    out["clinical"]["variables"] = [v for v in out["clinical"]["variables"] if v["name"] != "ki67"]
    return out


@pytest.fixture(scope="module")
def pred():
    return make_predictions(n=160)


def test_every_caption_file_exists():
    for table in rg.TABLES.values():
        caption = ROOT / "workflow" / "report" / f"{table.caption}.rst"
        assert caption.is_file(), f"{table.name}: no caption {caption}"
        assert caption.read_text().strip(), f"{table.name}: empty caption {caption}"


def test_subgroups_only_for_a_design_with_ki67():
    with_ki67 = StudyDesign.from_config(CI_CONFIG)
    without = StudyDesign.from_config(_without_ki67(CI_CONFIG))
    evaluation = [n for n, t in rg.TABLES.items() if t.rule == "evaluation_tables"]
    assert rg.table_names(with_ki67) == evaluation
    assert rg.table_names(without) == [n for n in evaluation if n != "subgroups"]


def _dry_run_job(tmp_path: Path, config: dict, rule: str, field: str) -> list[str]:
    """The ``field`` (input/output) files of ``rule`` in a dry run of ``config``."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
         "--configfile", str(cfg), "-n", "--cores", "1", "results/summary.md"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    block = re.search(rf"^rule {rule}:\n((?:    .*\n)+)", proc.stdout, flags=re.M)
    assert block, f"rule {rule} is not in the dry run:\n{proc.stdout}"
    line = re.search(rf"^    {field}: (.*)$", block.group(1), flags=re.M)
    return line.group(1).split(", ")


@pytest.mark.parametrize("ki67", [True, False], ids=["with-ki67", "without-ki67"])
def test_rule_outputs_are_the_registry(tmp_path, ki67):
    config = CI_CONFIG if ki67 else _without_ki67(CI_CONFIG)
    names = rg.table_names(StudyDesign.from_config(config))
    outputs = _dry_run_job(tmp_path, config, "evaluation_tables", "output")
    assert outputs == ([f"results/tables/{n}.csv" for n in names]
                       + [f"results/tables/{n}.md" for n in names])
    summary_inputs = _dry_run_job(tmp_path, config, "summary", "input")
    assert ("results/tables/subgroups.csv" in summary_inputs) is ki67


def test_evaluation_tables_computes_the_names_asked(pred):
    tables = rg.evaluation_tables(pred, ["dca", "performance"], n_boot=0)
    assert list(tables) == ["dca", "performance"]
    assert tables["performance"]["cutoff"].notna().all()
    fixed = rg.evaluation_tables(pred, ["performance"], cutoff=0.4)["performance"]
    assert (fixed["cutoff"] == 0.4).all()


def test_evaluation_tables_default_is_every_table(pred):
    evaluation = [n for n, t in rg.TABLES.items() if t.rule == "evaluation_tables"]
    assert list(rg.evaluation_tables(pred, n_boot=0)) == evaluation


def test_unknown_table_or_setting_is_an_error(pred, tmp_path):
    with pytest.raises(ValueError, match=r"no evaluation table 'roc'; the registry .* has \["):
        rg.evaluation_tables(pred, ["roc"])
    with pytest.raises(ValueError, match=r"unknown evaluation setting\(s\) \['bootstrap'\]"):
        rg.evaluation_tables(pred, ["performance"], bootstrap=10)
    with pytest.raises(ValueError, match="no evaluation table 'extra'"):
        rg.write_tables({"extra": make_predictions(n=20)}, tmp_path)


def test_write_tables_titles_from_the_registry(pred, tmp_path):
    tables = rg.evaluation_tables(pred, ["performance", "subgroups"])
    paths = rg.write_tables(tables, tmp_path)
    assert paths == [tmp_path / "performance.csv", tmp_path / "subgroups.csv"]
    for name in tables:
        md = (tmp_path / f"{name}.md").read_text()
        assert md.startswith(f"# {rg.TABLES[name].title}\n"), name


def test_table_settings_defaults_are_the_schema_defaults():
    """TableSettings' defaults are copies of the config schema's: this test keeps them equal."""
    import dataclasses

    from alnburden.evaluation.registry import TableSettings
    from alnburden.schemas import config_default, section_defaults

    schema = section_defaults("evaluation")
    defaults = {f.name: f.default for f in dataclasses.fields(TableSettings)
                if f.name not in ("subgroup_models", "optimism", "nested_folds")}  # not config keys
    assert defaults == {"cutoff": schema["cutoff"], "ki67_cutoff": schema["ki67_cutoff"],
                        "dca_grid": tuple(schema["dca_thresholds"]),
                        "n_boot": schema["bootstrap"], "seed": config_default("seed")}


def test_table_settings_from_config_maps_every_evaluation_key():
    from alnburden.evaluation.registry import TableSettings

    s = TableSettings.from_config({"cutoff": 0.52, "bootstrap": 0, "dca_thresholds": [0.1, 0.5, 0.1]},
                                  seed=7, subgroup_models=["clinical"])
    assert (s.cutoff, s.n_boot, s.dca_grid, s.seed, s.subgroup_models) == (
        0.52, 0, (0.1, 0.5, 0.1), 7, ("clinical",))
    assert s.ki67_cutoff == TableSettings().ki67_cutoff        # missing key: schema default
    assert TableSettings.from_config(None) == TableSettings()
