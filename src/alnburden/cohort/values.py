"""Cell values of the manifest: missing tokens, numbers, the schema's view of a cell, the
wording of a bad value, and the typed cohort columns.

The manifest is read as stripped strings (:func:`alnburden.cohort.manifest_file.read_manifest`);
this module turns them into what the row schema checks (:func:`coerce`) and, once every row
is valid, into the typed cohort (:func:`typed_cohort`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import pandas as pd

from alnburden.cohort.manifest_file import resolve_path
from alnburden.levels import NODE_COUNT

#: Cell contents read as "missing" (case-insensitive, after stripping blanks).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})

#: How a value beyond a schema bound is described, by JSON schema keyword.
_BOUND_WORDS = {"minimum": "below the minimum", "maximum": "above the maximum",
                "exclusiveMinimum": "not greater than", "exclusiveMaximum": "not smaller than"}


def is_missing(text: str) -> bool:
    """Whether a cell (text) is empty or one of :data:`MISSING_TOKENS`."""
    return text.strip().lower() in MISSING_TOKENS


def to_number(text: str) -> int | float | None:
    """The finite number a cell holds (int when integral), or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def numeric_levels(levels: Sequence) -> bool:
    """Whether every declared level of a variable is a number (booleans are not)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels)


def coerce(text: str, spec: dict):
    """Cell text -> JSON value for the schema property ``spec`` (a number where the property
    wants numbers and the text is one, else the text)."""
    types = spec.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if "string" in types:
        return text
    wants_number = (numeric_levels(spec["enum"]) if "enum" in spec
                    else bool({"number", "integer"} & set(types)))
    num = to_number(text) if wants_number else None
    return text if num is None else num


def show(text: str) -> str:
    """A cell as the report shows it: numbers bare, anything else quoted."""
    return text if to_number(text) is not None else repr(text)


def describe_error(err: jsonschema.ValidationError, prop: str, text: str) -> str:
    """What is wrong with the cell ``text`` of column ``prop``, in the report's words."""
    kind, limit = err.validator, err.validator_value
    shown = show(text)
    if kind == "type":
        wanted = {"integer": "not a whole number", "number": "not a number"}
        types = [limit] if isinstance(limit, str) else list(limit)
        return f"{prop} is {shown}, {wanted.get(types[0], 'not of type ' + '/'.join(types))}"
    if kind in _BOUND_WORDS:
        return f"{prop} is {shown}, {_BOUND_WORDS[kind]} {limit:g}"
    if kind == "enum":
        return f"{prop} is {shown}, not one of {', '.join(str(v) for v in limit)}"
    if kind in ("minLength", "pattern"):
        return f"{prop} is empty"
    return f"{prop} is {shown}: {err.message}"


def _variable_dtype(series: pd.Series, var: dict) -> pd.Series:
    vtype = var["type"]
    if vtype == "continuous":
        return pd.to_numeric(series).astype(float)
    if vtype == "binary":
        return pd.to_numeric(series).astype("Int64")
    levels = list(var["levels"])
    if all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        return pd.to_numeric(series).astype("Int64")
    if numeric_levels(levels):
        return pd.to_numeric(series).astype(float)
    return series.astype(object)


def typed_cohort(raw: pd.DataFrame, variables: list[dict], manifest_dir: Path,
                 drop: set[str]) -> pd.DataFrame:
    """The valid manifest's columns typed (the ``cohort.csv`` contract), ``drop`` left out.

    ``patient_id`` stays text; ``image``/``mask``/``mask_reader2`` become absolute paths; ``pixel_spacing_mm``
    float; ``n_positive_nodes`` int64 (Int64 with missing values); clinical variables by type
    (continuous float, binary and integer-coded ordinal Int64, other levels float or text);
    any other column numeric when every value is a number, else text. Missing tokens -> NA.
    """
    by_name = {v["name"]: v for v in variables}
    out = {}
    for col in raw.columns:
        if col in drop:
            continue
        s = raw[col].where(~raw[col].str.lower().isin(MISSING_TOKENS))
        if col == "patient_id":
            out[col] = s.astype(object)
        elif col in ("image", "mask", "mask_reader2"):
            out[col] = s.map(lambda t: str(resolve_path(manifest_dir, t)), na_action="ignore")
        elif col == "pixel_spacing_mm":
            out[col] = pd.to_numeric(s).astype(float)
        elif col == NODE_COUNT:
            num = pd.to_numeric(s)
            out[col] = num.astype("int64") if num.notna().all() else num.astype("Int64")
        elif col in by_name:
            out[col] = _variable_dtype(s, by_name[col])
        else:
            num = pd.to_numeric(s, errors="coerce")
            out[col] = num if num.notna().sum() == s.notna().sum() else s.astype(object)
    return pd.DataFrame(out, index=raw.index)
