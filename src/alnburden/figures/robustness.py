"""ICC distribution of the radiomic features per image type and feature class (from icc.csv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.extraction.robustness import feature_parts
from alnburden.figures.style import PAGE_IN, figure_style, save_figure

#: Feature classes in the order of the panels (others follow, alphabetically).
CLASS_ORDER = ("shape2D", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
#: Colours of the regions (Okabe-Ito): lesion, then rings.
REGION_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
#: Labels of the keep statistic.
STAT_LABELS = {"ci_low": "ICC, lower bound of its 95 % CI (per feature)",
               "icc": "ICC, point estimate (per feature)"}


def _image_type_order(types) -> list[str]:
    def key(t: str):
        family = 0 if t == "original" else 1 if t.startswith("log") else 2
        return family, t
    return sorted(set(types), key=key)


def _short(image_type: str) -> str:
    """``log-sigma-1-0-mm-3D`` -> ``LoG 1 mm``, ``wavelet-HH`` -> ``wavelet HH``."""
    if image_type.startswith("log-sigma-"):
        sigma = image_type[len("log-sigma-"):].split("-mm")[0].replace("-", ".")
        return f"LoG {float(sigma):g} mm"
    return image_type.replace("-", " ")


def plot_icc_distribution(icc: pd.DataFrame, path: str | Path, threshold: float,
                          keep_on: str = "ci_low", icc_form: str = "ICC2") -> list[Path]:
    """One panel per feature class: the keep statistic of every feature by image type
    (a box per image type, a dot per feature, coloured by region), the threshold as a line.

    Parameters
    ----------
    icc
        ``results/features/icc.csv`` (``feature``, ``icc``, ``ci_low``, ``kept``...).
    path
        Output (PDF and PNG written).
    threshold, keep_on, icc_form
        The keep rule (``radiomics.robustness``), for the line and the labels.

    Returns
    -------
    list[Path]
        The PDF and PNG.
    """
    import matplotlib.pyplot as plt

    if keep_on not in STAT_LABELS:
        raise ValueError(f"keep_on={keep_on!r} is unknown; use one of {list(STAT_LABELS)}")
    df = pd.concat([icc.reset_index(drop=True),
                    pd.DataFrame([feature_parts(f) for f in icc["feature"]])], axis=1)
    df = df.loc[:, ~df.columns.duplicated(keep="last")]
    df["value"] = df[keep_on].astype(float)
    classes = [c for c in CLASS_ORDER if c in set(df["feature_class"])]
    classes += sorted(set(df["feature_class"]) - set(classes))
    types = _image_type_order(df["image_type"])
    regions = sorted(set(df["region"]), key=lambda r: (r != "intra", r))
    colors = dict(zip(regions, REGION_COLORS * 2))
    finite = df["value"].dropna()
    bottom = max(-1.0, min(-0.05, float(finite.min()) - 0.05)) if len(finite) else -0.05
    n_cols = 4 if len(classes) > 3 else len(classes)
    n_rows = int(np.ceil(len(classes) / n_cols))
    rng = np.random.default_rng(0)  # jitter of the dots only
    form = {"ICC2": "ICC(2,1)", "ICC3": "ICC(3,1)"}.get(icc_form, icc_form)
    with figure_style():
        fig, axes = plt.subplots(n_rows, n_cols, figsize=(PAGE_IN, 2.3 * n_rows), sharey=True,
                                 squeeze=False)
        for ax, cls in zip(axes.ravel(), classes):
            g = df[df["feature_class"] == cls]
            boxes = [g.loc[g["image_type"] == t, "value"].dropna().to_numpy() for t in types]
            ax.boxplot(boxes, positions=np.arange(len(types)), widths=0.6, showfliers=False,
                       medianprops={"color": "black"}, boxprops={"color": "0.45"},
                       whiskerprops={"color": "0.45"}, capprops={"color": "0.45"})
            for region in regions:
                r = g[g["region"] == region]
                x = np.array([types.index(t) for t in r["image_type"]], dtype=float)
                x += rng.uniform(-0.22, 0.22, len(x))
                ax.scatter(x, r["value"].clip(lower=bottom), s=3, alpha=0.55, lw=0,
                           color=colors[region], label=region, zorder=3)
            ax.axhline(threshold, color="#D55E00", ls="--", lw=1, zorder=4)
            kept, n = int(g["kept"].sum()), len(g)
            ax.set_title(f"{cls} (kept {kept}/{n})")
            ax.set_xticks(np.arange(len(types)), [_short(t) for t in types], rotation=60,
                          ha="right")
            ax.set_ylim(bottom, 1.03)
            ax.grid(axis="y", lw=0.3, alpha=0.5)
        for ax in axes.ravel()[len(classes):]:
            ax.set_visible(False)
        fig.supylabel(STAT_LABELS[keep_on].replace("ICC", form, 1), fontsize=8.5)
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        handles.append(plt.Line2D([], [], color="#D55E00", ls="--", lw=1))
        labels.append(f"threshold {threshold:g}")
        fig.legend(handles, labels, loc="lower right", ncol=1, markerscale=3,
                   bbox_to_anchor=(0.98, 0.08) if len(classes) % n_cols else (0.98, -0.02),
                   title="Region")
        total, kept = len(df), int(df["kept"].sum())
        fig.suptitle(f"Feature robustness: {form}, {kept} of {total} features kept",
                     fontsize=9, fontweight="bold")
        fig.tight_layout()
        return save_figure(fig, path)
