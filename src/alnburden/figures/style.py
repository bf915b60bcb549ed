"""The project's figure style and figure files (vector PDF plus a 300 dpi PNG)."""

from __future__ import annotations

from pathlib import Path

FIGURE_DPI = 300


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
