"""The checks of a manifest read as text, one function per step of
:func:`alnburden.cohort.manifest.validate_manifest`.

In order: the columns of the manifest as a whole (:func:`column_problems`), each row
against the row schema (:func:`row_problems`), duplicate ids (:func:`duplicate_id_problems`),
hand-typed labels against the columns the level rules read (:func:`label_problems`),
each row's image and mask on disk (:func:`file_problems`), and the columns of a user-given
or grouped split (:func:`split_column_problems`, :func:`split_level_problems`). Every step
adds what it finds to the :class:`~alnburden.cohort.report.ProblemLog` and raises nothing,
so that the report lists every problem of every row at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd

from alnburden.cohort.config import BASE_COLUMNS
from alnburden.cohort.files import check_image_pair
from alnburden.cohort.manifest_file import resolve_path
from alnburden.cohort.report import ProblemLog
from alnburden.cohort.split import one_class_sides, set_value
from alnburden.cohort.values import coerce, describe_error, is_missing, show, to_number
from alnburden.io.images import is_raster, same_spacing
from alnburden.levels import NODE_COUNT, Level, nodal_class

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- columns


def _rule_column_problems(columns: set[str], levels: list[Level], label_cols: list[str],
                          problems: ProblemLog) -> None:
    """``patient_id`` and every column a level rule reads must be present."""
    for col in ["patient_id", *label_cols]:
        if col in columns:
            continue
        readers = [f"{lv.name} ({lv.population}; {lv.label})" for lv in levels
                   if col in lv.columns]
        why = f" (read by level {', '.join(readers)})" if readers else ""
        fix = f"add a {col} column (see the manifest contract in the README)"
        if readers and col != NODE_COUNT:
            fix += ", or change the level rules in config levels"
        problems.add(None, "", col, f"required column {col} is missing{why}", fix)


def _variable_column_problems(raw: pd.DataFrame, variables: list[dict],
                              problems: ProblemLog) -> None:
    """A required clinical variable must be a column; an absent optional one is added empty."""
    for var in variables:
        if var["name"] in raw.columns:
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


def column_problems(raw: pd.DataFrame, variables: list[dict], levels: list[Level],
                    label_cols: list[str], problems: ProblemLog) -> bool:
    """Problems of the manifest's columns (report rows without a row number).

    Adds an empty column to ``raw`` for each absent optional clinical variable.

    Returns
    -------
    bool
        Whether the manifest has both ``image`` and ``mask`` (else it is clinical-only,
        or one of them is missing, which is reported).
    """
    columns = set(raw.columns)
    has_image, has_mask = "image" in columns, "mask" in columns
    _rule_column_problems(columns, levels, label_cols, problems)
    if has_image != has_mask:
        present, absent = ("image", "mask") if has_image else ("mask", "image")
        problems.add(None, "", absent, f"column {absent} is missing but {present} is present",
                     f"add the {absent} column, or remove {present} for a clinical-only cohort")
    _variable_column_problems(raw, variables, problems)
    has_images = has_image and has_mask
    if has_images and "pixel_spacing_mm" not in columns:
        n_raster = int(raw["image"].map(is_raster).sum())
        if n_raster:
            problems.add(None, "", "pixel_spacing_mm",
                         f"column pixel_spacing_mm is missing but {n_raster} images "
                         "are PNG/JPEG/BMP/TIFF files, which store no pixel size",
                         "add a pixel_spacing_mm column with each image's pixel size in mm")
    return has_images


# --------------------------------------------------------------------------- rows


def _missing_cell_fix(col: str, props: dict) -> str:
    if col not in BASE_COLUMNS:
        return (f"fill in {col}, or declare it `required: false` in config "
                "clinical.variables to allow missing values")
    return props[col].get("fix", f"fill in {col}")


def _schema_problems(validator: jsonschema.Draft202012Validator, record: dict,
                     cells: pd.Series, row: int, pid: str, problems: ProblemLog) -> set[str]:
    """Report the schema errors of one row; return the columns found wrong.

    An empty cell of a required column is reported once (the schema's ``required`` lists
    them all; columns absent from the manifest were reported by :func:`column_problems`).
    """
    props = validator.schema["properties"]
    bad_cols: set[str] = set()
    required_done = False
    for err in validator.iter_errors(record):
        if err.validator == "required":
            if not required_done:
                required_done = True
                empty = [c for c in err.validator_value if c not in record and c in cells.index]
                for col in empty:
                    problems.add(row, pid, col, f"{col} is missing (empty cell)",
                                 _missing_cell_fix(col, props))
                bad_cols.update(empty)
            continue
        if not err.absolute_path:
            problems.add(row, pid, "", err.message, "see the manifest contract in the README")
            continue
        col = str(err.absolute_path[0])
        bad_cols.add(col)
        problems.add(row, pid, col, describe_error(err, col, cells[col]),
                     props[col].get("fix", ""))
    return bad_cols


def row_problems(raw: pd.DataFrame, schema: dict, ids: pd.Series, label_cols: list[str],
                 problems: ProblemLog) -> pd.Series:
    """Check every row against the row schema (empty cells are left out of the record).

    Returns
    -------
    pandas.Series of bool
        Per row: every rule column is present and valid (only those rows are labelled).
    """
    props = schema["properties"]
    validator = jsonschema.Draft202012Validator(schema)
    rule_ok = pd.Series(True, index=raw.index)
    for row, cells in raw.iterrows():
        record = {col: coerce(text, props[col]) for col, text in cells.items()
                  if col in props and not is_missing(text)}
        bad_cols = _schema_problems(validator, record, cells, row, ids[row], problems)
        rule_ok[row] = all(c in record and c not in bad_cols for c in label_cols)
    return rule_ok


def duplicate_id_problems(ids: pd.Series, problems: ProblemLog) -> None:
    """Each row of a patient_id given to several rows (empty ids are not compared)."""
    present = ids[ids != ""]
    for pid, rows in present.groupby(present).groups.items():
        if len(rows) > 1:
            where = ", ".join(str(r) for r in rows)
            for r in rows:
                problems.add(r, pid, "patient_id",
                             f"duplicate patient_id {pid} (rows {where})",
                             "give each patient one row with a unique patient_id (merge or "
                             "delete the repeated rows)")


# --------------------------------------------------------------------------- labels


def _nodal_class_problems(raw: pd.DataFrame, values: pd.DataFrame, rule_ok: pd.Series,
                          ids: pd.Series, problems: ProblemLog) -> None:
    fix = ("nodal_class is derived from n_positive_nodes: correct the count, or delete "
           "the column nodal_class (it is recomputed)")
    n_nodes = values[NODE_COUNT].fillna(-1).astype(int)
    expected = pd.Series(nodal_class(n_nodes.to_numpy()), index=raw.index)
    for row in raw.index[rule_ok]:
        text = raw.at[row, "nodal_class"]
        if not is_missing(text) and text != expected[row]:
            problems.add(row, ids[row], "nodal_class",
                         f"nodal_class is {text} but n_positive_nodes = {n_nodes[row]} "
                         f"gives {expected[row]}", fix)


def _level_label_problems(raw: pd.DataFrame, lv: Level, values: pd.DataFrame,
                          rule_ok: pd.Series, ids: pd.Series, problems: ProblemLog) -> None:
    inside = lv.in_population(values)
    label = lv.labels(values)
    source = " and ".join(lv.columns)
    what = "the count" if source == NODE_COUNT else "it"
    fix = (f"labels are derived from {source}: correct {what}, or delete the column "
           f"{lv.name} (it is recomputed)")
    for i, row in enumerate(raw.index):
        text = raw.at[row, lv.name]
        if not rule_ok[row] or not inside[i] or is_missing(text):
            continue
        if to_number(text) != label[i]:
            given = ", ".join(f"{c} = {values.at[row, c]:g}" for c in lv.columns)
            problems.add(row, ids[row], lv.name,
                         f"{lv.name} is {show(text)} but {given} gives {label[i]} "
                         f"({lv.name}: {lv.label})", fix)


def label_problems(raw: pd.DataFrame, levels: list[Level], label_cols: list[str],
                   rule_ok: pd.Series, ids: pd.Series, problems: ProblemLog) -> None:
    """Columns named like a derived label (``nodal_class``, a level) must agree with the
    columns the rules read; only rows where every rule column is valid are compared."""
    values = pd.DataFrame(index=raw.index)
    for col in label_cols:
        if col in raw.columns:
            values[col] = np.where(rule_ok, raw[col].map(to_number), np.nan).astype(float)
    if "nodal_class" in raw.columns and NODE_COUNT in values:
        _nodal_class_problems(raw, values, rule_ok, ids, problems)
    for lv in levels:
        if lv.name in raw.columns and set(lv.columns) <= set(values.columns):
            _level_label_problems(raw, lv, values, rule_ok, ids, problems)


# --------------------------------------------------------------------------- files


def _spacing_problems(row: int, pid: str, img_text: str, spacing_text: str | None,
                      stored: tuple[float, ...] | None, given: float | None, props: dict,
                      problems: ProblemLog) -> None:
    """The manifest's pixel_spacing_mm against the image: needed for a raster image (when
    the column exists but the cell is empty), consistent with the spacing a file stores."""
    if is_raster(img_text):
        if spacing_text is not None and is_missing(spacing_text):
            problems.add(row, pid, "pixel_spacing_mm",
                         f"pixel_spacing_mm is missing and image {img_text} is a "
                         f"{Path(img_text).suffix.lstrip('.').upper()} file, which "
                         "stores no pixel size", props["pixel_spacing_mm"]["fix"])
    elif stored is not None and given is not None and not same_spacing(stored[:2], given):
        problems.add(row, pid, "pixel_spacing_mm",
                     f"pixel_spacing_mm is {spacing_text} but image {img_text} "
                     f"stores {' x '.join(f'{s:g}' for s in stored[:2])} mm",
                     "leave pixel_spacing_mm empty for files that store their "
                     "spacing (NRRD, NIfTI, DICOM), or correct it")


def file_problems(raw: pd.DataFrame, ids: pd.Series, manifest_dir: Path, props: dict,
                  min_lesion_pixels: int, allow_border_contact: bool,
                  problems: ProblemLog) -> pd.Series:
    """Check each row's image and mask (:func:`alnburden.cohort.files.check_image_pair`)
    and its pixel_spacing_mm; rows with an empty path were reported by the schema.

    ``props`` are the row schema's properties (the fix of a missing pixel_spacing_mm).

    Returns
    -------
    pandas.Series of Int64
        Connected components of each row's lesion (<NA> where not assessed).
    """
    n_components = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    has_spacing_col = "pixel_spacing_mm" in raw.columns
    for row in raw.index:
        pid, img_text, mask_text = ids[row], raw.at[row, "image"], raw.at[row, "mask"]
        if is_missing(img_text) or is_missing(mask_text):
            continue
        spacing_text = raw.at[row, "pixel_spacing_mm"] if has_spacing_col else None
        given = None if spacing_text is None or is_missing(spacing_text) else to_number(spacing_text)
        given = given if given is not None and given > 0 else None
        res = check_image_pair(resolve_path(manifest_dir, img_text),
                               resolve_path(manifest_dir, mask_text), img_text, mask_text,
                               min_lesion_pixels, allow_border_contact, given)
        for p in res.problems:
            problems.add(row, pid, p.column, p.problem, p.fix)
        if res.n_components is not None:
            n_components[row] = res.n_components
        _spacing_problems(row, pid, img_text, spacing_text, res.image_spacing_mm, given,
                          props, problems)
        if "mask_reader2" in raw.columns and not is_missing(raw.at[row, "mask_reader2"]):
            _second_reader_problems(row, pid, manifest_dir, img_text, raw.at[row, "mask_reader2"],
                                    min_lesion_pixels, allow_border_contact, given, problems)
    return n_components


# --------------------------------------------------------------------------- split columns


def split_column_problems(raw: pd.DataFrame, ids: pd.Series, column: str | None,
                          group: str | None, problems: ProblemLog) -> None:
    """The columns named by config ``split.column`` and ``split.group``.

    ``column``: present, every cell ``train`` or ``test`` (case-insensitive,
    :func:`alnburden.cohort.split.set_value`). ``group``: present, no empty cell, and (with
    ``column``) each group on one side: every row of a group on both sides is reported.
    """
    fix_set = (f"write train or test in {column} (case does not matter), or remove "
               "split.column from the config for the stratified random split")
    for col, key in ((column, "split.column"), (group, "split.group")):
        if col and col not in raw.columns:
            problems.add(None, "", col, f"column {col} named by config {key} is missing",
                         f"add a {col} column, or remove {key} from the config")
    if column and column in raw.columns:
        for row, text in raw[column].items():
            if is_missing(text):
                problems.add(row, ids[row], column, f"{column} is missing (empty cell)", fix_set)
            elif set_value(text) is None:
                problems.add(row, ids[row], column, f"{column} is {show(text)}, not train or "
                             "test", fix_set)
    if not (group and group in raw.columns):
        return
    for row, text in raw[group].items():
        if is_missing(text):
            problems.add(row, ids[row], group, f"{group} is missing (empty cell)",
                         f"fill in {group} (config split.group: the patient each row belongs to)")
    if column and column in raw.columns:
        sets = raw[column].map(set_value)
        known = sets.notna() & ~raw[group].map(is_missing)
        by_group = sets[known].groupby(raw.loc[known, group])
        for value, rows in by_group.groups.items():
            sides = sorted(set(sets[rows]))
            if len(sides) > 1:
                where = ", ".join(str(r) for r in rows)
                for r in rows:
                    problems.add(r, ids[r], column,
                                 f"{group} {value} has rows on both sides ({where}: "
                                 f"{' and '.join(sides)})",
                                 f"put every row of {group} {value} in train or every row in "
                                 "test (split.group keeps a group on one side)")


def split_level_problems(cohort: pd.DataFrame, levels: list[Level], column: str | None,
                         problems: ProblemLog) -> None:
    """A user-given split (config ``split.column``) needs both classes of every level on each
    side (:func:`alnburden.cohort.split.one_class_sides`); reported without a row number."""
    if not column or column not in cohort:
        return
    for problem in one_class_sides(cohort, cohort[column].map(set_value), levels):
        problems.add(None, "", column, f"split column {column}: {problem}",
                     f"move patients between train and test in {column} so that each side "
                     "has both classes of every level")
def _second_reader_problems(row: int, pid: str, manifest_dir: Path, img_text: str,
                            mask_text: str, min_lesion_pixels: int, allow_border_contact: bool,
                            spacing_mm: float | None, problems: ProblemLog) -> None:
    """A second reader's mask (``mask_reader2``) is checked like ``mask`` against the same
    image; its problems are reported in the ``mask_reader2`` column (the image's own
    problems were reported with ``mask``)."""
    res = check_image_pair(resolve_path(manifest_dir, img_text),
                           resolve_path(manifest_dir, mask_text), img_text, mask_text,
                           min_lesion_pixels, allow_border_contact, spacing_mm)
    for p in res.problems:
        if p.column == "mask":
            problems.add(row, pid, "mask_reader2", f"second reader's {p.problem}", p.fix)
