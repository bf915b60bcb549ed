"""Validation of the user's manifest into the typed cohort table.

:func:`validate_manifest` reads the manifest CSV (one row per patient, paths relative to
the manifest's folder), checks every row against the manifest schema
(``workflow/schemas/manifest.schema.yaml``, extended with the config's clinical variables),
checks every image/mask pair on disk (:mod:`alnburden.cohort.files`) and returns the typed cohort
(the ``results/cohort/cohort.csv`` contract). On any problem it raises
:class:`CohortValidationError`, whose report lists every problem of every row with its fix.
Nothing the user provided is ever written: files are only opened for reading.

Row numbers
-----------
``row`` in the report is the row number a spreadsheet shows for the patient, which is the
line number in the CSV file: the header is row 1, the first patient row 2. Blank lines count
(they are skipped, not renumbered); a quoted cell spanning several lines shifts the count.
Problems of the manifest as a whole (missing file, missing column) have an empty ``row``.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import yaml

from alnburden.cohort.files import NO_SPACING_SUFFIXES, carries_spacing, check_image_pair
from alnburden.io import write_table
from alnburden.schemas import MANIFEST_SCHEMA, load_schema
from alnburden.levels import (NODE_COUNT, Level, add_level_labels, levels_from_config,
                              nodal_class, parse_rule, rule_columns)

logger = logging.getLogger(__name__)

#: Columns of the validation report.
REPORT_COLUMNS = ["row", "patient_id", "column", "problem", "fix"]
#: Report row number of the first patient (the header is row 1).
FIRST_DATA_ROW = 2
#: Cell contents read as "missing" (case-insensitive, after stripping blanks).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})
#: Manifest columns with a fixed meaning (clinical variables may not reuse these names).
BASE_COLUMNS = ("patient_id", "image", "mask", "pixel_spacing_mm", "n_positive_nodes")
#: Relative tolerance between a manifest pixel_spacing_mm and the spacing stored in the file.
SPACING_RTOL = 1e-4

_VARIABLE_TYPES = ("continuous", "binary", "ordinal", "categorical")


class CohortValidationError(ValueError):
    """The manifest has problems; nothing downstream may run.

    Parameters
    ----------
    report
        One row per problem, columns :data:`REPORT_COLUMNS` (``row`` as documented in
        the module docstring; empty for problems of the whole manifest).
    manifest
        Path of the manifest (for the message).
    n_rows
        Number of patient rows of the manifest (for the message), if it could be read.

    Attributes
    ----------
    report : pandas.DataFrame
        The report, as given.
    """

    def __init__(self, report: pd.DataFrame, manifest: str | Path | None = None,
                 n_rows: int | None = None) -> None:
        self.report = report.reset_index(drop=True)
        self.manifest = manifest
        self.n_rows = n_rows
        super().__init__(format_report(self.report, manifest, n_rows))

    def __reduce__(self):  # keep the exception picklable (multiprocessing, Snakemake)
        return (type(self), (self.report, self.manifest, self.n_rows))


def format_report(report: pd.DataFrame, manifest: str | Path | None = None,
                  n_rows: int | None = None) -> str:
    """Human-readable text of a validation report (the str() of the error).

    One header line, then two lines per problem::

        - row 3, patient P002, column mask: mask file masks/P002.png not found (...)
            fix: check the file name; paths are relative to the manifest's folder
    """
    n = len(report)
    bad_rows = report["row"].dropna().nunique()
    head = f"Manifest {manifest if manifest is not None else ''} failed validation: " \
           f"{n} problem{'s' if n != 1 else ''}"
    if n_rows is not None:
        head += f" in {bad_rows} of its {n_rows} patient rows"
    head += (" (row = line of the CSV file, the header being row 1). Nothing was modified; "
             "fix every problem below and run again.")
    lines = [head.replace("Manifest  ", "Manifest ")]
    for rec in report.itertuples(index=False):
        where = "manifest" if pd.isna(rec.row) else f"row {int(rec.row)}"
        if isinstance(rec.patient_id, str) and rec.patient_id:
            where += f", patient {rec.patient_id}"
        if isinstance(rec.column, str) and rec.column:
            where += f", column {rec.column}"
        lines.append(f"  - {where}: {rec.problem}")
        lines.append(f"      fix: {rec.fix}")
    return "\n".join(lines)


def write_validation_report(report: pd.DataFrame | None, path: str | Path) -> None:
    """Write a validation report as CSV plus a Markdown copy (``<stem>.md``).

    Parameters
    ----------
    report
        Report with columns :data:`REPORT_COLUMNS` (e.g. ``CohortValidationError.report``);
        None or an empty report (no problems) writes the header only.
    path
        Destination CSV; parent folders are created.
    """
    report = pd.DataFrame(report, columns=REPORT_COLUMNS).copy()
    report["row"] = pd.array(report["row"], dtype="Int64")
    title = ("Manifest validation report: no problems" if report.empty
             else f"Manifest validation report: {len(report)} problems")
    write_table(report, path, title=title)


# --------------------------------------------------------------------------- schema


def load_manifest_schema(path: str | Path | None = None) -> dict:
    """Read the manifest row schema: ``path``, or the one shipped in :mod:`alnburden.schemas`."""
    if path is None:
        return load_schema(MANIFEST_SCHEMA)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"manifest schema {path} not found; leave schema= empty to use "
                                "the one shipped with alnburden")
    return yaml.safe_load(path.read_text())


def _check_variables(variables: Sequence[dict]) -> list[dict]:
    out = []
    names = set()
    for var in variables:
        name, vtype = var.get("name"), var.get("type")
        if not name or vtype not in _VARIABLE_TYPES:
            raise ValueError(f"clinical variable {var!r} needs a name and a type in "
                             f"{_VARIABLE_TYPES}; fix config clinical.variables")
        if name in BASE_COLUMNS:
            raise ValueError(f"clinical variable name {name!r} is reserved for the manifest's "
                             "own column; rename the variable in config clinical.variables")
        if name in names:
            raise ValueError(f"clinical variable {name!r} is declared twice in config "
                             "clinical.variables; keep one entry")
        if vtype in ("ordinal", "categorical") and not var.get("levels"):
            raise ValueError(f"{vtype} variable {name!r} needs `levels` (its allowed values) "
                             "in config clinical.variables")
        names.add(name)
        out.append(dict(var))
    return out


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
    for var in _check_variables(variables):
        props[var["name"]] = _variable_property(var)
        if var.get("required", True) and var["name"] not in required:
            required.append(var["name"])
    schema["properties"] = props
    schema["required"] = required
    return schema


# --------------------------------------------------------------------------- helpers


class _Problems:
    """Collects report rows."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, row: int | None, patient_id: str, column: str, problem: str, fix: str) -> None:
        self.rows.append({"row": row, "patient_id": patient_id, "column": column,
                          "problem": problem, "fix": fix})

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=REPORT_COLUMNS)
        df["row"] = pd.array(df["row"], dtype="Int64")
        # manifest-level problems first, then by row, keeping the order of the checks
        order = df["row"].fillna(0).astype(int).to_numpy()
        return df.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.rows)


def _is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING_TOKENS


def _to_number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def _coerce(text: str, spec: dict):
    """Cell text -> JSON value for the schema (numbers where the property wants numbers)."""
    types = spec.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if "string" in types:
        return text
    if "enum" in spec:
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec["enum"]):
            num = _to_number(text)
            return text if num is None else num
        return text
    if "number" in types or "integer" in types:
        num = _to_number(text)
        return text if num is None else num
    return text


def _show(text: str) -> str:
    return text if _to_number(text) is not None else repr(text)


def _describe_error(err: jsonschema.ValidationError, prop: str, text: str, spec: dict) -> str:
    kind, limit = err.validator, err.validator_value
    shown = _show(text)
    if kind == "type":
        wanted = {"integer": "not a whole number", "number": "not a number"}
        types = [limit] if isinstance(limit, str) else list(limit)
        return f"{prop} is {shown}, {wanted.get(types[0], 'not of type ' + '/'.join(types))}"
    if kind == "minimum":
        return f"{prop} is {shown}, below the minimum {limit:g}"
    if kind == "maximum":
        return f"{prop} is {shown}, above the maximum {limit:g}"
    if kind == "exclusiveMinimum":
        return f"{prop} is {shown}, not greater than {limit:g}"
    if kind == "exclusiveMaximum":
        return f"{prop} is {shown}, not smaller than {limit:g}"
    if kind == "enum":
        return f"{prop} is {shown}, not one of {', '.join(str(v) for v in limit)}"
    if kind in ("minLength", "pattern"):
        return f"{prop} is empty"
    return f"{prop} is {shown}: {err.message}"


def _read_manifest(path: Path, problems: _Problems) -> pd.DataFrame | None:
    """Read the manifest as stripped strings; None when it cannot be read."""
    fix_path = ("check config cohort.manifest: the path of your manifest CSV, absolute or "
                "relative to the directory Snakemake runs in")
    if not path.exists():
        problems.add(None, "", "", f"manifest file {path} not found", fix_path)
        return None
    if path.is_dir():
        problems.add(None, "", "", f"manifest {path} is a folder, not a CSV file", fix_path)
        return None
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False,
                          encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(None, "", "", f"manifest {path} is not UTF-8 text ({exc.reason})",
                     "save the manifest as 'CSV UTF-8' (comma-separated)")
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.add(None, "", "", f"manifest {path} is not a readable CSV: "
                     f"{str(exc).strip()}", "save the manifest as comma-separated CSV with "
                     "one header line and one line per patient")
        return None
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.add(None, "", name, f"column {name} appears more than once in the header",
                         "keep one column of each name")
        seen.add(name)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw.apply(lambda s: s.str.strip())
    for col in list(raw.columns):
        if col.startswith("Unnamed:"):
            if (raw[col] == "").all():
                raw = raw.drop(columns=col)  # trailing commas
            else:
                problems.add(None, "", col, f"a column without a name holds values ({col})",
                             "give every column a name in the header line")
    raw.index = raw.index + FIRST_DATA_ROW  # index = report row number
    blank = (raw == "").all(axis=1)
    raw = raw.loc[~blank]
    if raw.empty:
        problems.add(None, "", "", f"manifest {path} has no patient rows",
                     "add one line per patient below the header")
        return None
    return raw


def _resolve(manifest_dir: Path, text: str) -> Path:
    return Path(os.path.abspath(manifest_dir / text))


def _as_levels(levels: Iterable[Level | dict]) -> list[Level]:
    levels = list(levels)
    if levels and isinstance(levels[0], dict):
        return levels_from_config({"levels": levels})
    return levels


def _variable_dtype(series: pd.Series, var: dict) -> pd.Series:
    vtype = var["type"]
    if vtype == "continuous":
        return pd.to_numeric(series).astype(float)
    if vtype == "binary":
        return pd.to_numeric(series).astype("Int64")
    levels = list(var["levels"])
    if all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        return pd.to_numeric(series).astype("Int64")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels):
        return pd.to_numeric(series).astype(float)
    return series.astype(object)


def _typed(raw: pd.DataFrame, variables: list[dict], manifest_dir: Path,
           drop: set[str]) -> pd.DataFrame:
    by_name = {v["name"]: v for v in variables}
    out = {}
    for col in raw.columns:
        if col in drop:
            continue
        s = raw[col].where(~raw[col].str.lower().isin(MISSING_TOKENS))
        if col == "patient_id":
            out[col] = s.astype(object)
        elif col in ("image", "mask"):
            out[col] = s.map(lambda t: str(_resolve(manifest_dir, t)), na_action="ignore")
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


# --------------------------------------------------------------------------- main


def validate_manifest(manifest_path: str | Path, variables: Sequence[dict],
                      levels: Sequence[Level | dict], min_lesion_pixels: int = 64,
                      allow_border_contact: bool = False, *,
                      schema: str | Path | dict | None = None,
                      report_path: str | Path | None = None) -> pd.DataFrame:
    """Validate a manifest and return the typed cohort.

    Parameters
    ----------
    manifest_path
        The manifest CSV (one row per patient; ``image``/``mask`` relative to its folder).
    variables
        Config ``clinical.variables``: dicts with ``name``, ``type`` (continuous, binary,
        ordinal, categorical), ``min``/``max`` (continuous), ``levels`` (ordinal,
        categorical), ``required`` (default true).
    levels
        The hierarchy (:class:`~alnburden.levels.Level` objects or the config's dicts).
    min_lesion_pixels
        Smallest accepted lesion area (pixels).
    allow_border_contact
        Accept lesions touching the image border.
    schema
        Manifest row schema (path or dict); default ``workflow/schemas/manifest.schema.yaml``.
    report_path
        If given, the validation report is written there (CSV + Markdown) before returning
        or raising; an empty report means no problem.

    Returns
    -------
    pandas.DataFrame
        One row per patient in manifest order: every manifest column (``image``/``mask``
        as absolute paths; numbers typed: ``n_positive_nodes`` int, continuous float,
        binary and integer-coded ordinal ``Int64``), then ``nodal_class`` (N0 / N1-2 /
        N>=3; only when the manifest has ``n_positive_nodes``), one column per level
        (0/1 inside its population, <NA> outside) and, when the manifest has images,
        ``n_components`` (8-connected lesion components).
        ``n_positive_nodes`` is required when a level rule reads it (the ALN hierarchy);
        in general every column a level rule reads is required, numeric and non-empty.
        A manifest without ``image``/``mask`` columns is a clinical-only cohort: no file
        checks, no ``n_components``.

    Raises
    ------
    CohortValidationError
        On any problem of the manifest or its files; ``.report`` lists them all.
    ValueError
        When ``variables`` itself is malformed, or a level's label column is also a
        clinical variable (it would leak the label into the clinical model): config
        problems, not manifest problems.
    """
    t0 = time.perf_counter()
    manifest_path = Path(manifest_path)
    variables = _check_variables(variables)
    levels = _as_levels(levels)
    _check_no_label_leak(levels, variables)
    base = schema if isinstance(schema, dict) else load_manifest_schema(schema)
    problems = _Problems()
    raw = _read_manifest(manifest_path, problems)
    cohort = None
    n_rows = None
    if raw is not None:
        n_rows = len(raw)
        cohort = _validate_rows(raw, manifest_path, variables, levels, base, problems,
                                min_lesion_pixels, allow_border_contact)
    report = problems.frame()
    if report_path is not None:
        write_validation_report(report, report_path)
    if len(report):
        logger.error("manifest %s: %d problems in %d rows", manifest_path, len(report),
                     report["row"].dropna().nunique())
        raise CohortValidationError(report, manifest_path, n_rows)
    assert cohort is not None
    counts = {lv.name: {int(k): int(v) for k, v in
                        cohort[lv.name].value_counts().sort_index().items()} for lv in levels}
    if "nodal_class" in cohort:
        counts["nodal_class"] = cohort["nodal_class"].value_counts().to_dict()
    logger.info("manifest %s: %d patients valid (%s) in %.1f s", manifest_path, len(cohort),
                counts, time.perf_counter() - t0)
    return cohort


def _check_no_label_leak(levels: list[Level], variables: list[dict]) -> None:
    """A level's label column may not also be a clinical predictor."""
    names = {v["name"] for v in variables}
    for lv in levels:
        col = parse_rule(lv.label).column
        if col in names:
            raise ValueError(
                f"level {lv.name!r} takes its label from {col!r} ({lv.label!r}), which is also "
                "declared in config clinical.variables: the clinical and combined models would "
                f"be given the label; remove {col!r} from clinical.variables")


def _validate_rows(raw: pd.DataFrame, manifest_path: Path, variables: list[dict],
                   levels: list[Level], base: dict, problems: _Problems,
                   min_lesion_pixels: int, allow_border_contact: bool) -> pd.DataFrame | None:
    columns = set(raw.columns)
    manifest_dir = manifest_path.parent
    has_image, has_mask = "image" in columns, "mask" in columns
    has_images = has_image and has_mask

    # ---- manifest-level: columns
    label_cols = rule_columns(levels)
    for col in ["patient_id", *label_cols]:
        if col not in columns:
            readers = [f"{lv.name} ({lv.population}; {lv.label})" for lv in levels
                       if col in lv.columns]
            why = f" (read by level {', '.join(readers)})" if readers else ""
            fix = f"add a {col} column (see the manifest contract in the README)"
            if readers and col != NODE_COUNT:
                fix += ", or change the level rules in config levels"
            problems.add(None, "", col, f"required column {col} is missing{why}", fix)
    if has_image != has_mask:
        present, absent = ("image", "mask") if has_image else ("mask", "image")
        problems.add(None, "", absent, f"column {absent} is missing but {present} is present",
                     f"add the {absent} column, or remove {present} for a clinical-only cohort")
    for var in variables:
        if var["name"] in columns:
            continue
        if var.get("required", True):
            problems.add(None, "", var["name"],
                         f"required column {var['name']} (clinical variable, {var['type']}) "
                         "is missing", f"add a {var['name']} column, or remove the variable "
                         "from config clinical.variables")
        else:
            logger.warning("optional clinical variable %s is absent from the manifest: all "
                           "values missing", var["name"])
            raw[var["name"]] = ""
    if has_images and "pixel_spacing_mm" not in columns:
        no_spacing = raw["image"].str.lower().str.endswith(NO_SPACING_SUFFIXES)
        if no_spacing.any():
            problems.add(None, "", "pixel_spacing_mm",
                         f"column pixel_spacing_mm is missing but {int(no_spacing.sum())} images "
                         "are PNG/JPEG/BMP/TIFF files, which store no pixel size",
                         "add a pixel_spacing_mm column with each image's pixel size in mm")
    columns = set(raw.columns)

    # ---- per row: schema
    schema = manifest_row_schema(variables, has_images, base, label_columns=label_cols)
    props = schema["properties"]
    validator = jsonschema.Draft202012Validator(schema)
    ids = pd.Series("", index=raw.index)
    if "patient_id" in columns:
        ids = raw["patient_id"].where(~raw["patient_id"].map(_is_missing), "")
    rule_ok = pd.Series(True, index=raw.index)  # every rule column valid in the row
    for row, rec_text in raw.iterrows():
        pid = ids[row]
        record = {}
        for col, text in rec_text.items():
            if col in props and not _is_missing(text):
                record[col] = _coerce(text, props[col])
        missing_done = False
        bad_cols = set()
        for err in validator.iter_errors(record):
            if err.validator == "required":
                if missing_done:
                    continue
                missing_done = True
                for col in err.validator_value:
                    if col in record or col not in columns:
                        continue
                    bad_cols.add(col)
                    fix = props[col].get("fix", f"fill in {col}")
                    if col not in BASE_COLUMNS:
                        fix = (f"fill in {col}, or declare it `required: false` in config "
                               "clinical.variables to allow missing values")
                    problems.add(row, pid, col, f"{col} is missing (empty cell)", fix)
                continue
            if not err.absolute_path:
                problems.add(row, pid, "", err.message, "see the manifest contract in the README")
                continue
            col = str(err.absolute_path[0])
            bad_cols.add(col)
            problems.add(row, pid, col, _describe_error(err, col, rec_text[col], props[col]),
                         props[col].get("fix", ""))
        rule_ok[row] = all(c in record and c not in bad_cols for c in label_cols)

    # ---- cross-row: duplicate ids
    present = ids[ids != ""]
    for pid, rows in present.groupby(present).groups.items():
        if len(rows) > 1:
            where = ", ".join(str(r) for r in rows)
            for r in rows:
                problems.add(r, pid, "patient_id",
                             f"duplicate patient_id {pid} (rows {where})",
                             "give each patient one row with a unique patient_id (merge or "
                             "delete the repeated rows)")

    # ---- labels typed by hand must agree with the node count
    rule_values = pd.DataFrame(index=raw.index)
    for col in label_cols:
        if col in columns:
            rule_values[col] = np.where(rule_ok, raw[col].map(_to_number), np.nan).astype(float)
    derived = {"nodal_class", "n_components"} | {lv.name for lv in levels}
    _check_label_columns(raw, levels, rule_values, rule_ok, ids, problems)
    if "n_components" in columns:
        logger.warning("manifest column n_components is replaced by the mask's components")

    # ---- files
    n_components = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    if has_images:
        has_spacing_col = "pixel_spacing_mm" in columns
        for row in raw.index:
            pid, img_text, mask_text = ids[row], raw.at[row, "image"], raw.at[row, "mask"]
            if _is_missing(img_text) or _is_missing(mask_text):
                continue  # reported as missing by the schema
            spacing_text = raw.at[row, "pixel_spacing_mm"] if has_spacing_col else ""
            given = None if _is_missing(spacing_text) else _to_number(spacing_text)
            given = given if given is not None and given > 0 else None
            res = check_image_pair(_resolve(manifest_dir, img_text),
                                   _resolve(manifest_dir, mask_text), img_text, mask_text,
                                   min_lesion_pixels, allow_border_contact, given)
            for p in res.problems:
                problems.add(row, pid, p.column, p.problem, p.fix)
            if res.n_components is not None:
                n_components[row] = res.n_components
            if not carries_spacing(img_text):
                if has_spacing_col and _is_missing(spacing_text):
                    problems.add(row, pid, "pixel_spacing_mm",
                                 f"pixel_spacing_mm is missing and image {img_text} is a "
                                 f"{Path(img_text).suffix.lstrip('.').upper()} file, which "
                                 "stores no pixel size", props["pixel_spacing_mm"]["fix"])
            elif res.image_spacing_mm is not None and given is not None:
                stored = res.image_spacing_mm[:2]
                if not np.allclose(stored, given, rtol=SPACING_RTOL, atol=0):
                    problems.add(row, pid, "pixel_spacing_mm",
                                 f"pixel_spacing_mm is {spacing_text} but image {img_text} "
                                 f"stores {' x '.join(f'{s:g}' for s in stored)} mm",
                                 "leave pixel_spacing_mm empty for files that store their "
                                 "spacing (NRRD, NIfTI, DICOM), or correct it")
    if len(problems):
        return None

    cohort = _typed(raw, variables, manifest_dir, drop=derived)
    if NODE_COUNT in cohort:
        nodes = cohort[NODE_COUNT]
        cohort["nodal_class"] = pd.Series(nodal_class(nodes.fillna(-1).to_numpy()),
                                          index=cohort.index).where(nodes.notna())
    cohort = add_level_labels(cohort, levels)
    if has_images:
        cohort["n_components"] = n_components
    return cohort.reset_index(drop=True)


def _check_label_columns(raw: pd.DataFrame, levels: list[Level], values: pd.DataFrame,
                         rule_ok: pd.Series, ids: pd.Series, problems: _Problems) -> None:
    """Columns named like a derived label must agree with the columns the rules read.

    ``values`` holds the rule columns as numbers (NaN where invalid); ``rule_ok`` marks
    the rows where every rule column is valid (only those are compared).
    """
    if "nodal_class" in raw.columns and NODE_COUNT in values:
        fix = ("nodal_class is derived from n_positive_nodes: correct the count, or delete "
               "the column nodal_class (it is recomputed)")
        n_nodes = values[NODE_COUNT].fillna(-1).astype(int)
        expected = pd.Series(nodal_class(n_nodes.to_numpy()), index=raw.index)
        for row in raw.index[rule_ok]:
            text = raw.at[row, "nodal_class"]
            if not _is_missing(text) and text != expected[row]:
                problems.add(row, ids[row], "nodal_class",
                             f"nodal_class is {text} but n_positive_nodes = {n_nodes[row]} "
                             f"gives {expected[row]}", fix)
    for lv in levels:
        if lv.name not in raw.columns or not set(lv.columns) <= set(values.columns):
            continue
        inside = lv.in_population(values)
        label = lv.labels(values)
        source = " and ".join(lv.columns)
        what = "the count" if source == NODE_COUNT else "it"
        fix = (f"labels are derived from {source}: correct {what}, or delete the column "
               f"{lv.name} (it is recomputed)")
        for i, row in enumerate(raw.index):
            text = raw.at[row, lv.name]
            if not rule_ok[row] or not inside[i] or _is_missing(text):
                continue
            if _to_number(text) != label[i]:
                given = ", ".join(f"{c} = {values.at[row, c]:g}" for c in lv.columns)
                problems.add(row, ids[row], lv.name,
                             f"{lv.name} is {_show(text)} but {given} gives {label[i]} "
                             f"({lv.name}: {lv.label})", fix)
