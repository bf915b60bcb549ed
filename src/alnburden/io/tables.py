"""Reading and writing the workflow's tables.

Every table is written as CSV (machine-readable, the contract) plus a Markdown copy
(readable).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(df: pd.DataFrame, csv_path: str | Path, md_path: str | Path | None = None,
                float_format: str = "%.6g", title: str | None = None) -> None:
    """Write ``df`` to ``csv_path`` and a Markdown copy.

    Parameters
    ----------
    df
        The table. Its index is not written (reset it first if it carries data).
    csv_path
        Destination CSV.
    md_path
        Destination Markdown; defaults to ``csv_path`` with suffix ``.md``.
    float_format
        printf-style format of floats in both copies (stable across runs).
    title
        Optional heading written above the Markdown table.
    """
    csv_path = Path(csv_path)
    md_path = Path(md_path) if md_path is not None else csv_path.with_suffix(".md")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(csv_path, index=False, float_format=float_format, lineterminator="\n")
    md = df.to_markdown(index=False, floatfmt=float_format.lstrip("%"))
    if title:
        md = f"# {title}\n\n{md}"
    md_path.write_text(md + "\n")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one of the workflow's CSV tables, keeping ``patient_id`` as text (``"007"``
    must not become ``7``)."""
    return pd.read_csv(path, dtype={"patient_id": str})
