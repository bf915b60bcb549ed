"""Figures of the feature selection: the LASSO's coefficient path and penalty choice.

Both are drawn from a fitted :class:`alnburden.modeling.selection.LassoSelector`, which holds
the numbers (``coef_path_``, ``cv_mean_``, ``cv_se_``, the chosen C); nothing is refitted
here. :func:`plot_selection_figures` draws both from a level's saved radiomics model
(``results/<level>/models/radiomics.joblib``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from alnburden.figures.style import figure_style, save_figure
from alnburden.modeling.selection import LassoSelector, lasso_step

__all__ = ["plot_lasso_path", "plot_lasso_cv", "plot_selection_figures"]


def _lasso_names(selector: LassoSelector, feature_names) -> np.ndarray:
    """``feature_names``, else the selector's ``feature_names_in_``, else ``x0, x1, ...``."""
    if feature_names is None:
        feature_names = getattr(selector, "feature_names_in_", None)
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(selector.n_features_in_)]
    return np.asarray(feature_names, dtype=str)


def plot_lasso_path(selector: LassoSelector, path: str | Path, feature_names=None,
                    max_labels: int = 10) -> list[Path]:
    """Coefficient path of the LASSO over log10(C), vertical line at the chosen C.

    Parameters
    ----------
    selector
        A fitted :class:`~alnburden.modeling.selection.LassoSelector`.
    path
        Output stem (``<stem>.pdf`` and ``<stem>.png`` at 300 dpi are written).
    feature_names
        Names of the LASSO's input columns (e.g. from
        :func:`alnburden.modeling.selection.lasso_step`); the kept features are labelled in
        the legend. Default None: the selector's ``feature_names_in_``, else ``x0, x1, ...``.
    max_labels
        At most this many kept features are named in the legend (largest ``|coef|``);
        default 10.

    Returns
    -------
    list of Path
        The PDF and PNG written.
    """
    import matplotlib.pyplot as plt

    check_is_fitted(selector, "coef_path_")
    names = _lasso_names(selector, feature_names)
    logc = np.log10(selector.Cs_)
    with figure_style():
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        ever = np.flatnonzero((selector.coef_path_ != 0).any(axis=0))
        kept = np.flatnonzero(selector.support_)
        labelled = kept[np.argsort(-np.abs(selector.coef_[kept]), kind="stable")][:max_labels]
        for j in ever:
            if j in labelled:
                ax.plot(logc, selector.coef_path_[:, j], lw=1.4, label=names[j])
            else:
                ax.plot(logc, selector.coef_path_[:, j], lw=0.6, color="0.7")
        ax.axvline(np.log10(selector.C_), color="k", ls="--", lw=1,
                   label=f"chosen C = {selector.C_:.3g}")
        if selector.C_1se_ != selector.C_:
            ax.axvline(np.log10(selector.C_1se_), color="k", ls=":", lw=1,
                       label=f"1-SE C = {selector.C_1se_:.3g}")
        ax.axhline(0, color="0.4", lw=0.5)
        ax.set_xlabel("log10(C)   (C = 1 / lambda, inverse L1 penalty)")
        ax.set_ylabel("Coefficient (per SD of the feature)")
        ax.set_title(f"LASSO coefficient path ({selector.support_.sum()} feature(s) kept)")
        if len(ax.get_legend_handles_labels()[0]):
            ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        return save_figure(fig, path)


def plot_lasso_cv(selector: LassoSelector, path: str | Path) -> list[Path]:
    """Cross-validated deviance and AUC (mean +- SE over folds) over log10(C).

    Vertical lines mark the C of minimum deviance, the 1-SE C and the chosen C.
    ``selector``, ``path`` and the returned files are those of :func:`plot_lasso_path`.
    """
    import matplotlib.pyplot as plt

    check_is_fitted(selector, "cv_scores_")
    logc = np.log10(selector.Cs_)
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
        for ax, key, label in zip(axes, ["deviance", "auc"],
                                  ["CV binomial deviance (-2 log-lik / patient)", "CV ROC AUC"]):
            ax.errorbar(logc, selector.cv_mean_[key], yerr=selector.cv_se_[key], fmt="o-", ms=3,
                        color="tab:red" if key == "deviance" else "tab:blue", ecolor="0.5",
                        capsize=2, lw=1)
            ax.axvline(np.log10(selector.C_best_), color="k", ls="--", lw=1,
                       label=f"min deviance C = {selector.C_best_:.3g}")
            ax.axvline(np.log10(selector.C_1se_), color="k", ls=":", lw=1,
                       label=f"1-SE C = {selector.C_1se_:.3g}")
            ax.axvline(np.log10(selector.C_), color="tab:green", lw=3, alpha=0.45, zorder=1,
                       label=f"chosen C = {selector.C_:.3g}")  # under the black lines
            ax.set_xlabel("log10(C)   (C = 1 / lambda)")
            ax.set_ylabel(label)
            ax.legend(fontsize=7)
        fig.suptitle(f"LASSO penalty chosen by {selector.cv_scores_['deviance'].shape[0]}-fold CV")
        fig.tight_layout()
        return save_figure(fig, path)


def plot_selection_figures(model, path_stem: str | Path, cv_stem: str | Path) -> list[Path]:
    """Both LASSO figures of a level's saved radiomics model.

    Parameters
    ----------
    model
        The radiomics model of a level (:func:`alnburden.modeling.persistence.load_model` of
        ``results/<level>/models/radiomics.joblib``): a Pipeline whose ``selection`` step
        ends in the ``lasso`` step.
    path_stem, cv_stem
        Output stems of :func:`plot_lasso_path` and :func:`plot_lasso_cv`.

    Returns
    -------
    list of Path
        The four files written (path PDF, PNG, then CV PDF, PNG).
    """
    steps = getattr(model, "named_steps", {})
    if "selection" not in steps:
        raise ValueError(f"{type(model).__name__} has no 'selection' step; pass the radiomics "
                         "model (radiomics.joblib) that fit_level saved")
    lasso, names = lasso_step(steps["selection"])
    return [*plot_lasso_path(lasso, path_stem, feature_names=names),
            *plot_lasso_cv(lasso, cv_stem)]
