"""The JSON schema of one manifest row for a config.

The base schema ships in :mod:`alnburden.schemas` (``manifest.schema.yaml``: patient_id,
image, mask, pixel_spacing_mm, n_positive_nodes); :func:`manifest_row_schema` adds one
property per clinical variable of the config and per column a level rule reads. Each
property carries a ``fix`` (an alnburden annotation, ignored by JSON schema validators):
the advice the validation report gives when the property is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from alnburden.cohort.config import check_variables
from alnburden.levels import NODE_COUNT
from alnburden.schemas import MANIFEST_SCHEMA, load_schema


def load_manifest_schema(path: str | Path | None = None) -> dict:
    """Read the manifest row schema: ``path``, or the one shipped in :mod:`alnburden.schemas`."""
    if path is None:
        return load_schema(MANIFEST_SCHEMA)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"manifest schema {path} not found; leave schema= empty to use "
                                "the one shipped with alnburden")
    return yaml.safe_load(path.read_text())


def _variable_property(var: dict) -> dict:
    vtype = var["type"]
    if vtype == "continuous":
        prop: dict = {"type": "number"}
        if var.get("min") is not None:
            prop["minimum"] = var["min"]
        if var.get("max") is not None:
            prop["maximum"] = var["max"]
    elif vtype == "binary":
        prop = {"enum": [0, 1]}
    else:
        prop = {"enum": list(var["levels"])}
    prop["description"] = f"clinical variable ({vtype})"
    prop["fix"] = _variable_fix(var)
    return prop


def _variable_fix(var: dict) -> str:
    name, vtype, unit = var["name"], var["type"], var.get("unit") or ""
    if vtype == "continuous":
        lo, hi = var.get("min"), var.get("max")
        if lo is not None and hi is not None:
            rng = f"from {lo:g} to {hi:g}"
        elif lo is not None:
            rng = f">= {lo:g}"
        elif hi is not None:
            rng = f"<= {hi:g}"
        else:
            rng = ""
        return " ".join(f"enter {name} as a number {rng} {unit}".split())
    if vtype == "binary":
        return f"code {name} as 0 (no / negative) or 1 (yes / positive)"
    levels = ", ".join(str(v) for v in var["levels"])
    return f"use one of the declared values of {name} ({levels}), as set in config clinical.variables"


def manifest_row_schema(variables: Sequence[dict], has_images: bool = True,
                        base: dict | None = None,
                        label_columns: Sequence[str] = (NODE_COUNT,)) -> dict:
    """The JSON schema of one manifest row for this config.

    Parameters
    ----------
    variables
        Config ``clinical.variables`` (name, type, min/max, levels, required).
    has_images
        Whether the manifest has ``image``/``mask`` columns (then both are required).
    base
        The base schema (default: :func:`load_manifest_schema`).
    label_columns
        Columns the levels' rules read (:func:`alnburden.levels.rule_columns`); each is
        required in every row. A column the base schema does not describe (anything but
        ``n_positive_nodes``) must be a number. Default: the ALN hierarchy's node count.

    Returns
    -------
    dict
        ``base`` with one property per clinical variable and per rule column, and the
        required list extended.
    """
    schema = dict(base if base is not None else load_manifest_schema())
    props = dict(schema.get("properties", {}))
    required = list(schema.get("required", []))
    if has_images:
        required += [c for c in ("image", "mask") if c not in required]
    for col in label_columns:
        if col not in props:
            props[col] = {"type": "number", "description": "read by a level rule",
                          "fix": f"enter {col} as a number in every row (a level rule in "
                                 "config levels reads it)"}
        if col not in required:
            required.append(col)
    for var in check_variables(variables):
        props[var["name"]] = _variable_property(var)
        if var.get("required", True) and var["name"] not in required:
            required.append(var["name"])
    schema["properties"] = props
    schema["required"] = required
    return schema
