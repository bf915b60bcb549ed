"""The manifest as a file: a CSV in any of the dialects spreadsheets write, or an Excel
workbook, read as stripped strings with rows numbered as a spreadsheet shows them, and the
paths it holds resolved against its folder. Never written.

Dialects
--------
- ``.xlsx`` / ``.xlsm``: the first sheet of the workbook (openpyxl), header in row 1.
- CSV, UTF-8 with or without a byte-order mark, separated by ``,``, ``;`` or a tab: the
  delimiter is detected on the header line (:class:`csv.Sniffer` among those three).
- In a ``;`` or tab-separated CSV (European Excel) a ``,`` in a number is a decimal comma,
  but only in numeric columns (every filled cell a number): ``1,5`` is read as 1.5. A
  column mixing ``1,5`` and ``1.5``, or holding a number such as ``1,500`` or ``1.500``
  (a decimal mark or a thousands separator?), is refused, naming the column and rows.

How the file was read (:class:`ManifestDialect`) is logged and written in the validation
report's title; ``results/cohort/cohort.csv`` is always a plain ``,``/``.`` CSV.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alnburden.cohort.report import ProblemLog

logger = logging.getLogger(__name__)

#: Report row number of the first patient (the header is row 1).
FIRST_DATA_ROW = 2

#: Delimiters a CSV manifest may use, detected on its header line.
DELIMITERS = ",;\t"

#: Suffixes read as Excel workbooks (first sheet).
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
#: A number with a decimal point or a decimal comma (or none), optional exponent.
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r",\d")
_POINT_DECIMAL = re.compile(r"\.\d")
#: 1-3 digits (not starting with 0), one mark, three digits: ``1,500`` = 1.5 or 1500?
_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")
_FIX_PATH = ("check config cohort.manifest: the path of your manifest (CSV or .xlsx), "
             "absolute or relative to the directory Snakemake runs in")


@dataclass(frozen=True)
class ManifestDialect:
    """How a manifest file is written.

    Attributes
    ----------
    format
        ``"csv"`` or ``"xlsx"``.
    delimiter
        The CSV's delimiter (``,``, ``;`` or a tab); None for a workbook.
    bom
        The CSV starts with a UTF-8 byte-order mark.
    decimal_comma_columns
        Columns whose decimal commas were read as decimal points (``;``/tab CSV only).
    """

    format: str
    delimiter: str | None = None
    bom: bool = False
    decimal_comma_columns: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the log and the report, e.g. ``CSV (semicolon-separated, UTF-8
        with BOM, decimal comma in age, ki67)``."""
        if self.format == "xlsx":
            return "Excel workbook (.xlsx, first sheet)"
        parts = [f"{_DELIMITER_NAMES[self.delimiter]}-separated",
                 "UTF-8 with BOM" if self.bom else "UTF-8"]
        if self.decimal_comma_columns:
            parts.append(f"decimal comma in {', '.join(self.decimal_comma_columns)}")
        elif self.delimiter != ",":
            parts.append("decimal point")
        return f"CSV ({', '.join(parts)})"


def resolve_path(manifest_dir: Path, text: str) -> Path:
    """Absolute path of a manifest cell (relative to the manifest's folder, or absolute)."""
    return Path(os.path.abspath(manifest_dir / text))


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line among :data:`DELIMITERS` (``,`` for one column)."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _split_table(table: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """Header (row 1 as written) and cells of a table read without a header; columns named
    as pandas names them (``Unnamed: i`` for an empty name, ``age.1`` for a second ``age``)."""
    header = [str(h) for h in table.iloc[0]] if len(table) else []
    names, seen = [], Counter()
    for i, h in enumerate(header):
        name = h.strip() or f"Unnamed: {i}"
        names.append(f"{name}.{seen[name]}" if seen[name] else name)
        seen[name] += 1
    raw = table.iloc[1:].reset_index(drop=True)
    raw.columns = names
    return header, raw


def _parse_excel(path: Path, problems: ProblemLog) -> tuple[list[str], pd.DataFrame] | None:
    try:
        table = pd.read_excel(path, sheet_name=0, header=None, dtype=str,
                              keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - openpyxl/zipfile raise many kinds
        problems.add(None, "", "", f"manifest {path} is not a readable Excel workbook "
                     f"({type(exc).__name__}: {exc})", "save the manifest from Excel as "
                     "'Excel Workbook (.xlsx)' or as 'CSV UTF-8'")
        return None
    return _split_table(table)


def _parse_csv(path: Path, problems: ProblemLog) -> tuple[list[str], pd.DataFrame, str, bool] | None:
    data = path.read_bytes()
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(None, "", "", f"manifest {path} is not UTF-8 text ({exc.reason})",
                     "save the manifest as 'CSV UTF-8' or as an Excel workbook (.xlsx)")
        return None
    delimiter = _sniff_delimiter(text.splitlines()[0] if text else "")
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                            keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.add(None, "", "", f"manifest {path} is not a readable CSV "
                     f"({_DELIMITER_NAMES[delimiter]}-separated): {str(exc).strip()}",
                     "save the manifest as CSV with one header line and one line per patient, "
                     "or as an Excel workbook (.xlsx)")
        return None
    return (*_split_table(table), delimiter, bom)


def _parse(path: Path, problems: ProblemLog) -> tuple[list[str], pd.DataFrame, ManifestDialect] | None:
    """Header line (as written), cells (text) and dialect; None when unreadable."""
    if not path.exists():
        problems.add(None, "", "", f"manifest file {path} not found", _FIX_PATH)
        return None
    if path.is_dir():
        problems.add(None, "", "", f"manifest {path} is a folder, not a file", _FIX_PATH)
        return None
    if path.suffix.lower() in EXCEL_SUFFIXES:
        parsed = _parse_excel(path, problems)
        return None if parsed is None else (*parsed, ManifestDialect("xlsx"))
    parsed = _parse_csv(path, problems)
    if parsed is None:
        return None
    header, raw, delimiter, bom = parsed
    return header, raw, ManifestDialect("csv", delimiter, bom)


def _header_problems(header: list[str], problems: ProblemLog) -> None:
    """A column name written twice (pandas would rename the second one silently)."""
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name and name in seen:
            problems.add(None, "", name, f"column {name} appears more than once in the header",
                         "keep one column of each name")
        seen.add(name)


def _drop_unnamed(raw: pd.DataFrame, problems: ProblemLog) -> pd.DataFrame:
    """Drop empty columns without a name (trailing delimiters); report those holding values."""
    for col in list(raw.columns):
        if col.startswith("Unnamed:"):
            if (raw[col] == "").all():
                raw = raw.drop(columns=col)
            else:
                problems.add(None, "", col, f"a column without a name holds values ({col})",
                             "give every column a name in the header line")
    return raw


def _rows_text(cells: pd.Series) -> str:
    shown = [f"{v} (row {r})" for r, v in cells.items()]
    return ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")


def _decimal_comma_column(raw: pd.DataFrame, col: str, problems: ProblemLog) -> bool:
    """Read the decimal commas of a numeric column as points (in ``raw``); True when it
    had some. Mixed or ambiguous marks are reported instead."""
    cells = raw[col][raw[col] != ""]
    if cells.empty or not cells.str.fullmatch(_NUMBER).all():
        return False  # a text column (paths, categories): left as written
    ambiguous = cells[cells.str.fullmatch(_AMBIGUOUS)]
    comma, point = cells[cells.str.contains(_COMMA_DECIMAL)], cells[cells.str.contains(_POINT_DECIMAL)]
    if len(ambiguous):
        problems.add(None, "", col, f"column {col} holds {_rows_text(ambiguous)}: a decimal mark "
                     "or a thousands separator?", f"write {col} without thousands separators "
                     "and with one decimal mark, e.g. 1,5 for one and a half, 1500 for fifteen "
                     "hundred")
    elif len(comma) and len(point):
        problems.add(None, "", col, f"column {col} mixes decimal commas ({_rows_text(comma)}) "
                     f"and decimal points ({_rows_text(point)})",
                     f"write every number of {col} with the same decimal mark")
    elif len(comma):
        raw.loc[comma.index, col] = comma.str.replace(",", ".", regex=False)
        return True
    return False


def _decimal_commas(raw: pd.DataFrame, problems: ProblemLog) -> tuple[str, ...]:
    """Columns of a ``;``/tab CSV whose decimal commas were read as points."""
    return tuple(col for col in raw.columns if _decimal_comma_column(raw, col, problems))


def read_manifest(path: Path, problems: ProblemLog) -> tuple[pd.DataFrame, ManifestDialect] | None:
    """Read the manifest (CSV in any dialect of the module docstring, or .xlsx) as stripped
    strings.

    Returns
    -------
    (pandas.DataFrame, ManifestDialect) or None
        One row per non-blank line, indexed by the report row number (the CSV line or
        spreadsheet row, see :mod:`alnburden.cohort.report`), decimal commas of numeric
        columns read as points; and how the file is written. None when the file cannot be
        read or has no patient rows (the reason is in ``problems``).
    """
    parsed = _parse(Path(path), problems)
    if parsed is None:
        return None
    header, raw, dialect = parsed
    _header_problems(header, problems)
    raw = _drop_unnamed(raw.apply(lambda s: s.str.strip()), problems)
    raw.index = raw.index + FIRST_DATA_ROW  # index = report row number
    raw = raw.loc[~(raw == "").all(axis=1)]
    if raw.empty:
        problems.add(None, "", "", f"manifest {path} has no patient rows",
                     "add one line per patient below the header")
        return None
    if dialect.delimiter in (";", "\t"):
        dialect = ManifestDialect("csv", dialect.delimiter, dialect.bom, _decimal_commas(raw, problems))
    logger.info("manifest %s read as %s", path, dialect.describe())
    return raw, dialect


def manifest_header(path: str | Path) -> tuple[list[str], int]:
    """Column names and number of patient rows of a manifest, read as
    :func:`read_manifest` reads it (the workflow's parse-time look at the header).

    Raises
    ------
    ValueError
        The file cannot be read as a manifest (the message says why and how to fix it).
    """
    problems = ProblemLog()
    parsed = _parse(Path(path), problems)
    if parsed is None:
        row = problems.rows[0]
        raise ValueError(f"{row['problem']}; {row['fix']}")
    _, raw, _ = parsed
    n_rows = int((raw.apply(lambda s: s.str.strip()) != "").any(axis=1).sum())
    return [str(c) for c in raw.columns if not str(c).startswith("Unnamed:")], n_rows
