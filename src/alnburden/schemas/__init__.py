"""The JSON schemas of the config and of a manifest row, shipped inside the package.

They are the one place where config keys, their meaning and their defaults are written:
``workflow/schemas/`` links to these files for Snakemake's ``validate``, and Python code reads
defaults through :func:`section_defaults` instead of repeating them.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib import resources

import yaml

CONFIG_SCHEMA = "config.schema.yaml"
MANIFEST_SCHEMA = "manifest.schema.yaml"


@lru_cache(maxsize=None)
def _load(name: str) -> dict:
    return yaml.safe_load(resources.files(__name__).joinpath(name).read_text())


def load_schema(name: str) -> dict:
    """A fresh copy of the schema ``name`` (:data:`CONFIG_SCHEMA` or :data:`MANIFEST_SCHEMA`)."""
    try:
        return copy.deepcopy(_load(name))
    except FileNotFoundError:
        raise FileNotFoundError(f"no schema {name!r} in alnburden.schemas; use "
                                f"{CONFIG_SCHEMA!r} or {MANIFEST_SCHEMA!r}") from None


def config_default(key: str):
    """Default of the top-level config key ``key`` (e.g. ``"seed"``), from the config schema."""
    props = _load(CONFIG_SCHEMA)["properties"]
    if "default" not in props.get(key, {}):
        raise KeyError(f"config schema gives no default for {key!r}; keys with one: "
                       f"{sorted(k for k, v in props.items() if 'default' in v)}")
    return copy.deepcopy(props[key]["default"])


def _defaults_of(spec: dict):
    """The default a property spec gives, with the defaults of its own properties filled
    in when it is an object (so a nested section's keys are known without the config)."""
    value = copy.deepcopy(spec["default"])
    if isinstance(value, dict) and "properties" in spec:
        for key, sub in spec["properties"].items():
            if "default" in sub and key not in value:
                value[key] = _defaults_of(sub)
    return value


def _merge(defaults: dict, given: dict) -> dict:
    out = dict(defaults)
    for key, value in given.items():
        out[key] = (_merge(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def section_defaults(section: str) -> dict:
    """Defaults of the config section ``section`` (e.g. ``"models"``), from the config schema.

    Every property of the section that the schema gives a ``default`` is returned, an object
    property with its own properties' defaults filled in (e.g. ``internal_validation`` ->
    ``nested`` -> ``folds``); the dict is a copy the caller may change.
    """
    props = _load(CONFIG_SCHEMA)["properties"]
    if section not in props:
        raise KeyError(f"config schema has no section {section!r}; sections: {sorted(props)}")
    return {key: _defaults_of(spec)
            for key, spec in props[section].get("properties", {}).items() if "default" in spec}


def with_defaults(section: str, given: dict | None) -> dict:
    """``given`` (a config section, possibly partial or None) over the schema's defaults;
    a nested object is merged key by key (a partial ``nested: {folds: 3}`` keeps the
    other defaults)."""
    return _merge(section_defaults(section), given or {})
