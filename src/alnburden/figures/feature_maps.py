"""Figure of the voxel-based feature maps: example patients (rows) x top features (columns).

Draws what :func:`alnburden.evaluation.feature_maps.level_feature_maps` computed: each
panel is the patient's image around the lesion, the feature's map over the lesion and its
ring (one colour scale per feature, shared by the patients so they can be compared), the
lesion outline (solid) and the ring's outer edge (dashed).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from alnburden.figures.style import PAGE_IN, figure_style, save_figure

__all__ = ["plot_feature_maps", "draw_level_feature_maps"]


def _crop(mask: np.ndarray, margin: int = 8) -> tuple[slice, slice]:
    rows, cols = np.nonzero(mask)
    r0, r1 = max(rows.min() - margin, 0), min(rows.max() + margin + 1, mask.shape[0])
    c0, c1 = max(cols.min() - margin, 0), min(cols.max() + margin + 1, mask.shape[1])
    return slice(r0, r1), slice(c0, c1)


def _no_map_figure(unmapped, path, title: str) -> list[Path]:
    """A figure that says why there is no map (the model uses shape / first-order only)."""
    import matplotlib.pyplot as plt

    names = "\n".join(f"- {f.label}" for f in unmapped[:8]) or "- (no feature)"
    with figure_style():
        fig, ax = plt.subplots(figsize=(PAGE_IN * 0.7, 0.5 + 0.15 * min(len(unmapped), 8)))
        ax.axis("off")
        ax.text(0, 1, f"{title}: no voxel-based feature map.\nThe radiomics model uses no "
                "texture feature; its features (shape, first order) have no voxel map here:\n"
                + names, va="top", ha="left", fontsize=8, transform=ax.transAxes)
        return save_figure(fig, path)


def plot_feature_maps(maps: dict, path: str | Path, title: str) -> list[Path]:
    """Grid of feature maps (rows: patients, low then high risk; columns: features).

    Parameters
    ----------
    maps
        :func:`alnburden.evaluation.feature_maps.level_feature_maps`'s result.
    path
        Output stem (PDF + PNG).
    title
        The level's title.
    """
    import matplotlib.pyplot as plt

    features, patients = maps["features"], maps["patients"]
    if not features:
        return _no_map_figure(maps.get("unmapped", []), path, title)
    n_rows, n_cols = len(patients), len(features)
    scales = {}
    for f in features:
        vals = np.concatenate([m["maps"][f.column][np.isfinite(m["maps"][f.column])]
                               for m in maps["maps"].values()])
        lo, hi = (np.percentile(vals, [2, 98]) if vals.size else (0.0, 1.0))
        scales[f.column] = (float(lo), float(hi) if hi > lo else float(lo) + 1e-9)
    with figure_style():
        height = 2.0 * n_rows + 1.4
        fig, axes = plt.subplots(n_rows, n_cols, squeeze=False,
                                 figsize=(max(4.2, min(PAGE_IN, 2.3 * n_cols + 0.6)), height))
        fig.subplots_adjust(top=1 - 1.1 / height)  # room for the two-line title
        for i, prow in enumerate(patients.itertuples()):
            m = maps["maps"][str(prow.patient_id)]
            rs, cs = _crop(m["lesion"] | m["ring"])
            for j, f in enumerate(features):
                ax = axes[i, j]
                ax.imshow(m["image"][rs, cs], cmap="gray", interpolation="nearest")
                lo, hi = scales[f.column]
                im = ax.imshow(np.ma.masked_invalid(m["maps"][f.column][rs, cs]),
                               cmap="viridis", vmin=lo, vmax=hi, alpha=0.85,
                               interpolation="nearest")
                ax.contour(m["lesion"][rs, cs].astype(float), levels=[0.5], colors="white",
                           linewidths=0.8)
                ax.contour((m["lesion"] | m["ring"])[rs, cs].astype(float), levels=[0.5],
                           colors="white", linewidths=0.6, linestyles="--")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title("\n".join(textwrap.wrap(f.label, 30, break_long_words=False)),
                                 fontsize=7.5,
                                 fontweight="normal")
                if j == 0:
                    ax.set_ylabel(f"{prow.patient_id}\n{prow.group} risk, p = {prow.p:.2f}\n"
                                  f"label {int(prow.y_true)}", fontsize=7)
                if i == n_rows - 1:
                    cb = fig.colorbar(im, ax=axes[:, j].tolist(), orientation="horizontal",
                                      fraction=0.04, pad=0.02, aspect=18)
                    cb.ax.tick_params(labelsize=6.5)
                    cb.set_label("feature value (voxel-based)", fontsize=7)
        fig.suptitle(f"{title}: voxel-based maps of the top radiomic features (test set)\n"
                     "solid: lesion outline; dashed: outer edge of the peritumoral ring",
                     fontsize=8.5, fontweight="bold", y=1 - 0.1 / height)
        return save_figure(fig, path)


def draw_level_feature_maps(shap_table, pred, cohort, level: str, params_path, path,
                            title: str, *, explain: dict | None = None,
                            peritumoral_mm=(3,), n_jobs: int = 1) -> list[Path]:
    """Compute (:func:`alnburden.evaluation.feature_maps.level_feature_maps`) and draw the
    feature maps of one level (rule ``feature_maps``).

    ``explain`` is the config's ``explain`` section (``map_features``, ``map_patients``,
    ``map_kernel_radius``; missing keys take the schema's defaults).
    """
    from threadpoolctl import threadpool_limits

    from alnburden.evaluation.feature_maps import level_feature_maps
    from alnburden.schemas import with_defaults

    cfg = with_defaults("explain", explain)
    with threadpool_limits(limits=max(1, int(n_jobs))):
        maps = level_feature_maps(shap_table, pred, cohort, level, params_path,
                                  n_features=cfg["map_features"],
                                  n_patients=cfg["map_patients"],
                                  kernel_radius=cfg["map_kernel_radius"],
                                  stride=cfg["map_stride"],
                                  peritumoral_mm=peritumoral_mm)
    return plot_feature_maps(maps, path, title)
