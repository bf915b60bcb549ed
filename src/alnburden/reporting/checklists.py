"""The TRIPOD+AI and CLEAR reporting checklists, filled from a run's files.

The item lists are package data (``tripod_ai.yaml``, ``clear.yaml``: every item's number,
section, short title in the project's own words, and optionally the ``filler`` that writes
what the run did and the ``authors`` note of what only the authors can add). Filling a
checklist calls each item's filler (:data:`alnburden.reporting.fillers.FILLERS`) on the run
(:class:`alnburden.reporting.fillers.RunRecord`); an item without a filler is marked for the
authors to complete. :func:`render_checklist` writes the Markdown table of
``results/checklists/<name>.md``: number, item, what this run did, the evidence file(s),
and what remains for the authors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml

from alnburden.design import StudyDesign
from alnburden.reporting.fillers import FILLERS, Filled, RunRecord

logger = logging.getLogger(__name__)

__all__ = ["CHECKLISTS", "ChecklistItem", "Checklist", "load_checklist", "fill_checklist",
           "render_checklist", "write_checklists", "checklist_files", "AUTHORS",
           "OPTIONAL_FILES"]

#: The checklists a run writes (package data ``<name>.yaml``).
CHECKLISTS = ("tripod_ai", "clear")
#: The mark of an item the run cannot know.
AUTHORS = "**Authors to complete**"


#: Files written by stages that a run may or may not have, by role (``{level}`` per level):
#: read when some rule writes them.
OPTIONAL_FILES = {"internal_validation": "tables/internal_validation.csv",
                  "sample_size": "tables/sample_size.csv",
                  "bundle": "bundle.zip",
                  "shap_{level}": "tables/{level}_shap.csv",
                  "repeated_splits": "tables/repeated_splits.csv"}


def checklist_files(design: StudyDesign, tables: Sequence[str], params: str | None = None,
                    results: str = "results",
                    produced: Callable[[str], bool] = lambda path: False) -> dict[str, str]:
    """The files the fillers read, by role (see :mod:`alnburden.reporting.fillers`).

    Parameters
    ----------
    design
        The study design: only the files it has are listed.
    tables
        The evaluation tables of the run (:func:`alnburden.evaluation.registry.table_names`).
    params
        The pyradiomics params file (imaging designs).
    results
        The results folder.
    produced
        ``produced(path)``: whether some rule writes ``path`` (the optional files of
        :data:`OPTIONAL_FILES` are listed only then).
    """
    r = results
    out = {"cohort": f"{r}/cohort/cohort.csv", "split": f"{r}/cohort/split.csv",
           "table1": f"{r}/tables/table1_baseline.csv", "predictions": f"{r}/predictions.csv",
           **{name: f"{r}/tables/{name}.csv" for name in tables}}
    if design.has_cascade:
        out["cascade_metrics"] = f"{r}/tables/cascade_metrics.csv"
    if design.has_images:
        out.update(features=f"{r}/features/radiomics.parquet", icc=f"{r}/features/icc.csv")
        if params is not None:
            out["params"] = str(params)
    for level in design.level_names:
        out[f"card_{level}"] = f"{r}/{level}/models/model_card.json"
        if design.has_images:
            out[f"selected_{level}"] = f"{r}/{level}/selection/selected_features.csv"
            out[f"learners_{level}"] = f"{r}/{level}/models/learners_cv.csv"
        if design.has_clinical:
            out[f"clinical_{level}"] = f"{r}/tables/{level}_clinical_logistic.csv"
        if design.nomogram_model:
            out[f"nomogram_{level}"] = f"{r}/tables/{level}_nomogram_points.csv"
            out[f"calculator_{level}"] = f"{r}/calculator/{level}.html"
    for role, rel in OPTIONAL_FILES.items():
        for level in (design.level_names if "{level}" in role else [None]):
            path = f"{r}/{rel}".format(level=level)
            if produced(path):
                out[role.format(level=level)] = path
    return out


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a checklist (see the module docstring)."""

    number: str
    section: str
    topic: str
    title: str
    filler: str | None = None
    authors: str | None = None


@dataclass(frozen=True)
class Checklist:
    """A checklist: its name (file stem), title, published reference and items."""

    name: str
    title: str
    reference: str
    items: tuple[ChecklistItem, ...]


def load_checklist(name: str) -> Checklist:
    """The checklist ``name`` (one of :data:`CHECKLISTS`) from the package data.

    Raises
    ------
    ValueError
        Unknown name, or an item naming a filler that does not exist.
    """
    if name not in CHECKLISTS:
        raise ValueError(f"no checklist {name!r}; the checklists are {list(CHECKLISTS)}")
    raw = yaml.safe_load(files("alnburden.reporting").joinpath(f"{name}.yaml").read_text())
    items = tuple(ChecklistItem(**{k: (str(v) if k == "number" else v) for k, v in it.items()})
                  for it in raw["items"])
    unknown = sorted({it.filler for it in items if it.filler and it.filler not in FILLERS})
    if unknown:
        raise ValueError(f"checklist {name}: unknown filler(s) {unknown}; add them to "
                         "alnburden.reporting.fillers.FILLERS")
    return Checklist(raw["name"], raw["title"], " ".join(raw["reference"].split()), items)


def fill_checklist(checklist: Checklist,
                   run: RunRecord) -> list[tuple[ChecklistItem, Filled | None]]:
    """Each item with what the run did (None for an item only the authors can fill)."""
    return [(item, FILLERS[item.filler](run) if item.filler else None)
            for item in checklist.items]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _evidence(paths, root: Path | None) -> str:
    out = []
    for p in paths:
        p = Path(p)
        if root is not None:
            try:
                p = p.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        out.append(f"`{p}`")
    return ", ".join(dict.fromkeys(out))


def render_checklist(checklist: Checklist, filled, study: str = "",
                     root: str | Path | None = None) -> str:
    """The Markdown of a filled checklist.

    Parameters
    ----------
    checklist, filled
        :func:`load_checklist` and :func:`fill_checklist`.
    study
        The run's ``study`` (the heading).
    root
        Evidence paths are written relative to this folder (the run's working directory).
    """
    root = None if root is None else Path(root)
    n_run = sum(f is not None for _, f in filled)
    lines = [f"# {checklist.title} checklist{': ' + study if study else ''}", "",
             f"Item list after {checklist.reference}, in alnburden's own words (short titles; "
             "read the published checklist for what each item asks). Filled by the workflow "
             f"from this run's files: {n_run} of {len(filled)} items say what the run did and "
             f"which file shows it; the others, and the *authors* notes, are for the authors "
             "to complete.", ""]
    section = None
    for item, f in filled:
        if item.section != section:
            section = item.section
            lines += ["", f"## {section}", "", "| No. | Item | This run | Evidence | Authors |",
                      "|---|---|---|---|---|"]
        run_text = _cell(f.text) if f is not None else AUTHORS
        ev = _evidence(f.evidence, root) if f is not None else ""
        authors = _cell(item.authors) if item.authors else ""
        authors = authors[:1].upper() + authors[1:]
        lines.append(f"| {item.number} | **{_cell(item.topic)}**: {_cell(item.title)} | "
                     f"{run_text} | {ev} | {authors} |")
    return "\n".join(lines) + "\n"


def write_checklists(run: RunRecord, outputs: Mapping[str, str | Path],
                     root: str | Path | None = None) -> list[Path]:
    """Fill and write every checklist of ``outputs`` (name -> Markdown path)."""
    written = []
    for name, path in outputs.items():
        checklist = load_checklist(name)
        filled = fill_checklist(checklist, run)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_checklist(checklist, filled, run.config.get("study", ""), root),
                        encoding="utf-8")
        logger.info("%s: %d items, %d filled from the run", path, len(filled),
                    sum(f is not None for _, f in filled))
        written.append(path)
    return written
