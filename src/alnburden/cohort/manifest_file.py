"""The manifest CSV as a file: read as stripped strings, rows numbered as a spreadsheet shows
them, and the paths it holds resolved against its folder. Never written."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from alnburden.cohort.report import ProblemLog

#: Report row number of the first patient (the header is row 1).
FIRST_DATA_ROW = 2


def resolve_path(manifest_dir: Path, text: str) -> Path:
    """Absolute path of a manifest cell (relative to the manifest's folder, or absolute)."""
    return Path(os.path.abspath(manifest_dir / text))


def _parse(path: Path, problems: ProblemLog) -> tuple[list[str], pd.DataFrame] | None:
    """Header line (as written) and cells (text) of the CSV; None when it is not a CSV."""
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
    return header, raw


def _header_problems(header: list[str], problems: ProblemLog) -> None:
    """A column name written twice (pandas would rename the second one silently)."""
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name and name in seen:
            problems.add(None, "", name, f"column {name} appears more than once in the header",
                         "keep one column of each name")
        seen.add(name)


def _drop_unnamed(raw: pd.DataFrame, problems: ProblemLog) -> pd.DataFrame:
    """Drop empty columns without a name (trailing commas); report those holding values."""
    for col in list(raw.columns):
        if col.startswith("Unnamed:"):
            if (raw[col] == "").all():
                raw = raw.drop(columns=col)
            else:
                problems.add(None, "", col, f"a column without a name holds values ({col})",
                             "give every column a name in the header line")
    return raw


def read_manifest(path: Path, problems: ProblemLog) -> pd.DataFrame | None:
    """Read the manifest as stripped strings.

    Returns
    -------
    pandas.DataFrame or None
        One row per non-blank line, indexed by the report row number (the CSV line, see
        :mod:`alnburden.cohort.report`); None when the file cannot be read or has no patient
        rows (the reason is in ``problems``).
    """
    parsed = _parse(path, problems)
    if parsed is None:
        return None
    header, raw = parsed
    _header_problems(header, problems)
    raw.columns = [c.strip() for c in raw.columns]
    raw = _drop_unnamed(raw.apply(lambda s: s.str.strip()), problems)
    raw.index = raw.index + FIRST_DATA_ROW  # index = report row number
    raw = raw.loc[~(raw == "").all(axis=1)]
    if raw.empty:
        problems.add(None, "", "", f"manifest {path} has no patient rows",
                     "add one line per patient below the header")
        return None
    return raw
