"""What a study's design contains, read once from the config and the manifest's header.

Rules, registries and package functions ask the same questions of a run (are there images?
a Ki-67 variable? two levels for the cascade? clinical variables?); :class:`StudyDesign` is
the one place that answers them, so that a condition such as "the Ki-67 subgroup analysis
needs a ``ki67`` variable" is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alnburden.levels import Level, levels_from_config

#: Manifest columns that make a cohort an imaging cohort.
IMAGE_COLUMNS = ("image", "mask")
#: Name of the clinical variable the Ki-67 subgroup analysis reads.
KI67 = "ki67"


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
    """

    levels: tuple[Level, ...]
    clinical_variables: tuple[str, ...]
    has_images: bool
    simulated: bool

    @classmethod
    def from_config(cls, config: dict, manifest_columns: Sequence[str] | None = None
                    ) -> StudyDesign:
        """The design of ``config`` for a manifest with header ``manifest_columns``.

        ``manifest_columns`` None means the in-silico cohort, which has images.
        """
        columns = None if manifest_columns is None else set(manifest_columns)
        return cls(
            levels=tuple(levels_from_config(config)),
            clinical_variables=tuple(v["name"] for v in config["clinical"]["variables"]),
            has_images=columns is None or set(IMAGE_COLUMNS) <= columns,
            simulated=not config["cohort"].get("manifest"))

    @property
    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    @property
    def has_ki67(self) -> bool:
        """A ``ki67`` clinical variable is declared (the Ki-67 subgroup analysis runs)."""
        return KI67 in self.clinical_variables

    @property
    def has_cascade(self) -> bool:
        """Two levels or more: the hierarchical cascade of the first two runs."""
        return len(self.levels) >= 2

    @property
    def nomogram_model(self) -> str:
        """The model drawn as a nomogram and routed by the cascade: combined, or clinical
        alone in a cohort without images."""
        return "combined" if self.has_images else "clinical"

    def level_label(self, name: str) -> str:
        """A level's description (its name when it has none)."""
        for lv in self.levels:
            if lv.name == name:
                return lv.description or lv.name
        raise KeyError(f"no level {name!r}; levels: {self.level_names}")
