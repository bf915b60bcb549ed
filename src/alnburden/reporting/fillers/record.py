"""The run a checklist is filled from (:class:`RunRecord`), what a filler returns
(:class:`Filled`) and the registry of fillers (:data:`FILLERS`, :func:`filler`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

from alnburden.design import StudyDesign
from alnburden.io import read_table


@dataclass(frozen=True)
class Filled:
    """What a run did for one checklist item.

    Attributes
    ----------
    text
        One paragraph of Markdown.
    evidence
        Paths of the files that show it.
    facts
        The numbers and names the text states (checked against the files by the tests).
    """

    text: str
    evidence: tuple[str, ...] = ()
    facts: dict = field(default_factory=dict)


@dataclass
class RunRecord:
    """The files and config of one finished run, read lazily and once.

    Parameters
    ----------
    files
        Role -> path (the ``checklists`` rule's inputs; see the module docstring).
    config
        The run's config (at least ``study``, ``seed``, ``cohort``, ``levels``,
        ``clinical``, ``split``, ``radiomics``, ``selection``, ``models``, ``evaluation``).
    """

    files: Mapping[str, str]
    config: Mapping
    _tables: dict = field(default_factory=dict, repr=False)

    def has(self, role: str) -> bool:
        return role in self.files and Path(self.files[role]).exists()

    def path(self, role: str) -> str:
        return str(self.files[role])

    def table(self, role: str) -> pd.DataFrame:
        if role not in self._tables:
            self._tables[role] = read_table(self.files[role])
        return self._tables[role]

    def card(self, level: str) -> dict:
        return json.loads(Path(self.files[f"card_{level}"]).read_text())

    @cached_property
    def design(self) -> StudyDesign:
        header = (None if not self.config["cohort"].get("manifest")
                  else list(self.table("cohort").columns))
        return StudyDesign.from_config(dict(self.config), header)

    @property
    def levels(self) -> list[str]:
        return self.design.level_names

    @cached_property
    def feature_metadata(self) -> dict:
        """Provenance stored with the features (pyradiomics version, params, sha256)."""
        import pyarrow.parquet as pq

        from alnburden.extraction.shards import PARQUET_METADATA_KEY

        raw = (pq.read_schema(self.files["features"]).metadata or {}).get(PARQUET_METADATA_KEY)
        return json.loads(raw) if raw else {}

    @cached_property
    def feature_columns(self) -> list[str]:
        import pyarrow.parquet as pq

        return [c for c in pq.read_schema(self.files["features"]).names if c != "patient_id"]

    @cached_property
    def params(self) -> dict:
        return yaml.safe_load(Path(self.files["params"]).read_text()) or {}

    def level(self, name: str):
        return next(lv for lv in self.design.levels if lv.name == name)


Filler = Callable[[RunRecord], Filled]


#: Every filler by name (the ``filler`` key of a checklist item).
FILLERS: dict[str, Filler] = {}


def filler(name: str):
    def register(fn: Filler) -> Filler:
        FILLERS[name] = fn
        return fn
    return register
