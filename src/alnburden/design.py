"""What a study's design contains, read once from the config and the manifest's header.

Rules, registries and package functions ask the same questions of a run (are there images?
a Ki-67 variable? two levels for the cascade? clinical variables?); :class:`StudyDesign` is
the one place that answers them, so that a condition such as "the Ki-67 subgroup analysis
needs a ``ki67`` variable" is written once.

A design is made of **parts** (:data:`PARTS`): ``images``, ``clinical``, ``combined``,
``ki67``, ``node_counts``, ``cascade``, ``nomogram`` and ``paired_arms``. A table or figure
of the registries names the parts it ``needs``; :meth:`StudyDesign.has` says whether the
design has one and :meth:`StudyDesign.why_not` why not, which is the sentence the summary
prints after "skipped: ... because". The models a level fits (its **arms**) follow from two
parts, :func:`model_arms`: ``radiomics`` with images, ``clinical`` with clinical variables,
``combined`` with both. A design with no arm cannot run: :meth:`StudyDesign.check` refuses
it when the config is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alnburden.levels import NODE_COUNT, Level, levels_from_config, rule_columns
from alnburden.schemas import with_defaults

#: Manifest columns that make a cohort an imaging cohort.
IMAGE_COLUMNS = ("image", "mask")
#: Name of the clinical variable the Ki-67 subgroup analysis reads.
KI67 = "ki67"
#: The parts a table or a figure may need (see :meth:`StudyDesign.has`).
PARTS = ("images", "clinical", "combined", "ki67", "node_counts", "cascade", "nomogram",
         "paired_arms", "nested", "repeated_splits")


def model_arms(has_images: bool, has_clinical: bool) -> tuple[str, ...]:
    """The models a level fits, in display order: ``radiomics`` (images), ``clinical``
    (clinical variables) and ``combined`` (both); empty when the level can fit nothing."""
    return tuple(arm for arm, present in (("radiomics", has_images),
                                          ("clinical", has_clinical),
                                          ("combined", has_images and has_clinical))
                 if present)


@dataclass(frozen=True)
class StudyDesign:
    """The parts of one study that decide which rules, tables and figures exist.

    Attributes
    ----------
    levels
        The hierarchy's levels, in config order.
    clinical_variables
        Names of the config's ``clinical.variables``, in config order.
    has_images
        The cohort has ``image`` and ``mask`` columns (the radiomics arm runs).
    simulated
        The cohort is the built-in in-silico cohort (no ``cohort.manifest``).
    nested_folds, nested_repeats
        Outer folds and repeats of the nested cross-validation (config
        ``internal_validation.nested``); 0 folds when it is switched off. A level's own
        ``nested_folds`` replaces the folds for that level (:meth:`nested_fold_ids_of`).
    split_repeats
        Repeated random splits of config ``split.repeats`` (0: none).
    whole_fit_resamples
        Resamples of the whole-fit bootstrap (config
        ``internal_validation.bootstrap.whole_fit``); 0 when it is switched off.
    """

    levels: tuple[Level, ...]
    clinical_variables: tuple[str, ...]
    has_images: bool
    simulated: bool
    nested_folds: int = 0
    nested_repeats: int = 1
    split_repeats: int = 0
    whole_fit_resamples: int = 0

    @classmethod
    def from_config(cls, config: dict, manifest_columns: Sequence[str] | None = None
                    ) -> StudyDesign:
        """The design of ``config`` for a manifest with header ``manifest_columns``.

        ``manifest_columns`` None means the in-silico cohort, which has images.
        """

        columns = None if manifest_columns is None else set(manifest_columns)
        nested = with_defaults("internal_validation",
                               config.get("internal_validation"))["nested"]
        whole_fit = with_defaults("internal_validation",
                                  config.get("internal_validation"))["bootstrap"]["whole_fit"]
        return cls(
            levels=tuple(levels_from_config(config)),
            clinical_variables=tuple(v["name"] for v in config["clinical"]["variables"]),
            has_images=columns is None or set(IMAGE_COLUMNS) <= columns,
            simulated=not config["cohort"].get("manifest"),
            nested_folds=int(nested["folds"]) if nested["enabled"] else 0,
            nested_repeats=int(nested["repeats"]),
            split_repeats=int(with_defaults("split", config.get("split"))["repeats"]),
            whole_fit_resamples=int(whole_fit["n"]) if whole_fit["enabled"] else 0)

    @property
    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    @property
    def has_clinical(self) -> bool:
        """At least one clinical variable is declared (the clinical arm runs)."""
        return bool(self.clinical_variables)

    @property
    def arms(self) -> tuple[str, ...]:
        """The models every level fits (:func:`model_arms`); the radiomics arm also fits
        the learners of ``models.learners``, one of which it is."""
        return model_arms(self.has_images, self.has_clinical)

    @property
    def has_combined(self) -> bool:
        """Images and clinical variables: the combined model (Rad-score + predictors) runs."""
        return "combined" in self.arms

    @property
    def has_ki67(self) -> bool:
        """A ``ki67`` clinical variable is declared (the Ki-67 subgroup analysis runs)."""
        return KI67 in self.clinical_variables

    @property
    def has_node_counts(self) -> bool:
        """The levels' rules read ``n_positive_nodes`` (the N0 / N1-2 / N>=3 classes exist)."""
        return NODE_COUNT in rule_columns(self.levels)

    @property
    def has_cascade(self) -> bool:
        """Two levels or more on node counts: the hierarchical cascade of the first two runs."""
        return len(self.levels) >= 2 and self.has_node_counts

    @property
    def has_nested(self) -> bool:
        """The nested cross-validation runs (config ``internal_validation.nested``)."""
        return self.nested_folds >= 2

    def nested_fold_ids_of(self, level: str) -> list[int]:
        """Index of every outer fold of level ``level``'s nested CV (``repeat * folds +
        fold``, with the level's own ``nested_folds`` when it has them)."""
        if not self.has_nested:
            return []
        lv = next((lv for lv in self.levels if lv.name == level), None)
        if lv is None:
            raise KeyError(f"no level {level!r}; the levels are {self.level_names}")
        return list(range(lv.outer_folds_or(self.nested_folds) * self.nested_repeats))

    @property
    def has_whole_fit_bootstrap(self) -> bool:
        """The whole level fit runs inside the bootstrap (config
        ``internal_validation.bootstrap.whole_fit.enabled``); it needs the clinical arm, as
        the internal_validation table its rows join does."""
        return self.whole_fit_resamples > 0 and self.has_clinical

    @property
    def whole_fit_resample_ids(self) -> list[int]:
        """Index of every resample of the whole-fit bootstrap (rule ``whole_fit_resample``)."""
        return list(range(self.whole_fit_resamples)) if self.has_whole_fit_bootstrap else []

    @property
    def nomogram_model(self) -> str | None:
        """The logistic model drawn as a nomogram: combined, or clinical alone in a cohort
        without images; None without clinical variables (the radiomics model is a learner,
        and a nomogram of the Rad-score alone would only relabel its axis)."""
        return next((m for m in ("combined", "clinical") if m in self.arms), None)

    @property
    def cascade_model(self) -> str:
        """The model the cascade routes patients with: the nomogram model, else radiomics."""
        return self.nomogram_model or "radiomics"

    @property
    def subgroup_models(self) -> tuple[str, ...]:
        """Models compared across the Ki-67 subgroups: radiomics and combined where they
        exist, the clinical model in a cohort without images."""
        return tuple(m for m in ("radiomics", "combined") if m in self.arms) or self.arms

    def has(self, part: str) -> bool:
        """Whether the design has ``part`` (one of :data:`PARTS`).

        Raises
        ------
        ValueError
            ``part`` is not one of :data:`PARTS`.
        """
        present = {"images": self.has_images, "clinical": self.has_clinical,
                   "combined": self.has_combined, "ki67": self.has_ki67,
                   "node_counts": self.has_node_counts, "cascade": self.has_cascade,
                   "nomogram": self.nomogram_model is not None,
                   "paired_arms": len(self.arms) >= 2, "nested": self.has_nested,
                   "repeated_splits": self.split_repeats > 0}
        if part not in present:
            raise ValueError(f"no design part {part!r}; the parts are {list(PARTS)}")
        return present[part]

    def why_not(self, part: str) -> str:
        """Why the design lacks ``part``: the text after "because" ("" when it has it)."""
        if self.has(part):
            return ""
        no_images = ("the manifest (cohort.manifest) has no image/mask columns"
                     if not self.simulated else "the cohort has no images")
        no_clinical = "config clinical.variables is empty"
        if part == "images":
            return no_images
        if part in ("clinical", "nomogram") and not self.has_clinical:
            return no_clinical + (" (the radiomics model is a machine-learning learner, "
                                  "not a logistic model)" if part == "nomogram" else "")
        if part in ("combined", "paired_arms"):
            return no_images if not self.has_images else no_clinical
        if part == "repeated_splits":
            return "config split.repeats is 0"
        if part == "ki67":
            return f"no clinical variable is named {KI67} (config clinical.variables)"
        if part == "nested":
            return "config internal_validation.nested.enabled is false"
        if part == "cascade" and len(self.levels) < 2:
            return "config levels declares one level"
        return (f"the level rules do not read {NODE_COUNT} (config levels), so the nodal "
                "classes N0 / N1-2 / N>=3 are not defined")

    def lacks(self, needs: Sequence[str]) -> str:
        """Why the design lacks the first missing part of ``needs`` ("" when it has all):
        a table or figure that needs ``needs`` exists exactly when this is empty."""
        return next((self.why_not(part) for part in needs if not self.has(part)), "")

    def skipped_steps(self) -> list[str]:
        """The steps of the full study this design leaves out, one sentence each
        (``"skipped: ... because ..."``); the tables and figures are listed by their
        registries."""
        steps = [("images", "radiomics extraction, segmentation-robustness ICC, learners "
                            "and Rad-score"),
                 ("clinical", "clinical predictors and the clinical model"),
                 ("combined", "the combined model (Rad-score + clinical predictors)"),
                 ("cascade", "the hierarchical cascade (N0 / N1-2 / N>=3)"),
                 ("nested", "the nested cross-validation (internal validation)"),
                 ("images", "SHAP values and permutation importance of the radiomics model "
                            "(results/tables/<level>_shap.csv)"),
                 ("combined", "the minimum sample size (Riley et al.) of the combined model "
                              "(results/tables/sample_size.csv)"),
                 ("nomogram", "the risk calculators (results/calculator/<level>.html)")]
        out = [f"skipped: {what} because {self.why_not(part)}"
               for part, what in steps if not self.has(part)]
        if self.whole_fit_resamples and not self.has_whole_fit_bootstrap:
            out.append("skipped: the whole level fit inside the bootstrap (config "
                       "internal_validation.bootstrap.whole_fit) because "
                       f"{self.why_not('clinical')} (its rows join the internal_validation "
                       "table of the clinical models)")
        return out

    def problems(self) -> list[str]:
        """Why this design cannot run at all (empty when it can), each with its fix."""
        if self.arms:
            return []
        return [f"no model can be fitted: {self.why_not('images')} and "
                f"{self.why_not('clinical')}; add image and mask columns to the manifest "
                "(radiomics arm), or declare at least one clinical variable under "
                "clinical.variables (clinical arm)"]

    @property
    def can_run(self) -> bool:
        """The design fits at least one model (:meth:`problems` is empty)."""
        return not self.problems()

    def check(self) -> StudyDesign:
        """This design, or ValueError listing every reason it cannot run (:meth:`problems`)."""
        problems = self.problems()
        if problems:
            raise ValueError("this study design cannot run: " + "; ".join(problems))
        return self

    def level_label(self, name: str) -> str:
        """A level's description (its name when it has none)."""
        for lv in self.levels:
            if lv.name == name:
                return lv.description or lv.name
        raise KeyError(f"no level {name!r}; levels: {self.level_names}")
