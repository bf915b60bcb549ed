"""The package's layout mirrors the DAG: a module imports only its own stage or earlier ones.

Stages, in DAG order: the base modules (io, schemas, design, formatting, levels, stats), then
cohort, extraction, modeling, evaluation, figures, reporting (the top stage); tools run the whole workflow and may import
anything. The cohort sources (simulate, datasets) use the base modules only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "alnburden"
BASE = ("io", "schemas", "design", "formatting", "levels", "stats")
STAGES = ("cohort", "extraction", "modeling", "evaluation", "figures", "external", "reporting")
SOURCES = ("simulate", "datasets")


def _rank(part: str) -> int:
    if part in BASE or part == "":
        return 0
    if part in SOURCES:
        return 1
    if part in STAGES:
        return 2 + STAGES.index(part)
    if part == "tools":
        return 99
    raise AssertionError(f"alnburden.{part} is in no stage of tests/test_layout.py: add it")


def _stage(module: str) -> str:
    """``alnburden.cohort.split`` -> ``cohort``; ``alnburden.design`` -> ``design``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            raise AssertionError(f"{path}: an import leaves its subpackage relatively; write "
                                 "alnburden.<stage>.<module>")
    # a one-dot relative import stays inside the module's own subpackage
    return [m for m in out if m == "alnburden" or m.startswith("alnburden.")]


def violations(path: Path, package: Path = PACKAGE) -> list[str]:
    """The imports of ``path`` (a module under ``package``) that reach a later stage."""
    own = path.relative_to(package).parts
    own_stage = own[0].removesuffix(".py") if own != ("__init__.py",) else ""
    bad = []
    for module in _imports(path):
        stage = _stage(module)
        if own_stage in SOURCES:
            ok = stage == own_stage or _rank(stage) == 0
        else:
            ok = _rank(stage) <= _rank(own_stage)
        if not ok:
            bad.append(f"{path.relative_to(package)} ({own_stage or 'alnburden'}) imports "
                       f"{module}, of the later stage {stage}")
    return bad


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_dag(path):
    assert violations(path) == [], "move the shared piece down the DAG"


def test_the_check_sees_an_upward_import(tmp_path):
    (tmp_path / "modeling").mkdir()
    (tmp_path / "simulate").mkdir()
    up = tmp_path / "modeling" / "fit.py"
    up.write_text("from alnburden.figures.style import save_figure\nimport alnburden.cohort\n")
    side = tmp_path / "simulate" / "x.py"
    side.write_text("from alnburden.cohort.split import stratified_split\n")
    assert violations(up, tmp_path) == [
        "modeling/fit.py (modeling) imports alnburden.figures.style, of the later stage figures"]
    assert len(violations(side, tmp_path)) == 1


def test_every_stage_is_a_subpackage():
    for stage in STAGES + SOURCES + ("tools", "io", "schemas", "stats"):
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
