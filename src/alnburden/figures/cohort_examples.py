"""Example images of a cohort with their lesion outlines, one row per nodal class."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image  # replaced by the project reader next

from alnburden.figures.style import save_figure
from alnburden.levels import nodal_class


def plot_cohort_examples(manifest_path: str | Path, out_path: str | Path, n_per_class: int = 4,
                         seed: int = 0, scale_bar_mm: float = 10.0,
                         levels: Sequence[str] = (), simulated: bool = True) -> list[Path]:
    """Grid of example images (rows N0, N1-2, N>=3) with the mask outline and a scale bar.

    Parameters
    ----------
    manifest_path
        A manifest (simulated or user) or the cohort table with ``image``, ``mask``,
        ``pixel_spacing_mm`` and ``n_positive_nodes``; PNG/JPEG images. Without
        ``n_positive_nodes`` the rows are the classes of the first of ``levels`` instead.
    out_path
        Figure path; ``<stem>.pdf`` and ``<stem>.png`` (300 dpi) are written.
    n_per_class
        Columns: examples drawn at random per nodal class (fewer if the class is smaller).
    seed
        Seed of the random choice of examples.
    scale_bar_mm
        Length of the scale bar, mm.
    levels
        Level names (label columns of the cohort table), used when there is no node count:
        one row per value of the first level's label (e.g. ``malignancy = 0``, ``= 1``).
    simulated
        The title says "In-silico cohort ... (simulation)" (True) or "Cohort" (False).

    Returns
    -------
    list of Path
        The PDF and PNG written.
    """
    import matplotlib.pyplot as plt

    manifest_path = Path(manifest_path)
    m = pd.read_csv(manifest_path)
    group = levels[0] if "n_positive_nodes" not in m.columns and levels else None
    need = {"image", "mask", "pixel_spacing_mm", group or "n_positive_nodes"}
    missing = need - set(m.columns)
    if missing:
        raise ValueError(f"manifest {manifest_path} lacks column(s) {sorted(missing)}; "
                         "example images need image, mask, pixel_spacing_mm, and "
                         "n_positive_nodes or a level's label column (levels=)")
    if group is None:
        m["_row"] = nodal_class(m["n_positive_nodes"].to_numpy())
        classes = ["N0", "N1-2", "N>=3"]
        row_labels = {"N0": "N0", "N1-2": "N1–2", "N>=3": "N≥3"}
    else:
        values = pd.to_numeric(m[group], errors="coerce")
        m["_row"] = values.map(lambda v: f"{group} = {v:g}", na_action="ignore")
        classes = [f"{group} = {v:g}" for v in sorted(values.dropna().unique())]
        row_labels = {c: c.replace(" = ", "\n= ") for c in classes}
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(classes), n_per_class, squeeze=False,
                             figsize=(2.3 * n_per_class + 0.4, 1.95 * len(classes)))
    for r, cls in enumerate(classes):
        sub = m[m["_row"] == cls]
        pick = sub.iloc[np.sort(rng.choice(len(sub), size=min(n_per_class, len(sub)),
                                           replace=False))] if len(sub) else sub
        for c in range(n_per_class):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for sp in ax.spines.values():
                sp.set_visible(False)
            if c == 0:
                label = row_labels[cls]
                ax.set_ylabel(f"{label}\n(n={len(sub)})", fontsize=10, rotation=0,
                              ha="right", va="center", labelpad=8)
            if c >= len(pick):
                continue
            row = pick.iloc[c]
            img = np.asarray(Image.open(manifest_path.parent / row["image"]).convert("L"))
            mask = np.asarray(Image.open(manifest_path.parent / row["mask"]).convert("L")) > 0
            ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.contour(mask, levels=[0.5], colors=["#ffcc00"], linewidths=0.6)
            h, w = img.shape
            bar = scale_bar_mm / float(row["pixel_spacing_mm"])
            x0, y0 = w - 8 - bar, h - 12
            ax.plot([x0, x0 + bar], [y0, y0], color="white", lw=2, solid_capstyle="butt")
            ax.text(x0 + bar / 2, y0 - 5, f"{scale_bar_mm:g} mm", color="white",
                    ha="center", va="bottom", fontsize=6)
            title = str(row["patient_id"])
            if group is None:
                title += f"  nodes={int(row['n_positive_nodes'])}"
            if "ki67" in row and pd.notna(row["ki67"]):
                title += f"  Ki-67 {int(row['ki67'])}%"
            ax.set_title(title, fontsize=6.5, pad=2)
    fig.suptitle("In-silico cohort: example B-mode images with tumour mask (simulation)"
                 if simulated else "Cohort: example images with tumour mask", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return save_figure(fig, out_path)
