"""Writing tables and figures in the project's publication formats.

Every table is written as CSV (machine-readable, the contract) plus a Markdown copy
(readable); every figure as a vector PDF plus a 300 dpi PNG.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

FIGURE_DPI = 300


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


def save_figure(fig, path: str | Path, dpi: int = FIGURE_DPI) -> list[Path]:
    """Save a matplotlib figure as ``<stem>.pdf`` and ``<stem>.png`` (``dpi``).

    ``path`` may carry either suffix (or none); both files are written next to each
    other and the figure is closed. Metadata carrying dates is stripped so that two
    runs write identical PDFs.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    stem = path.with_suffix("") if path.suffix in {".pdf", ".png", ".svg"} else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = [stem.with_suffix(".pdf"), stem.with_suffix(".png")]
    fig.savefig(out[0], bbox_inches="tight", metadata={"CreationDate": None, "ModDate": None})
    fig.savefig(out[1], dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out


class RepeatedMessageFilter(logging.Filter):
    """Let through the first record of each distinct message of a library's loggers.

    pyradiomics warns once per region and image type about the same thing (e.g. "GLCM is
    symmetrical, therefore Sum Average = 2 * Joint Average": over a thousand identical lines
    per extraction shard); the first occurrence says all there is to say.

    Parameters
    ----------
    prefix
        Logger-name prefix whose records are de-duplicated (``"radiomics"`` covers
        ``radiomics.glcm`` and the other feature classes); other records always pass.
    """

    def __init__(self, prefix: str = "radiomics"):
        super().__init__()
        self.prefix = prefix
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != self.prefix and not record.name.startswith(self.prefix + "."):
            return True
        key = (record.name, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        record.msg, record.args = f"{key[1]} (logged once; identical repeats suppressed)", ()
        return True


def setup_logging(log_path: str | Path | None = None, level: int = logging.INFO) -> logging.Logger:
    """Route the package's logging to ``log_path`` (a Snakemake ``log:`` file) or stderr.

    pyradiomics sets its logger to INFO and adds a stderr handler when it is first
    imported; it is imported here, first, so that this set-up can be undone: its messages
    go to the same destination at WARNING and above, each distinct message once.
    """
    import radiomics  # noqa: F401  (import-time logging set-up, undone below)

    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_path, mode="w")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatedMessageFilter("radiomics"))
    root.addHandler(handler)
    root.setLevel(level)
    # pyradiomics logs every feature class of every image at INFO: keep its warnings only,
    # so the log shows the project's own progress lines.
    radiomics_logger = logging.getLogger("radiomics")
    for h in list(radiomics_logger.handlers):
        radiomics_logger.removeHandler(h)
    radiomics_logger.setLevel(logging.WARNING)
    radiomics_logger.propagate = True
    logging.getLogger("pykwalify").setLevel(logging.WARNING)  # "validation.valid" per load
    logging.captureWarnings(True)
    return logging.getLogger("alnburden")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one of the workflow's CSV tables, keeping ``patient_id`` as text (``"007"``
    must not become ``7``)."""
    return pd.read_csv(path, dtype={"patient_id": str})
