"""The config schema: the shipped configs validate, invalid ones are rejected with a clear error."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
CONFIGS = [ROOT / "config" / "config.yaml", *sorted((ROOT / "config" / "presets").glob("*.yaml"))]


def load(path):
    return yaml.safe_load(Path(path).read_text())


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    config = load(path)
    if path.parent.name == "presets":  # presets are layered over the default config
        config = {**load(CONFIGS[0]), **config}
    validate(config, schema=SCHEMA)


def test_defaults_are_filled_in():
    config = {"levels": [{"name": "level1", "label": "n_positive_nodes > 0"}]}
    validate(config, schema=SCHEMA)
    assert config["split"]["test_fraction"] == 0.3
    assert config["radiomics"]["robustness"]["threshold"] == 0.75
    assert config["levels"][0]["population"] == "all"


def test_every_property_has_a_description():
    schema = load(SCHEMA)

    seen = []

    def walk(node, where):
        for name, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{where}.{name} has no description"
            seen.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")

    walk(schema, "config")
    # the walk reached nested and list-item properties (it did not pass by finding none)
    assert {"config.evaluation.cutoff", "config.levels[].name"} <= set(seen)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda c: c["split"].update(test_fraction=1.5), "test_fraction"),
        (lambda c: c["levels"][1].update(label="n_positive_nodes => 3"), "label"),
        (lambda c: c["models"].update(learners=["deep_magic"]), "deep_magic"),
        (lambda c: c.update(threads=8), "threads"),
        (lambda c: c["radiomics"].update(peritumoral_mm=[-2]), "peritumoral_mm"),
    ],
    ids=["fraction>1", "bad-label-rule", "unknown-learner", "threads-not-config", "negative-ring"],
)
def test_invalid_config_is_rejected(mutate, match):
    config = copy.deepcopy(load(CONFIGS[0]))
    mutate(config)
    with pytest.raises(WorkflowError, match=match):
        validate(config, schema=SCHEMA)
