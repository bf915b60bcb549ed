"""Table 1: baseline characteristics by set (train vs test) and by each level's label.

Built with :class:`tableone.TableOne`, one call per comparison, assembled side by side
into one table that reads as a paper's Table 1 in Markdown and stays a plain CSV.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from tableone import TableOne

from alnburden.cohort.config import as_levels
from alnburden.cohort.values import numeric_levels
from alnburden.levels import NODE_COUNT, Level, nodal_class, parse_rule

logger = logging.getLogger(__name__)

_TEST_NAMES = {
    "Welch’s T-test": "Welch t-test",
    "Pooled T-test": "t-test",
    "Chi-squared (warning: expected count < 5)": "Chi-squared (expected count < 5)",
    "Not tested": "",
}
_GROUP = "_group"
_NEGATION = {">": "<=", ">=": "<", "==": "!=", "<": ">=", "<=": ">"}


# --------------------------------------------------------------------------- group names


def _interval(rule: str) -> tuple[int, float] | None:
    """Integer interval [lo, hi] of node counts selected by a rule (None when the rule is
    not ``all`` or a node-count rule with a whole number >= 0)."""
    parsed = parse_rule(rule)
    if parsed.column is None:
        return 0, np.inf
    if parsed.column != NODE_COUNT or not parsed.value.is_integer() or parsed.value < 0:
        return None
    k = int(parsed.value)
    return {">": (k + 1, np.inf), ">=": (k, np.inf), "==": (k, k),
            "<": (0, k - 1), "<=": (0, k)}[parsed.op]


def _interval_name(lo: float, hi: float) -> str | None:
    if lo > hi:
        return None
    if np.isinf(hi):
        return {0: "all", 1: "N+"}.get(int(lo), f"N>={int(lo)}")
    if lo == hi:
        return f"N{int(lo)}"
    return f"N{int(lo)}-{int(hi)}"


def level_group_names(level: Level) -> tuple[str, str]:
    """Readable names of a level's negative and positive groups.

    Derived from the rules as node-count intervals within the population, e.g.
    level1 (all; > 0) -> ("N0", "N+"), level2 (> 0; >= 3) -> ("N1-2", "N>=3");
    a label rule on another column is named by the rule and its negation, e.g.
    ``malignant == 1`` -> ("malignant != 1", "malignant == 1"); falls back to
    ``"<name>=0"`` / ``"<name>=1"`` when a node-count group is not an interval.
    """
    pop, lab = _interval(level.population), _interval(level.label)
    fallback = (f"{level.name}=0", f"{level.name}=1")
    rule = parse_rule(level.label)
    if lab is None and rule.column is not None:
        value = f"{rule.value:g}"
        return f"{rule.column} {_NEGATION[rule.op]} {value}", f"{rule.column} {rule.op} {value}"
    if pop is None or lab is None:
        return fallback
    pos = _interval_name(max(pop[0], lab[0]), min(pop[1], lab[1]))
    if lab[0] == 0:  # label [0, b]: negative is (b, inf)
        neg = _interval_name(max(pop[0], lab[1] + 1), pop[1])
    elif np.isinf(lab[1]):  # label [a, inf): negative is [0, a)
        neg = _interval_name(pop[0], min(pop[1], lab[0] - 1))
    else:
        neg = None
    if pos is None or neg is None:
        return fallback
    return neg, pos


# --------------------------------------------------------------------------- table


def _as_category(series: pd.Series, levels: Sequence) -> pd.Series:
    """Values as the strings of their declared level (so 2.0 read from CSV shows as "2")."""
    if numeric_levels(levels):
        lookup = {float(v): str(v) for v in levels}
        num = pd.to_numeric(series, errors="coerce").astype(float)
        return num.map(lookup).where(num.notna())
    return series.where(series.isna(), series.astype(str))


def _prepare(cohort: pd.DataFrame, variables: Sequence[dict]) -> tuple[pd.DataFrame, dict]:
    """Data for TableOne plus its keyword arguments shared by all comparisons."""
    data = pd.DataFrame(index=cohort.index)
    cont, cat, order, limit, units = [], [], {}, {}, {}
    for var in variables:
        name, vtype = var["name"], var["type"]
        if name not in cohort or cohort[name].isna().all():
            logger.warning("Table 1: variable %s has no values; left out", name)
            continue
        if vtype == "continuous":
            data[name] = pd.to_numeric(cohort[name], errors="coerce").astype(float)
            cont.append(name)
        else:
            levels = [0, 1] if vtype == "binary" else list(var["levels"])
            data[name] = _as_category(cohort[name], levels)
            cat.append(name)
            order[name] = [str(v) for v in levels]
            if vtype == "binary":
                order[name] = ["1", "0"]
                limit[name] = 1  # show the "1" row only
        units[name] = var.get("unit") or ""
    if "nodal_class" in cohort and cohort["nodal_class"].notna().any():
        classes = cohort["nodal_class"]
    elif "n_positive_nodes" in cohort and cohort["n_positive_nodes"].notna().all():
        classes = pd.Series(nodal_class(cohort["n_positive_nodes"].to_numpy()), index=cohort.index)
    else:  # a cohort without node counts (e.g. malignant vs benign): no nodal class row
        classes = None
    if classes is not None:
        data["nodal_class"] = classes.where(classes.isna(), classes.astype(str))
        cat.append("nodal_class")
        order["nodal_class"] = [c for c in ("N0", "N1-2", "N>=3")
                                if c in set(data["nodal_class"])]
    return data, {"continuous": cont, "categorical": cat, "order": order, "limit": limit,
                  "units": units}


def _nonnormal(data: pd.DataFrame, continuous: list[str], threshold: float) -> list[str]:
    out = []
    for name in continuous:
        x = data[name].dropna().to_numpy()
        if x.size > 2 and np.ptp(x) > 0 and abs(stats.skew(x, bias=False)) > threshold:
            out.append(name)
    return out


def _one_comparison(data: pd.DataFrame, groups: pd.Series, names: list[str], kw: dict,
                    nonnormal: list[str], decimals: int, overall: bool) -> pd.DataFrame:
    frame = data.copy()
    frame[_GROUP] = groups
    frame = frame[frame[_GROUP].notna()]
    if not kw["continuous"] + kw["categorical"]:
        return _patients_only(frame[_GROUP], names, overall)
    order = dict(kw["order"], **{_GROUP: names})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t1 = TableOne(frame, columns=kw["continuous"] + kw["categorical"],
                      categorical=kw["categorical"], continuous=kw["continuous"],
                      groupby=_GROUP, nonnormal=nonnormal, pval=True, htest_name=True,
                      order=order, limit=kw["limit"], missing=True, include_null=False,
                      decimals=decimals, overall=overall)
    for w in caught:
        logger.info("tableone: %s", str(w.message).strip())
    table = t1.tableone.copy()
    table.columns = [c[-1] for c in table.columns]
    return table


def _patients_only(groups: pd.Series, names: list[str], overall: bool) -> pd.DataFrame:
    """The ``n`` row alone, in tableone's layout: a study with no clinical variable and no
    node counts (e.g. radiomics of malignant vs benign lesions) has no characteristic."""
    counts = groups.value_counts()
    row = {"Missing": "", **({"Overall": str(len(groups))} if overall else {}),
           **{g: str(int(counts.get(g, 0))) for g in names}, "P-Value": "", "Test": ""}
    return pd.DataFrame([row], index=pd.MultiIndex.from_tuples([("n", "")]))


def _split_label(label: str, units: dict) -> tuple[str, str]:
    if label == "n":
        return "n", "patients"
    name, _, stat = label.partition(", ")
    unit = units.get(name, "")
    return name, f"{stat}, {unit}" if unit else stat


def baseline_table(cohort: pd.DataFrame, split: pd.DataFrame, variables: Sequence[dict],
                   levels: Sequence[Level | dict], nonnormal: Sequence[str] | None = None,
                   decimals: int = 1, skew_threshold: float = 1.0) -> pd.DataFrame:
    """Baseline characteristics (Table 1) with tests of each difference.

    Parameters
    ----------
    cohort
        Validated cohort (``patient_id``, ``n_positive_nodes``/``nodal_class``, level
        columns, clinical variables), e.g. ``results/cohort/cohort.csv``.
    split
        ``patient_id, set`` (``results/cohort/split.csv``); must cover the cohort exactly.
    variables
        Config ``clinical.variables`` (name, type, unit, levels).
    levels
        The hierarchy (:class:`~alnburden.levels.Level` or the config's dicts). Each level is
        compared within its population (rows where its label is not missing).
    nonnormal
        Continuous variables summarised as median [Q1,Q3] and tested with Kruskal-Wallis
        (Mann-Whitney for two groups); the others as mean (SD) with Welch's t-test.
        None (default) picks the variables whose absolute sample skewness exceeds
        ``skew_threshold`` in the whole cohort (e.g. Ki-67, tumour size).
    decimals
        Decimals of means, SDs, medians and percentages.
    skew_threshold
        Skewness above which a continuous variable is treated as non-normal (when
        ``nonnormal`` is None).

    Returns
    -------
    pandas.DataFrame
        One row per characteristic (one per category level for categorical, ordinal and
        nodal class; binary variables show the "1" row only), columns:
        ``variable``, ``statistic`` (e.g. "mean (SD), years", "n (%)"), ``level``
        (category, "" for continuous), ``Missing`` (whole cohort), ``Overall``, ``Train``,
        ``Test``, ``p (train vs test)``, then per level ``<level>: <negative group>``,
        ``<level>: <positive group>``, ``p (<level>)`` and finally ``test`` (the test(s)
        used, as chosen by tableone: Welch t-test or Kruskal-Wallis for continuous,
        Chi-squared or Fisher's exact (2x2 with expected counts < 5) for categorical).
        The first row is ``n`` (patients per group). Cells are formatted strings
        (p-values as tableone prints them, e.g. "<0.001"); empty where not applicable.
        Nodal class is shown for reference and not tested within levels (it defines them);
        a cohort without node counts has no nodal class rows, and one with neither
        clinical variables nor node counts the ``n`` row only.
    """
    levels = as_levels(levels)
    sets = _patient_sets(cohort, split)
    data, kw = _prepare(cohort, variables)
    if nonnormal is None:
        nonnormal = _nonnormal(data, kw["continuous"], skew_threshold)
    nonnormal = [v for v in nonnormal if v in kw["continuous"]]
    logger.info("Table 1: non-normal continuous variables %s", nonnormal)

    set_groups = pd.Series(cohort["patient_id"].map(sets).to_numpy(), index=cohort.index)
    base = _one_comparison(data, set_groups, ["train", "test"], kw, nonnormal, decimals,
                           overall=True)
    out = pd.DataFrame(index=base.index)
    out["Missing"] = base["Missing"]
    out["Overall"] = base["Overall"]
    out["Train"], out["Test"] = base["train"], base["test"]
    out["p (train vs test)"] = base["P-Value"]
    tests = {"train vs test": base["Test"]}
    for lv in levels:
        _add_level_comparison(out, tests, cohort, data, lv, kw, nonnormal, decimals)
    out["test"] = _test_names(tests, _is_nodal(out))
    return _labelled(out, kw["units"])


def _patient_sets(cohort: pd.DataFrame, split: pd.DataFrame) -> pd.Series:
    """``set`` by ``patient_id``; the split must cover the cohort exactly."""
    sets = split.set_index("patient_id")["set"]
    missing = set(cohort["patient_id"]) - set(sets.index)
    extra = set(sets.index) - set(cohort["patient_id"])
    if missing or extra:
        raise ValueError(f"split does not match the cohort: {len(missing)} cohort patients "
                         f"not in the split (e.g. {sorted(missing)[:3]}), {len(extra)} split "
                         f"patients not in the cohort (e.g. {sorted(extra)[:3]}); rerun the split")
    return sets


def _is_nodal(out: pd.DataFrame) -> np.ndarray:
    """Rows of the nodal class (shown for reference, never tested within a level)."""
    return out.index.get_level_values(0).str.startswith("nodal_class")


def _add_level_comparison(out: pd.DataFrame, tests: dict[str, pd.Series], cohort: pd.DataFrame,
                          data: pd.DataFrame, lv: Level, kw: dict, nonnormal: list[str],
                          decimals: int) -> None:
    """Add a level's two group columns and its p column to ``out``, its tests to ``tests``
    (nothing when its population holds a single class)."""
    if lv.name not in cohort:
        raise ValueError(f"cohort has no column {lv.name}; add labels with "
                         "alnburden.levels.add_level_labels (validate_manifest does)")
    lab = pd.to_numeric(cohort[lv.name], errors="coerce")
    neg, pos = level_group_names(lv)
    groups = lab.map({0: neg, 1: pos})
    present = groups.dropna().unique()
    if len(present) < 2:
        logger.warning("Table 1: level %s has a single class in its population (%s); "
                       "comparison left out", lv.name, list(present))
        return
    t = _one_comparison(data, groups, [neg, pos], kw, nonnormal, decimals,
                        overall=False).reindex(out.index)
    out[f"{lv.name}: {neg}"] = t[neg]
    out[f"{lv.name}: {pos}"] = t[pos]
    p_col = f"p ({lv.name})"
    out[p_col] = t["P-Value"]
    nodal = _is_nodal(out)
    out.loc[nodal, p_col] = ""
    tests[lv.name] = t["Test"].where(~nodal, "")


def _test_names(tests: dict[str, pd.Series], is_nodal: np.ndarray) -> list[str]:
    """The ``test`` column: each row's test, then the comparisons that used another one."""
    test_col = []
    for i in range(len(is_nodal)):
        named = [(comp, _TEST_NAMES.get(series.iloc[i], series.iloc[i]))
                 for comp, series in tests.items() if isinstance(series.iloc[i], str)]
        named = [(comp, name) for comp, name in named if name]
        if not named:
            test_col.append("")
            continue
        first = named[0][1]
        text = first + "".join(f"; {comp}: {name}" for comp, name in named if name != first)
        test_col.append(text + (" (train vs test only)" if is_nodal[i] else ""))
    return test_col


def _labelled(out: pd.DataFrame, units: dict) -> pd.DataFrame:
    """``out`` (indexed by tableone's labels) as text with ``variable, statistic, level`` first."""
    labels = [_split_label(lab, units) for lab in out.index.get_level_values(0)]
    table = out.reset_index(drop=True).fillna("").astype(str)
    table.insert(0, "level", [str(lv) for lv in out.index.get_level_values(1)])
    table.insert(0, "statistic", [s for _, s in labels])
    table.insert(0, "variable", [v for v, _ in labels])
    return table
