"""Classification levels of the hierarchy, derived from the positive-node count.

A level is configuration, not code: a population rule and a label rule, each a
comparison on ``n_positive_nodes`` (or ``"all"`` for the population). Labels are
always derived from the pathological node count, never typed by hand.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}
_RULE = re.compile(r"^\s*n_positive_nodes\s*(>=|<=|==|>|<)\s*([0-9]+)\s*$")


def parse_rule(rule: str):
    """Parse ``"n_positive_nodes <op> <int>"`` (or ``"all"``) into a function of the counts."""
    if rule.strip() == "all":
        return lambda n: np.ones(len(n), dtype=bool)
    m = _RULE.match(rule)
    if not m:
        raise ValueError(
            f"rule {rule!r} is not understood; write 'all' or 'n_positive_nodes <op> <integer>' "
            "with <op> one of >, >=, ==, <, <="
        )
    op, k = _OPS[m.group(1)], int(m.group(2))
    return lambda n: op(np.asarray(n), k)


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy (e.g. level1: N0 vs N+; level2: N1-2 vs N>=3)."""

    name: str
    label: str
    population: str = "all"
    description: str = ""

    def in_population(self, n_positive_nodes) -> np.ndarray:
        """Boolean mask of patients the level is fitted on."""
        return parse_rule(self.population)(n_positive_nodes)

    def labels(self, n_positive_nodes) -> np.ndarray:
        """0/1 labels (defined for every patient; use with :meth:`in_population`)."""
        return parse_rule(self.label)(n_positive_nodes).astype(int)


def levels_from_config(config: dict) -> list[Level]:
    """Build the :class:`Level` list from the validated config's ``levels`` key."""
    out = [Level(name=lv["name"], label=lv["label"], population=lv.get("population", "all"),
                 description=lv.get("description", "")) for lv in config["levels"]]
    names = [lv.name for lv in out]
    if len(set(names)) != len(names):
        raise ValueError(f"level names must be unique, got {names}")
    return out


def add_level_labels(cohort: pd.DataFrame, levels: list[Level]) -> pd.DataFrame:
    """Add ``<level>`` columns: 0/1 label inside the level's population, <NA> outside it."""
    out = cohort.copy()
    n = out["n_positive_nodes"].to_numpy()
    for lv in levels:
        lab = pd.Series(lv.labels(n), index=out.index, dtype="Int64")
        lab[~lv.in_population(n)] = pd.NA
        out[lv.name] = lab
    return out


def nodal_class(n_positive_nodes) -> np.ndarray:
    """Three-class nodal status used for stratification and the cascade: N0, N1-2, N>=3."""
    n = np.asarray(n_positive_nodes)
    return np.where(n == 0, "N0", np.where(n <= 2, "N1-2", "N>=3"))
