"""Manifests as spreadsheets write them: .xlsx, and CSV with ``,`` or ``;`` (decimal comma)
or tab separators, with or without a UTF-8 byte-order mark. Each gives the typed cohort of
the plain CSV; a decimal mark that could be read two ways is refused, never guessed."""

from __future__ import annotations

import codecs
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import TinyCohort

from alnburden.cohort.manifest import validate_manifest
from alnburden.cohort.manifest_file import ManifestDialect, manifest_header, read_manifest
from alnburden.cohort.report import CohortValidationError, ProblemLog

ROOT = Path(__file__).resolve().parents[1]


def _numeric(c: TinyCohort) -> pd.DataFrame:
    """The tiny cohort's manifest with numbers typed (as a spreadsheet holds it)."""
    return pd.read_csv(c.manifest)


def _write(c: TinyCohort, name: str, bom: bool = False, **to_csv) -> Path:
    """The manifest rewritten next to the original (same relative paths) in a dialect."""
    path = c.root / name
    text = _numeric(c).to_csv(index=False, **to_csv)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
    return path


def _validate(c: TinyCohort, path: Path, **kwargs) -> pd.DataFrame:
    return validate_manifest(path, c.variables, c.levels, **kwargs)


DIALECTS = {
    "comma_bom.csv": (dict(bom=True), "CSV (comma-separated, UTF-8 with BOM)"),
    "semicolon.csv": (dict(sep=";", decimal=","),
                      "CSV (semicolon-separated, UTF-8, decimal comma in pixel_spacing_mm, "
                      "tumor_size_mm)"),
    "semicolon_bom.csv": (dict(sep=";", decimal=",", bom=True),
                          "CSV (semicolon-separated, UTF-8 with BOM, decimal comma in "
                          "pixel_spacing_mm, tumor_size_mm)"),
    "semicolon_point.csv": (dict(sep=";"), "CSV (semicolon-separated, UTF-8, decimal point)"),
    "tab.tsv": (dict(sep="\t", decimal=","), "CSV (tab-separated, UTF-8, decimal comma in "
                                            "pixel_spacing_mm, tumor_size_mm)"),
}


@pytest.mark.parametrize("name", DIALECTS)
def test_each_csv_dialect_gives_the_plain_csv_cohort(tiny_cohort, name, tmp_path, caplog):
    kwargs, described = DIALECTS[name]
    expected = tiny_cohort.validate()
    path = _write(tiny_cohort, name, **kwargs)
    if "decimal" in kwargs:
        assert "12,5" in path.read_text(encoding="utf-8-sig")  # 12.5 mm written the European way
    before = tiny_cohort.snapshot()
    report = tmp_path / "validation_report.csv"
    with caplog.at_level(logging.INFO, logger="alnburden"):
        cohort = _validate(tiny_cohort, path, report_path=report)
    pd.testing.assert_frame_equal(cohort, expected)
    assert tiny_cohort.snapshot() == before                     # the user's file untouched
    assert f"read as {described}" in caplog.text
    assert f"(manifest read as {described})" in report.with_suffix(".md").read_text()
    assert manifest_header(path) == (list(_numeric(tiny_cohort).columns), 6)


def test_xlsx_gives_the_plain_csv_cohort(tiny_cohort):
    expected = tiny_cohort.validate()
    path = tiny_cohort.root / "manifest.xlsx"
    _numeric(tiny_cohort).to_excel(path, index=False, engine="openpyxl")
    before = tiny_cohort.snapshot()
    pd.testing.assert_frame_equal(_validate(tiny_cohort, path), expected)
    assert tiny_cohort.snapshot() == before
    raw, dialect = read_manifest(path, ProblemLog())
    assert dialect == ManifestDialect("xlsx")
    assert raw.index.tolist() == [2, 3, 4, 5, 6, 7]          # spreadsheet rows
    assert manifest_header(path) == (list(_numeric(tiny_cohort).columns), 6)


def test_xlsx_problem_names_the_spreadsheet_row(tiny_cohort):
    df = _numeric(tiny_cohort)
    df.loc[2, "age"] = 250
    path = tiny_cohort.root / "manifest.xlsx"
    df.to_excel(path, index=False)
    with pytest.raises(CohortValidationError, match=r"(?s)read as Excel workbook .* row 4, "
                                                    r"patient P003, column age: age is 250"):
        _validate(tiny_cohort, path)


def _semicolon_with(c: TinyCohort, column: str, cells: dict[int, str]) -> Path:
    df = c.table()
    for row, text in cells.items():
        df.loc[row, column] = text
    path = c.root / "eu.csv"
    df.to_csv(path, sep=";", index=False)
    return path


def test_mixed_decimal_marks_are_refused(tiny_cohort):
    path = _semicolon_with(tiny_cohort, "tumor_size_mm", {0: "12,5", 3: "15,5"})
    with pytest.raises(CohortValidationError, match=r"(?s)manifest, column tumor_size_mm: column "
                                                    r"tumor_size_mm mixes decimal commas \(12,5 \(row 2\), "
                                                    r"15,5 \(row 5\)\) and decimal points "
                                                    r"\(13.5 \(row 3\),.*same decimal mark"):
        _validate(tiny_cohort, path)


@pytest.mark.parametrize("text", ["1,500", "2.250"])
def test_thousands_or_decimal_is_refused(tiny_cohort, text):
    path = _semicolon_with(tiny_cohort, "ki67", {4: text})
    with pytest.raises(CohortValidationError, match=rf"column ki67 holds {text} \(row 6\): a "
                                                    r"decimal mark or a thousands separator\?"):
        _validate(tiny_cohort, path)


def test_text_columns_keep_their_commas(tiny_cohort):
    """Only numeric columns have decimal commas: an id with a comma stays as written."""
    path = _semicolon_with(tiny_cohort, "patient_id", {0: "P,001"})
    cohort = _validate(tiny_cohort, path)
    assert cohort.loc[0, "patient_id"] == "P,001"


def test_a_comma_number_in_a_comma_csv_is_not_a_number(tiny_cohort):
    tiny_cohort.set(1, "tumor_size_mm", "13,5")
    with pytest.raises(CohortValidationError, match=r"tumor_size_mm is '13,5', not a number"):
        tiny_cohort.validate()


def test_unreadable_workbook(tiny_cohort):
    path = tiny_cohort.root / "manifest.xlsx"
    path.write_text("not a workbook")
    with pytest.raises(CohortValidationError, match=r"is not a readable Excel workbook"):
        _validate(tiny_cohort, path)
    with pytest.raises(ValueError, match=r"not a readable Excel workbook.*Excel Workbook"):
        manifest_header(path)


def test_workflow_dag_from_an_xlsx_manifest(tiny_cohort, tmp_path):
    """The parse-time header read (common.smk) builds the DAG from the workbook: the user's
    manifest is validated (no simulation) and its 6 patients are extracted."""
    path = tiny_cohort.root / "manifest.xlsx"
    _numeric(tiny_cohort).to_excel(path, index=False)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["cohort"]["manifest"] = str(path)
    config["radiomics"]["params"] = str(ROOT / config["radiomics"]["params"])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    work = tmp_path / "work"
    work.mkdir()
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", str(tmp_path / "config.yaml"), "--cores", "1", "-n"]
    dry = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert f"input: {path}" in dry.stdout                      # validate_cohort reads it
    assert "extract_shard" in dry.stdout and "simulate_cohort" not in dry.stdout
    path.write_text("not a workbook")
    bad = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert bad.returncode != 0
    said = bad.stdout + bad.stderr
    assert "config cohort.manifest: manifest" in said and "Excel Workbook" in said


@pytest.mark.parametrize("sep", [",", ";"])
def test_trailing_delimiters_of_a_spreadsheet_export_are_dropped(tiny_cohort, sep):
    """Excel often ends every line with a delimiter: an empty column without a name."""
    expected = tiny_cohort.validate()
    path = tiny_cohort.root / "trailing.csv"
    lines = _numeric(tiny_cohort).to_csv(index=False, sep=sep).splitlines()
    path.write_text("".join(f"{line}{sep}\n" for line in lines))
    pd.testing.assert_frame_equal(_validate(tiny_cohort, path), expected)


def test_a_column_without_a_name_holding_values_is_reported(tiny_cohort):
    """A pandas export with its index (an empty first header cell) is named in the report."""
    path = tiny_cohort.root / "with_index.csv"
    _numeric(tiny_cohort).to_csv(path)  # header ",patient_id,..."
    with pytest.raises(CohortValidationError,
                       match=r"a column without a name holds values \(Unnamed: 0\)"):
        _validate(tiny_cohort, path)
