"""The project's figure style, colours, display names and figure files.

Conventions shared by every figure:

- one colour per model everywhere (:data:`MODEL_COLORS`, Okabe-Ito colour-blind safe
  palette): radiomics blue, clinical green, combined vermillion; learners get their own
  fixed colours (their registry entry's); treat-all grey, treat-none black;
- seaborn ``ticks`` style and font sizes legible at journal column width (8-9 pt for a
  figure 3.5 in wide per panel), applied through :func:`figure_style` (no global state);
- every figure is written as a vector PDF plus a 300 dpi PNG without timestamps
  (:func:`save_figure`).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from alnburden.modeling.learners import LEARNERS

FIGURE_DPI = 300

#: Width of a single journal column and of a full page (inches).
COLUMN_IN, PAGE_IN = 3.5, 7.2

#: Colour of the study's models and reference strategies (Okabe-Ito palette, colour-blind
#: safe); a learner's colour is its registry entry's (:data:`alnburden.modeling.learners.LEARNERS`).
MODEL_COLORS: dict[str, str] = {
    "radiomics": "#0072B2",      # blue
    "clinical": "#009E73",       # bluish green
    "combined": "#D55E00",       # vermillion
    "treat_all": "#8C8C8C",      # grey
    "treat_none": "#000000",     # black
    **{lr.name: lr.color for lr in LEARNERS.values()},
}
#: Colours of models that are in neither the study's list nor the learner registry.
FALLBACK_COLORS = ("#332288", "#882255", "#44AA99", "#999933", "#AA4499", "#117733")

#: Display names of models (anything else is shown as its name, underscores as spaces).
MODEL_LABELS: dict[str, str] = {
    "radiomics": "Radiomics", "clinical": "Clinical", "combined": "Combined",
    "treat_all": "Treat all", "treat_none": "Treat none",
    **{lr.name: lr.label for lr in LEARNERS.values()},
}
#: Display names of the predictions' sets.
SET_LABELS: dict[str, str] = {"train": "Training set, apparent",
                              "cv": "Training set, tuning CV",
                              "nested": "Nested CV (training set)",
                              "test": "Test set", "external": "External cohort"}

#: matplotlib rc parameters of every figure (on top of seaborn's ``ticks`` style).
RC_PARAMS = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7.5,
    # a borderless white box: curves crossing the legend (a chance-level clinical arm on the
    # test set, say) pass behind its text instead of through it
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.facecolor": "white",
    "legend.edgecolor": "none",
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.4,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "pdf.fonttype": 42,          # TrueType in PDFs: editable text in Illustrator/Inkscape
    "svg.fonttype": "none",
    "savefig.dpi": FIGURE_DPI,
    "figure.dpi": 100,
}


@contextlib.contextmanager
def figure_style():
    """Context of the project's figure style (seaborn ``ticks`` + :data:`RC_PARAMS`)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    with sns.axes_style("ticks"), plt.rc_context(RC_PARAMS):
        yield


def model_color(model: str) -> str:
    """Colour of ``model``: fixed for known models; for others one of
    :data:`FALLBACK_COLORS` chosen by the name (the same name always gets the same colour)."""
    if model in MODEL_COLORS:
        return MODEL_COLORS[model]
    return FALLBACK_COLORS[sum(map(ord, model)) % len(FALLBACK_COLORS)]


def model_label(model: str) -> str:
    """Display name of ``model``."""
    return MODEL_LABELS.get(model, model.replace("_", " "))


def level_title(level: str, label: str | None = None) -> str:
    """Figure title of a level: ``label`` (its description) if given and not the level's
    name (:meth:`alnburden.design.StudyDesign.level_label` of a level without
    description), else ``"level1"`` -> ``"Level 1"``."""
    if label and label != level:
        return label
    m = re.fullmatch(r"level\s*_?(\d+)", level)
    return f"Level {m.group(1)}" if m else level.replace("_", " ")


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
