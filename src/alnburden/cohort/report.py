"""The validation report: one row per problem of the manifest, with the row and the fix.

:class:`ProblemLog` collects the problems while the checks run, :class:`CohortValidationError`
carries the report (its message is :func:`format_report`) and :func:`write_validation_report`
writes it (``results/cohort/validation_report.csv`` plus a Markdown copy).

Row numbers
-----------
``row`` in the report is the row number a spreadsheet shows for the patient, which is the
line number in a CSV file: the header is row 1, the first patient row 2. Blank lines count
(they are skipped, not renumbered); a quoted cell spanning several lines shifts the count.
Problems of the manifest as a whole (missing file, missing column) have an empty ``row``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.io import write_table

#: Columns of the validation report.
REPORT_COLUMNS = ["row", "patient_id", "column", "problem", "fix"]


class ProblemLog:
    """Collects report rows in the order the checks find them."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, row: int | None, patient_id: str, column: str, problem: str, fix: str) -> None:
        """Record one problem; ``row`` None for a problem of the whole manifest."""
        self.rows.append({"row": row, "patient_id": patient_id, "column": column,
                          "problem": problem, "fix": fix})

    def frame(self) -> pd.DataFrame:
        """The report: manifest-level problems first, then by row, keeping the order of the
        checks within a row; columns :data:`REPORT_COLUMNS`."""
        df = pd.DataFrame(self.rows, columns=REPORT_COLUMNS)
        df["row"] = pd.array(df["row"], dtype="Int64")
        order = df["row"].fillna(0).astype(int).to_numpy()
        return df.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.rows)


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
    source
        How the manifest was read (:meth:`~alnburden.cohort.manifest_file.ManifestDialect.describe`),
        if it could be.

    Attributes
    ----------
    report : pandas.DataFrame
        The report, as given.
    """

    def __init__(self, report: pd.DataFrame, manifest: str | Path | None = None,
                 n_rows: int | None = None, source: str | None = None) -> None:
        self.report = report.reset_index(drop=True)
        self.manifest = manifest
        self.n_rows = n_rows
        self.source = source
        super().__init__(format_report(self.report, manifest, n_rows, source))

    def __reduce__(self):  # keep the exception picklable (multiprocessing, Snakemake)
        return (type(self), (self.report, self.manifest, self.n_rows, self.source))


def format_report(report: pd.DataFrame, manifest: str | Path | None = None,
                  n_rows: int | None = None, source: str | None = None) -> str:
    """Human-readable text of a validation report (the str() of the error).

    One header line, then two lines per problem::

        - row 3, patient P002, column mask: mask file masks/P002.png not found (...)
            fix: check the file name; paths are relative to the manifest's folder
    """
    n = len(report)
    bad_rows = report["row"].dropna().nunique()
    head = f"Manifest {manifest if manifest is not None else ''}" \
           f"{f' (read as {source})' if source else ''} failed validation: " \
           f"{n} problem{'s' if n != 1 else ''}"
    if n_rows is not None:
        head += f" in {bad_rows} of its {n_rows} patient rows"
    head += (" (row = line of the CSV file or row of the spreadsheet, the header being row 1)."
             " Nothing was modified; fix every problem below and run again.")
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


def write_validation_report(report: pd.DataFrame | None, path: str | Path,
                            source: str | None = None) -> None:
    """Write a validation report as CSV plus a Markdown copy (``<stem>.md``).

    Parameters
    ----------
    report
        Report with columns :data:`REPORT_COLUMNS` (e.g. ``CohortValidationError.report``);
        None or an empty report (no problems) writes the header only.
    path
        Destination CSV; parent folders are created.
    source
        How the manifest was read (e.g. ``CSV (semicolon-separated, UTF-8, decimal comma in
        age)``), added to the Markdown title.
    """
    report = pd.DataFrame(report, columns=REPORT_COLUMNS).copy()
    report["row"] = pd.array(report["row"], dtype="Int64")
    title = ("Manifest validation report: no problems" if report.empty
             else f"Manifest validation report: {len(report)} problems")
    if source:
        title += f" (manifest read as {source})"
    write_table(report, path, title=title)
