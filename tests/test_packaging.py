"""The study command installs ``pip install -e .`` without the test extra: everything the
workflow imports, and what ``snakemake --report`` needs, must come with the base install."""

import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# alnburden.datasets.gbsg2 reads the GBSG2 table shipped inside lifelines (a test extra):
# it serves the clinical-only test and is not part of the study.
TEST_ONLY_IMPORTS = {"lifelines"}


def base_closure(dist: str = "alnburden", extras: frozenset = frozenset()) -> set[str]:
    """Canonical names of ``dist`` and everything it requires, recursively, with no extra
    of alnburden's own (the study command's install) but the extras its pins ask for."""
    seen: set[str] = set()
    todo = [(dist, extras)]
    while todo:
        name, wanted = todo.pop()
        key = canonicalize_name(name)
        if (key, wanted) in seen:
            continue
        seen.add((key, wanted))
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    return {k for k, _ in seen}


def third_party_imports() -> set[str]:
    names = set()
    for path in [*ROOT.joinpath("src/alnburden").rglob("*.py"), *ROOT.joinpath("scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "alnburden"}


def test_every_import_of_the_workflow_comes_with_the_base_install():
    closure = base_closure()
    providers = metadata.packages_distributions()
    missing = {}
    for module in sorted(third_party_imports() - TEST_ONLY_IMPORTS):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        assert dists, f"{module} is imported but no installed distribution provides it"
        if not dists & closure:
            missing[module] = sorted(dists)
    assert not missing, f"imported by the workflow but only installed by an extra: {missing}"


def test_the_report_dependencies_come_with_the_base_install():
    """`snakemake --report` (run by the default study at its end) needs pygments, which
    snakemake only lists under its `reports` extra."""
    closure = base_closure()
    assert {"pygments", "jinja2", "docutils"} <= closure


def test_the_closure_walk_can_fail():
    assert "lifelines" not in base_closure()  # a test extra, not in the study install
    assert "lifelines" in base_closure("alnburden", frozenset({"test"}))
