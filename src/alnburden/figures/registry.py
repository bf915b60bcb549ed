"""Every figure kind of the study, in one registry, and the driver of a level's figures.

:data:`FIGURES` has one :class:`FigureKind` per figure: its file stem, the report's title
(subcategory), caption file and category, the rule that draws it, the function that draws
it and the study designs it exists for (:class:`alnburden.design.StudyDesign`).
``workflow/rules/figures.smk`` builds its outputs, report entries and the run's targets
from it, and :func:`draw_level_figures` draws the kinds of the ``level_figures`` rule.
Adding a figure is one entry here (plus its caption file and, for a new rule, the rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alnburden.design import StudyDesign
from alnburden.evaluation import tables as ev
from alnburden.evaluation.curves import (calibration_curves, chosen_learner, learner_models,
                                         level_cutoffs, roc_curves)
from alnburden.figures.cascade import plot_cascade
from alnburden.figures.cohort_examples import plot_cohort_examples
from alnburden.figures.explain import plot_shap_bar, plot_shap_beeswarm
from alnburden.figures.feature_maps import plot_feature_maps
from alnburden.figures.curves import plot_calibration, plot_clinical_impact, plot_dca, plot_roc
from alnburden.figures.forest import plot_subgroups_forest
from alnburden.figures.nomogram import draw_nomograms
from alnburden.figures.repeats import plot_repeated_splits
from alnburden.figures.robustness import plot_icc_distribution
from alnburden.figures.selection import plot_lasso_cv, plot_lasso_path
from alnburden.figures.style import level_title, model_label

#: The rule that draws the per-level curve figures (:func:`draw_level_figures`).
LEVEL_FIGURES_RULE = "level_figures"


@dataclass(frozen=True)
class LevelInputs:
    """What a level's curve figures are computed from.

    Attributes
    ----------
    pred
        Predictions table (rows of other levels are ignored).
    dca
        Decision-curve table (:func:`alnburden.evaluation.tables.dca_table`).
    level
        Level name.
    title
        The level's description (figure titles).
    cutoff
        ``"youden"`` or a fixed probability: the operating points of the ROC curves.
    n_boot
        Bootstrap resamples of the ROC curves' bands (0: no band).
    random_state
        Seed of the bootstrap.
    """

    pred: pd.DataFrame
    dca: pd.DataFrame
    level: str
    title: str
    cutoff: str | float = "youden"
    n_boot: int = 1000
    random_state: int = 0


def _roc(inp: LevelInputs, path) -> list[Path]:
    cutoffs = level_cutoffs(inp.pred, inp.level, inp.cutoff)
    roc = roc_curves(inp.pred, inp.level, sets=ev.display_sets(inp.pred["set"]),
                     cutoffs=cutoffs, n_boot=inp.n_boot, random_state=inp.random_state)
    return plot_roc(roc, path, inp.title)


def _roc_learners(inp: LevelInputs, path) -> list[Path]:
    learners = learner_models(inp.pred, inp.level)
    chosen = chosen_learner(inp.pred, inp.level, learners)
    labels = {m: model_label(m) + (" (chosen)" if m == chosen else "") for m in learners}
    roc = roc_curves(inp.pred, inp.level, sets=("cv", "test"), models=learners)
    return plot_roc(roc, path, f"{inp.title}: radiomics learners", labels=labels)


def _calibration(inp: LevelInputs, path) -> list[Path]:
    internal = "nested" if (inp.pred["set"] == "nested").any() else "train"
    return plot_calibration(calibration_curves(inp.pred, inp.level, sets=("test", internal)),
                            path, inp.title)


def _dca(inp: LevelInputs, path) -> list[Path]:
    return plot_dca(inp.dca, inp.level, path, inp.title)


def _clinical_impact(inp: LevelInputs, path) -> list[Path]:
    impact = ev.clinical_impact_table(inp.pred, inp.level, ev.dca_thresholds())
    return plot_clinical_impact(impact, path, inp.title)


@dataclass(frozen=True)
class FigureKind:
    """One figure of the study.

    Attributes
    ----------
    name
        File stem: ``results/figures/{level}_{name}.png`` (per level) or ``{name}.png``;
        both a PNG and a PDF are written.
    title
        Title of the figure in the report (its subcategory).
    caption
        Caption file ``workflow/report/{caption}.rst``.
    rule
        The rule that draws it.
    draw
        The function that draws it (for the ``level_figures`` rule, a function of
        ``(LevelInputs, path)``).
    needs
        Parts of the study design the figure needs (:data:`alnburden.design.PARTS`;
        default none: every study has it).
    category
        Report category; None for a per-level figure (its level is its category).
    folder
        Folder of the files inside ``results/``; ``{level}`` is the level's name.
    """

    name: str
    title: str
    caption: str
    rule: str
    draw: Callable
    needs: tuple[str, ...] = ()
    category: str | None = None
    folder: str = "figures"

    @property
    def per_level(self) -> bool:
        """One figure per level (else one per study)."""
        return self.category is None

    def applies(self, design: StudyDesign) -> bool:
        """The figure exists in a study of this design (it has every part it needs)."""
        return not design.lacks(self.needs)

    def file_stem(self, level: str = "{level}") -> str:
        """Path inside ``results/`` without suffix: ``figures/{level}_{name}`` (per level),
        ``figures/{name}``, or ``{folder}/{name}`` for a figure kept in a level's folder."""
        folder = self.folder.format(level=level)
        if self.per_level and "{level}" not in self.folder:
            return f"{folder}/{level}_{self.name}"
        return f"{folder}/{self.name}"


#: Every figure kind, in the order of the report.
FIGURES: dict[str, FigureKind] = {f.name: f for f in (
    FigureKind("cohort_examples", "Example images", "cohort_examples", "cohort_examples",
               plot_cohort_examples, ("images",), category="Cohort"),
    FigureKind("roc", "ROC", "roc", LEVEL_FIGURES_RULE, _roc),
    FigureKind("roc_learners", "ROC of the learners", "roc_learners", LEVEL_FIGURES_RULE,
               _roc_learners, ("images",)),
    FigureKind("calibration", "Calibration", "calibration", LEVEL_FIGURES_RULE, _calibration),
    FigureKind("dca", "Decision curves", "dca", LEVEL_FIGURES_RULE, _dca),
    FigureKind("clinical_impact", "Clinical impact", "clinical_impact", LEVEL_FIGURES_RULE,
               _clinical_impact, ("combined",)),
    FigureKind("lasso_path", "Feature selection", "lasso_path", "selection_figures",
               plot_lasso_path, ("images",), folder="{level}/selection"),
    FigureKind("lasso_cv", "Feature selection", "lasso_cv", "selection_figures",
               plot_lasso_cv, ("images",), folder="{level}/selection"),
    FigureKind("nomogram", "Nomogram", "nomogram", "nomogram", draw_nomograms, ("nomogram",)),
    FigureKind("subgroups_forest", "Ki-67 subgroups", "subgroups_forest", "subgroups_forest",
               plot_subgroups_forest, ("ki67",), category="Subgroups"),
    FigureKind("cascade", "Cascade", "cascade", "cascade_figure", plot_cascade, ("cascade",),
               category="Cascade"),
    FigureKind("shap_beeswarm", "SHAP", "shap_beeswarm", "shap_figures", plot_shap_beeswarm,
               ("images",)),
    FigureKind("shap_bar", "SHAP", "shap_bar", "shap_figures", plot_shap_bar, ("images",)),
    FigureKind("feature_maps", "Feature maps", "feature_maps", "feature_maps",
               plot_feature_maps, ("images",)),
    FigureKind("repeated_splits", "Repeated random splits", "repeated_splits_figure",
               "repeated_splits_figure", plot_repeated_splits, ("repeated_splits",)),
    FigureKind("icc_distribution", "Feature robustness (ICC)", "icc_distribution", "icc_figure",
               plot_icc_distribution, ("images",), category="Radiomics"),
)}


def figure_kinds(design: StudyDesign, rule: str | None = None) -> list[FigureKind]:
    """The figure kinds of a study of ``design`` (only those drawn by ``rule`` if given)."""
    return [f for f in FIGURES.values()
            if f.applies(design) and (rule is None or f.rule == rule)]


def skipped_figures(design: StudyDesign) -> list[str]:
    """``"skipped: figure <name> (<title>) because <reason>"`` for every figure kind that
    ``design`` lacks a part for."""
    return [f"skipped: figure {fig.name} ({fig.title}) because {design.lacks(fig.needs)}"
            for fig in FIGURES.values() if not fig.applies(design)]


def figure_files(design: StudyDesign) -> list[str]:
    """Every figure file (PNG and PDF, paths inside ``results/``) of a study."""
    return [f"{fig.file_stem(level)}.{ext}" for fig in figure_kinds(design)
            for level in (design.level_names if fig.per_level else [""])
            for ext in ("png", "pdf")]


def draw_level_figures(pred: pd.DataFrame, dca: pd.DataFrame, level: str,
                       paths: Mapping[str, str | Path], cutoff: str | float = "youden",
                       level_label: str | None = None, n_boot: int = 1000,
                       random_state: int = 0) -> None:
    """Every per-level curve figure named in ``paths`` (kind -> path).

    Parameters
    ----------
    pred, dca
        Predictions table and decision-curve table.
    level
        Level name.
    paths
        Output path of each kind drawn by the ``level_figures`` rule (``roc``,
        ``roc_learners``, ``calibration``, ``dca``, ``clinical_impact``).
    cutoff
        ``"youden"`` or a fixed probability: the ROC curves' operating points.
    level_label
        The level's description (figure titles; default ``"Level 1"`` for ``level1``).
    n_boot, random_state
        Bootstrap resamples and seed of the ROC curves' pointwise bands.

    Raises
    ------
    ValueError
        If a kind is not one of the ``level_figures`` rule's.
    """
    unknown = [k for k in paths if k not in FIGURES or FIGURES[k].rule != LEVEL_FIGURES_RULE]
    if unknown:
        known = [k for k, f in FIGURES.items() if f.rule == LEVEL_FIGURES_RULE]
        raise ValueError(f"figure kind(s) {unknown} are not level figures; use {known}")
    inputs = LevelInputs(pred[pred["level"] == level], dca, level,
                         level_title(level, level_label), cutoff, n_boot, random_state)
    for kind, path in paths.items():
        FIGURES[kind].draw(inputs, path)
