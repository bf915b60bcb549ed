"""Validation of the user's manifest into the typed cohort table.

:func:`validate_manifest` reads the manifest (a CSV in any of the dialects spreadsheets
write, or an .xlsx workbook; one row per patient, paths relative to the manifest's folder;
:mod:`~alnburden.cohort.manifest_file`, which reports how it read the file), checks every row against the
manifest row schema (:mod:`~alnburden.cohort.row_schema`, the shipped schema extended with
the config's clinical variables and level rules), checks every image/mask pair on disk
(:mod:`~alnburden.cohort.files`), the steps being those of :mod:`~alnburden.cohort.checks`,
and returns the typed cohort (:mod:`~alnburden.cohort.values`; the
``results/cohort/cohort.csv`` contract). On any problem it raises
:class:`~alnburden.cohort.report.CohortValidationError`, whose report lists every problem of
every row with its fix (row numbers: see :mod:`alnburden.cohort.report`). Nothing the user
provided is ever written: files are only opened for reading.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from alnburden.cohort.checks import (column_problems, duplicate_id_problems, file_problems,
                                     label_problems, row_problems, split_column_problems,
                                     split_level_problems)
from alnburden.cohort.config import as_levels, check_no_label_leak, check_variables
from alnburden.cohort.manifest_file import read_manifest
from alnburden.cohort.report import CohortValidationError, ProblemLog, write_validation_report
from alnburden.cohort.row_schema import load_manifest_schema, manifest_row_schema
from alnburden.cohort.values import is_missing, typed_cohort
from alnburden.levels import NODE_COUNT, Level, add_level_labels, nodal_class, rule_columns

__all__ = ["CohortValidationError", "validate_manifest"]

logger = logging.getLogger(__name__)


def validate_manifest(manifest_path: str | Path, variables: Sequence[dict],
                      levels: Sequence[Level | dict], min_lesion_pixels: int = 64,
                      allow_border_contact: bool = False, *,
                      schema: str | Path | dict | None = None,
                      report_path: str | Path | None = None,
                      split_column: str | None = None,
                      split_group: str | None = None) -> pd.DataFrame:
    """Validate a manifest and return the typed cohort.

    Parameters
    ----------
    manifest_path
        The manifest: CSV (``,``/``.`` or ``;``/``,`` style, UTF-8 with or without BOM) or
        ``.xlsx`` (one row per patient; ``image``/``mask`` relative to its folder).
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
        Manifest row schema (path or dict); default the one shipped in
        :mod:`alnburden.schemas` (``workflow/schemas/manifest.schema.yaml`` links to it).
    report_path
        If given, the validation report is written there (CSV + Markdown, whose title says
        how the manifest was read) before returning or raising; an empty report means no
        problem.
    split_column, split_group
        Config ``split.column`` and ``split.group`` (None: not used): the column of a
        user-given split (every cell train or test, case-insensitive; every level with both
        classes on each side) and the column grouping rows (no empty cell; with
        ``split_column``, each group on one side).

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
    variables = check_variables(variables)
    levels = as_levels(levels)
    check_no_label_leak(levels, variables)
    base = schema if isinstance(schema, dict) else load_manifest_schema(schema)
    problems = ProblemLog()
    read = read_manifest(manifest_path, problems)
    raw, dialect = (None, None) if read is None else read
    source = None if dialect is None else dialect.describe()
    cohort = None
    if raw is not None:
        cohort = _checked_cohort(raw, manifest_path.parent, variables, levels, base, problems,
                                 min_lesion_pixels, allow_border_contact,
                                 (split_column, split_group))
    _report(problems, manifest_path, None if raw is None else len(raw), source, report_path)
    assert cohort is not None
    _log_valid(cohort, levels, manifest_path, source, time.perf_counter() - t0)
    return cohort


def _report(problems: ProblemLog, manifest_path: Path, n_rows: int | None, source: str | None,
            report_path: str | Path | None) -> None:
    """Write the validation report (when asked) and raise if it lists any problem."""
    report = problems.frame()
    if report_path is not None:
        write_validation_report(report, report_path, source=source)
    if len(report):
        logger.error("manifest %s: %d problems in %d rows", manifest_path, len(report),
                     report["row"].dropna().nunique())
        raise CohortValidationError(report, manifest_path, n_rows, source)


def _log_valid(cohort: pd.DataFrame, levels: list[Level], manifest_path: Path,
               source: str | None, seconds: float) -> None:
    """Log the valid cohort's size and label counts per level (and nodal class)."""
    counts = {lv.name: {int(k): int(v) for k, v in
                        cohort[lv.name].value_counts().sort_index().items()} for lv in levels}
    if "nodal_class" in cohort:
        counts["nodal_class"] = cohort["nodal_class"].value_counts().to_dict()
    logger.info("manifest %s (%s): %d patients valid (%s) in %.1f s", manifest_path, source,
                len(cohort), counts, seconds)


def _checked_cohort(raw: pd.DataFrame, manifest_dir: Path, variables: list[dict],
                    levels: list[Level], base: dict, problems: ProblemLog,
                    min_lesion_pixels: int, allow_border_contact: bool,
                    split_columns: tuple[str | None, str | None] = (None, None)
                    ) -> pd.DataFrame | None:
    """Run every check of :mod:`alnburden.cohort.checks` in turn; the typed cohort when
    ``problems`` stays empty, else None."""
    label_cols = rule_columns(levels)
    has_images = column_problems(raw, variables, levels, label_cols, problems)
    schema = manifest_row_schema(variables, has_images, base, label_columns=label_cols)
    ids = pd.Series("", index=raw.index)
    if "patient_id" in raw.columns:
        ids = raw["patient_id"].where(~raw["patient_id"].map(is_missing), "")
    rule_ok = row_problems(raw, schema, ids, label_cols, problems)
    duplicate_id_problems(ids, problems)
    label_problems(raw, levels, label_cols, rule_ok, ids, problems)
    split_column_problems(raw, ids, *split_columns, problems)
    if "n_components" in raw.columns:
        logger.warning("manifest column n_components is replaced by the mask's components")
    n_components = None
    if has_images:
        n_components = file_problems(raw, ids, manifest_dir, schema["properties"],
                                     min_lesion_pixels, allow_border_contact, problems)
    if len(problems):
        return None
    derived = {"nodal_class", "n_components"} | {lv.name for lv in levels}
    cohort = typed_cohort(raw, variables, manifest_dir, drop=derived)
    if NODE_COUNT in cohort:
        nodes = cohort[NODE_COUNT]
        cohort["nodal_class"] = pd.Series(nodal_class(nodes.fillna(-1).to_numpy()),
                                          index=cohort.index).where(nodes.notna())
    cohort = add_level_labels(cohort, levels)
    if n_components is not None:
        cohort["n_components"] = n_components
    split_level_problems(cohort, levels, split_columns[0], problems)
    return None if len(problems) else cohort.reset_index(drop=True)
