"""Example images of a cohort with their lesion outlines, one row per nodal class.

Every pixel is read through the project's reader (:func:`alnburden.io.images.read_pair`,
the one the radiomics extraction uses), so
the figure accepts whatever the extraction accepts: PNG/JPEG grey or RGB (converted to
grey, spacing from ``pixel_spacing_mm``), NRRD, NIfTI, DICOM, MetaImage (spacing from the
file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from alnburden.figures.style import save_figure
from alnburden.io.images import read_pair, row_spacing
from alnburden.levels import nodal_class

#: Percentiles of an image's grey levels shown as black and white (any intensity range).
WINDOW_PERCENTILES = (0.5, 99.5)
#: Longest scale bar, as a fraction of the image width.
MAX_BAR_FRACTION = 0.4
_NODAL_ROWS = {"N0": "N0", "N1-2": "N1\u20132", "N>=3": "N\u22653"}
_OUTLINE = "#ffcc00"


def _check_columns(m: pd.DataFrame, manifest_path: Path, group: str | None) -> None:
    missing = {"image", "mask", group or "n_positive_nodes"} - set(m.columns)
    if missing:
        raise ValueError(f"manifest {manifest_path} lacks column(s) {sorted(missing)}; "
                         "example images need image, mask (and pixel_spacing_mm for "
                         "PNG/JPEG), and n_positive_nodes or a level's label column (levels=)")


def _row_classes(m: pd.DataFrame, group: str | None) -> tuple[pd.Series, dict[str, str]]:
    """Each patient's row of the grid and the rows' labels, in display order."""
    if group is None:
        return (pd.Series(nodal_class(m["n_positive_nodes"].to_numpy()), index=m.index),
                dict(_NODAL_ROWS))
    values = pd.to_numeric(m[group], errors="coerce")
    rows = values.map(lambda v: f"label {v:g}", na_action="ignore")
    return rows, {f"label {v:g}": f"label\n= {v:g}" for v in sorted(values.dropna().unique())}


def _load(row: pd.Series, base: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Grey image, 0/1 mask (rows x columns) and pixel spacing (x, y; mm) of a patient."""
    image, mask = read_pair(base / row["image"], base / row["mask"], row_spacing(row))
    spacing = image.GetSpacing()
    return (sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(mask),
            (float(spacing[0]), float(spacing[1])))


def display_window(image: np.ndarray) -> tuple[float, float]:
    """Grey levels shown black and white: the :data:`WINDOW_PERCENTILES` of the image
    (a flat image gets a window one unit wide)."""
    lo, hi = (float(v) for v in np.percentile(image, WINDOW_PERCENTILES))
    return lo, hi if hi > lo else lo + 1.0


def scale_bar_length(width_mm: float, wanted_mm: float) -> float:
    """``wanted_mm``, or the longest 1-2-5 length (mm) that fits in
    :data:`MAX_BAR_FRACTION` of an image ``width_mm`` wide."""
    limit = MAX_BAR_FRACTION * width_mm
    if wanted_mm <= limit:
        return wanted_mm
    exponent = np.floor(np.log10(limit))
    return max(m * 10.0 ** exponent for m in (1, 2, 5) if m * 10.0 ** exponent <= limit)


def _draw_example(ax, image: np.ndarray, mask: np.ndarray, spacing: tuple[float, float],
                  scale_bar_mm: float, title: str) -> None:
    vmin, vmax = display_window(image)
    ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest",
              aspect=spacing[1] / spacing[0])
    ax.contour(mask, levels=[0.5], colors=[_OUTLINE], linewidths=0.6)
    h, w = image.shape
    bar_mm = scale_bar_length(w * spacing[0], scale_bar_mm)
    bar = bar_mm / spacing[0]
    x0, y0 = 0.96 * w - bar, 0.94 * h
    ax.plot([x0, x0 + bar], [y0, y0], color="white", lw=2, solid_capstyle="butt")
    ax.text(x0 + bar / 2, y0 - 0.02 * h, f"{bar_mm:g} mm", color="white", ha="center",
            va="bottom", fontsize=6)
    ax.set_title(title, fontsize=6.5, pad=2)


def _example_title(row: pd.Series, nodes: bool) -> str:
    title = str(row["patient_id"])
    if nodes:
        title += f"  nodes={int(row['n_positive_nodes'])}"
    if "ki67" in row and pd.notna(row["ki67"]):
        title += f"  Ki-67 {int(row['ki67'])}%"
    return title


def _blank(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_visible(False)


def _suptitle(simulated: bool, level_label: str | None) -> str:
    head = ("In-silico cohort: example B-mode images with tumour mask (simulation)"
            if simulated else "Cohort: example images with tumour mask")
    return head if level_label is None else f"{head}\nRows by label of {level_label}"


def plot_cohort_examples(manifest_path: str | Path, out_path: str | Path, n_per_class: int = 4,
                         seed: int = 0, scale_bar_mm: float = 10.0,
                         levels: Sequence[str] = (), level_label: str | None = None,
                         simulated: bool = True) -> list[Path]:
    """Grid of example images (rows N0, N1-2, N>=3) with the mask outline and a scale bar.

    Parameters
    ----------
    manifest_path
        A manifest (simulated or user) or the cohort table with ``image``, ``mask``,
        ``n_positive_nodes`` and, for PNG/JPEG images, ``pixel_spacing_mm``; image paths
        relative to its folder (or absolute). Without ``n_positive_nodes`` the rows are
        the label values of the first of ``levels`` instead.
    out_path
        Figure path; ``<stem>.pdf`` and ``<stem>.png`` (300 dpi) are written.
    n_per_class
        Columns: examples drawn at random per row (fewer if the row is smaller).
    seed
        Seed of the random choice of examples.
    scale_bar_mm
        Length of the scale bar (mm, default 10), shortened to a 1-2-5 length for an
        image too small to hold it (:func:`scale_bar_length`); drawn from the image's
        pixel spacing.
    levels
        Level names (label columns of the cohort table), used when there is no node count.
    level_label
        Description of the first level (named in the title when its labels give the rows).
    simulated
        The title says "In-silico cohort ... (simulation)" (True) or "Cohort" (False).

    Returns
    -------
    list of Path
        The PDF and PNG written.

    Notes
    -----
    Each image is shown between its 0.5th and 99.5th grey-level percentiles
    (:func:`display_window`), with the physical aspect ratio of its pixels.
    """
    import matplotlib.pyplot as plt

    manifest_path = Path(manifest_path)
    m = pd.read_csv(manifest_path)
    group = levels[0] if "n_positive_nodes" not in m.columns and levels else None
    _check_columns(m, manifest_path, group)
    rows, row_labels = _row_classes(m, group)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(row_labels), n_per_class, squeeze=False,
                             figsize=(2.3 * n_per_class + 0.4, 1.95 * len(row_labels)))
    for r, (cls, label) in enumerate(row_labels.items()):
        sub = m[rows == cls]
        pick = sub.iloc[np.sort(rng.choice(len(sub), size=min(n_per_class, len(sub)),
                                           replace=False))] if len(sub) else sub
        for c, ax in enumerate(axes[r]):
            _blank(ax)
            if c >= len(pick):
                continue
            row = pick.iloc[c]
            _draw_example(ax, *_load(row, manifest_path.parent), scale_bar_mm,
                          _example_title(row, group is None))
        axes[r, 0].set_ylabel(f"{label}\n(n={len(sub)})", fontsize=10, rotation=0, ha="right",
                              va="center", labelpad=8)
    fig.suptitle(_suptitle(simulated, None if group is None else level_label), fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return save_figure(fig, out_path)
