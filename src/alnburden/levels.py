"""Classification levels of the hierarchy: a population rule and a label rule per level.

A level is configuration, not code: a population rule and a label rule, each a
comparison ``<column> <op> <number>`` on a numeric column of the manifest (``op`` one of
``>, >=, ==, <, <=``), or ``"all"`` for the population. The ALN hierarchy compares the
pathological node count (``n_positive_nodes > 0``, ``n_positive_nodes >= 3``); another
study may label on another recorded outcome (``malignant == 1``). Labels are always derived
from a recorded column, never typed by hand.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alnburden.schemas import CONFIG_SCHEMA, load_schema

#: Column of the pathological positive-node count (the default hierarchy's rules).
NODE_COUNT = "n_positive_nodes"

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_RULE = re.compile(rf"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*({_NUMBER})\s*$")
_RULE_HELP = ("write 'all' (population only) or '<column> <op> <number>' with <column> a "
              "numeric manifest column and <op> one of >, >=, ==, <, <= "
              "(e.g. 'n_positive_nodes >= 3', 'malignant == 1')")


@dataclass(frozen=True)
class Rule:
    """A parsed level rule: ``column op value``, or everyone (``column is None``).

    Calling the rule on a DataFrame compares its ``column``; called on anything else
    (a sequence or array) the values are taken to BE that column's values (the historical
    node-count API: ``parse_rule("n_positive_nodes > 0")([0, 2])``). Missing values
    (NaN/<NA>) never satisfy a comparison.
    """

    text: str
    column: str | None = None
    op: str | None = None
    value: float | None = None

    def values(self, data) -> np.ndarray:
        """The rule column of ``data`` (a DataFrame) as floats, or ``data`` itself as floats.

        Raises
        ------
        KeyError
            ``data`` is a DataFrame without the rule's column (the message names it).
        ValueError
            The column is not numeric.
        """
        if isinstance(data, pd.DataFrame):
            if self.column not in data.columns:
                raise KeyError(f"rule {self.text!r} needs column {self.column!r}, which the "
                               f"table lacks (it has {list(data.columns)[:12]}); add the column "
                               "to the manifest or change the level rule in config levels")
            series = data[self.column]
        else:
            series = pd.Series(np.asarray(data).ravel() if not isinstance(data, pd.Series)
                               else data)
        try:
            return pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"rule {self.text!r}: column {self.column!r} is not numeric "
                             f"({exc}); code it as numbers (e.g. 0/1)") from None

    def __call__(self, data) -> np.ndarray:
        """Boolean array: which rows satisfy the rule."""
        if self.column is None:
            return np.ones(len(data), dtype=bool)
        with np.errstate(invalid="ignore"):
            return _OPS[self.op](self.values(data), self.value)


def parse_rule(rule: str) -> Rule:
    """Parse ``"all"`` or ``"<column> <op> <number>"`` into a :class:`Rule`.

    Raises
    ------
    ValueError
        The rule is not of that form (the message shows the accepted forms).
    """
    if not isinstance(rule, str):
        raise ValueError(f"rule {rule!r} is not a string; {_RULE_HELP}")
    if rule.strip() == "all":
        return Rule(text="all")
    m = _RULE.match(rule)
    if not m:
        raise ValueError(f"rule {rule!r} is not understood; {_RULE_HELP}")
    return Rule(text=rule.strip(), column=m.group(1), op=m.group(2), value=float(m.group(3)))


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy (e.g. level1: N0 vs N+; level2: N1-2 vs N>=3).

    Parameters
    ----------
    name
        Level name (paths, the ``level`` column of every table, its cohort column).
    label
        Rule of the positive class, e.g. ``"n_positive_nodes >= 3"`` or ``"malignant == 1"``.
    population
        Rule of the patients the level is fitted on (``"all"`` by default).
    description
        Human-readable description.
    nested_folds
        Outer folds of the level's nested cross-validation (config ``nested_folds`` of the
        level); None: ``internal_validation.nested.folds`` (:meth:`outer_folds_or`).
    """

    name: str
    label: str
    population: str = "all"
    description: str = ""
    nested_folds: int | None = None

    def outer_folds_or(self, default: int) -> int:
        """Outer folds of the level's nested CV: its own ``nested_folds``, else ``default``
        (``internal_validation.nested.folds``)."""
        return int(self.nested_folds if self.nested_folds is not None else default)

    @property
    def columns(self) -> tuple[str, ...]:
        """Manifest columns the level's rules read (population first), without repeats."""
        cols = [parse_rule(r).column for r in (self.population, self.label)]
        return tuple(dict.fromkeys(c for c in cols if c is not None))

    def in_population(self, data) -> np.ndarray:
        """Boolean mask of the patients the level is fitted on.

        Parameters
        ----------
        data
            The cohort DataFrame (the rule's column is read), or the values of the
            population rule's column (e.g. the node counts).
        """
        return parse_rule(self.population)(data)

    def labels(self, data) -> np.ndarray:
        """0/1 labels (defined for every patient; use with :meth:`in_population`).

        Parameters
        ----------
        data
            The cohort DataFrame (the rule's column is read), or the values of the label
            rule's column (e.g. the node counts). A missing value gives 0; use
            :func:`add_level_labels` to keep it missing.
        """
        return parse_rule(self.label)(data).astype(int)


def levels_from_config(config: dict) -> list[Level]:
    """Build the :class:`Level` list from the validated config's ``levels`` key.

    Raises
    ------
    ValueError
        Duplicate level names, a rule that does not parse, or a level named like a column
        its rules read (its label column would overwrite that column).
    """
    item = load_schema(CONFIG_SCHEMA)["properties"]["levels"]["items"]["properties"]
    defaults = {key: item[key]["default"] for key in ("population", "description")}
    out = [Level(name=lv["name"], label=lv["label"], **{**defaults, **{
        k: lv[k] for k in defaults if k in lv}},
        nested_folds=None if lv.get("nested_folds") is None else int(lv["nested_folds"]))
        for lv in config["levels"]]
    names = [lv.name for lv in out]
    if len(set(names)) != len(names):
        raise ValueError(f"level names must be unique, got {names}")
    for lv in out:
        cols = lv.columns  # parses both rules (ValueError on a bad one)
        clash = sorted(set(names) & set(cols))
        if clash:
            raise ValueError(f"level {lv.name!r} reads column(s) {clash} that are also level "
                             "names; a level's labels are written to a column of its name, so "
                             "rename the level in config levels")
    return out


def rule_columns(levels: Iterable[Level]) -> list[str]:
    """Manifest columns the levels' rules read, in order of first use, without repeats."""
    return list(dict.fromkeys(c for lv in levels for c in lv.columns))


def add_level_labels(cohort: pd.DataFrame, levels: list[Level]) -> pd.DataFrame:
    """Add ``<level>`` columns: 0/1 label inside the level's population, <NA> outside it.

    A patient whose label column is missing gets <NA> too.

    Raises
    ------
    KeyError
        The cohort lacks a column a rule reads (the message names it).
    """
    out = cohort.copy()
    for lv in levels:
        rule = parse_rule(lv.label)
        lab = pd.Series(lv.labels(cohort), index=out.index, dtype="Int64")
        undefined = ~lv.in_population(cohort)
        if rule.column is not None:
            undefined |= np.isnan(rule.values(cohort))
        lab[undefined] = pd.NA
        out[lv.name] = lab
    return out


def nodal_class(n_positive_nodes) -> np.ndarray:
    """Three-class nodal status used for stratification and the cascade: N0, N1-2, N>=3."""
    n = np.asarray(n_positive_nodes)
    return np.where(n == 0, "N0", np.where(n <= 2, "N1-2", "N>=3"))
