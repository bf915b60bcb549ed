"""The train/test split of the study (config ``split``, :func:`make_split`).

Three kinds, one ``results/cohort/split.csv`` (``patient_id, set``, the stratum, and
``group`` for a grouped split):

- the default **stratified random split** (:func:`stratified_split`): patient-level,
  stratified by nodal class (N0 / N1-2 / N>=3), or by the levels' labels in a cohort without
  node counts;
- a **user-given split** (``split.column``, :func:`user_split`): a manifest column whose
  cells are ``train`` or ``test`` (case-insensitive), for a predefined, temporal or centre
  split; the manifest validation checks it like every other column;
- a **grouped split** (``split.group``, :func:`grouped_split`): rows that share a group
  (every image or lesion of one patient) are kept on one side, stratified as well as whole
  groups allow.

The repeated random splits (``split.repeats``) draw the same kind of random split with the
seeds :func:`repeat_seed` derives from ``split.seed``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from alnburden.levels import NODE_COUNT, Level, levels_from_config, nodal_class
from alnburden.schemas import with_defaults

logger = logging.getLogger(__name__)


def _level_names(levels: Sequence[str | Level | dict]) -> list[str]:
    return [lv if isinstance(lv, str) else lv.name if isinstance(lv, Level) else lv["name"]
            for lv in levels]


def split_strata(cohort: pd.DataFrame,
                 levels: Sequence[str | Level | dict] | None = None) -> tuple[str, np.ndarray]:
    """The stratification variable of the split: its name and one value per patient.

    Parameters
    ----------
    cohort
        The validated cohort.
    levels
        Levels (names, :class:`~alnburden.levels.Level` or config dicts) whose label
        columns stratify the split when the cohort has no node counts.

    Returns
    -------
    name : str
        ``"nodal_class"`` (N0 / N1-2 / N>=3, from ``nodal_class`` or ``n_positive_nodes``)
        when every patient has one, else ``"stratum"``: the combination of the levels'
        labels, e.g. ``"malignancy=1"`` (``"<level>=NA"`` outside a level's population).
    values : ndarray of str

    Raises
    ------
    ValueError
        No node counts and no levels given, or a level column absent from the cohort.
    """
    if "nodal_class" in cohort and cohort["nodal_class"].notna().all():
        return "nodal_class", cohort["nodal_class"].astype(str).to_numpy()
    if NODE_COUNT in cohort and cohort[NODE_COUNT].notna().all():
        return "nodal_class", nodal_class(pd.to_numeric(cohort[NODE_COUNT]).to_numpy())
    names = _level_names(levels or [])
    if not names:
        raise ValueError("the cohort has no node counts (nodal_class / n_positive_nodes) to "
                         "stratify the split by; pass levels= the config's levels to stratify by "
                         "their labels")
    absent = [n for n in names if n not in cohort]
    if absent:
        raise ValueError(f"cohort has no label column(s) {absent}; validate the manifest with "
                         "these levels first (alnburden.cohort.manifest.validate_manifest adds them)")
    parts = [n + "=" + pd.to_numeric(cohort[n], errors="coerce").astype("Int64").astype(str)
             .replace("<NA>", "NA") for n in names]
    strata = parts[0]
    for part in parts[1:]:
        strata = strata + "|" + part
    return "stratum", strata.to_numpy(dtype=str)


def stratified_split(cohort: pd.DataFrame, test_fraction: float = 0.3,
                     seed: int = 2026,
                     levels: Sequence[str | Level | dict] | None = None) -> pd.DataFrame:
    """Split patients into a training and a test set, stratified by nodal class.

    Parameters
    ----------
    cohort
        The validated cohort: ``patient_id`` (unique) and ``nodal_class`` (or
        ``n_positive_nodes``, from which the class is derived); a cohort without node
        counts is stratified by the labels of ``levels`` instead (:func:`split_strata`).
    test_fraction
        Fraction of patients held out for testing, in (0, 1). The test set has
        ``ceil(test_fraction * n)`` patients (scikit-learn's rule): 583 -> 175 test, 408 train.
    seed
        Random state of the split (same seed, same cohort -> same split).
    levels
        The config's levels (names, :class:`~alnburden.levels.Level` or dicts); used only
        when the cohort has no node counts.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, set, nodal_class`` with ``set`` in {"train", "test"}, one row per
        patient in the cohort's order (``patient_id, set, stratum`` when stratified by the
        levels' labels). Each stratum is split in the overall proportion, within one patient.

    Raises
    ------
    ValueError
        On duplicate or missing ids, a fraction outside (0, 1), nothing to stratify by, or
        a cohort too small to give every stratum a patient in both sets.

    Notes
    -----
    A stratum with a single patient cannot be stratified; it is pooled with the largest
    stratum for the draw (a warning is logged) and keeps its own label in the output.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction is {test_fraction}; it must be in (0, 1), e.g. 0.3 "
                         "(config split.test_fraction)")
    ids = cohort["patient_id"]
    if ids.isna().any() or ids.astype(str).str.strip().eq("").any():
        raise ValueError("cohort has patients without patient_id; validate the manifest first")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique().tolist()
        raise ValueError(f"duplicate patient_id {dup[:5]}: the split is patient-level; "
                         "validate the manifest first")
    by, classes = split_strata(cohort, levels)
    strata = classes.copy()
    counts = pd.Series(strata).value_counts()
    lonely = counts[counts < 2].index.tolist()
    if lonely and len(counts) > 1:
        largest = counts.index[0]
        logger.warning("%s %s has a single patient: pooled with %s for the "
                       "stratified draw", by, lonely, largest)
        strata[np.isin(strata, lonely)] = largest
    n = len(cohort)
    try:
        _, test_idx = train_test_split(np.arange(n), test_size=test_fraction,
                                       random_state=seed, shuffle=True, stratify=strata)
    except ValueError as exc:
        raise ValueError(
            f"cannot split {n} patients ({counts.to_dict()}) with test_fraction "
            f"{test_fraction}: {exc}; use a larger cohort or a test_fraction that leaves every "
            f"{by.replace('_', ' ')} in both sets"
        ) from exc
    is_test = np.zeros(n, dtype=bool)
    is_test[test_idx] = True
    out = pd.DataFrame({
        "patient_id": ids.to_numpy(),
        "set": np.where(is_test, "test", "train"),
        by: classes,
    })
    summary = out.groupby(["set", by]).size().unstack(fill_value=0)
    logger.info("split %d patients (seed %d, test fraction %g):\n%s", n, seed, test_fraction,
                summary.to_string())
    return out


# --------------------------------------------------------------------------- user-given split

#: The values of a user-given split column (config ``split.column``), as written in split.csv.
SET_VALUES = ("train", "test")


def set_value(text) -> str | None:
    """A cell of the user's split column as ``"train"``/``"test"``, or None when it is neither.

    Case and surrounding blanks are ignored (``"Train"``, ``" TEST "``); nothing else is
    accepted (no ``"training"``, ``"validation"``, ``0``/``1``): a centre or temporal split
    is written as the words train and test.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    value = str(text).strip().lower()
    return value if value in SET_VALUES else None


def one_class_sides(cohort: pd.DataFrame, sets, levels: Sequence[Level]) -> list[str]:
    """Why a split cannot be used: each level whose training or test side has one class only.

    Parameters
    ----------
    cohort
        Typed cohort with one 0/1 label column per level (<NA> outside its population).
    sets
        ``"train"``/``"test"`` per row of ``cohort``.
    levels
        The levels (:class:`~alnburden.levels.Level`).

    Returns
    -------
    list of str
        One sentence per level and side (empty when every side has both classes).
    """
    sets = np.asarray(sets, dtype=object)
    out = []
    for lv in levels:
        y = pd.to_numeric(cohort[lv.name], errors="coerce").to_numpy(dtype=float)
        for side in SET_VALUES:
            labels = y[(sets == side) & ~np.isnan(y)]
            n_pos, n_neg = int((labels == 1).sum()), int((labels == 0).sum())
            if n_pos == 0 or n_neg == 0:
                out.append(f"level {lv.name}: the {side} side has {n_neg} negative and {n_pos} "
                           f"positive patient(s); both classes are needed on each side "
                           f"({lv.label})")
    return out


def _strata_or_none(cohort: pd.DataFrame, levels) -> tuple[str, np.ndarray]:
    try:
        return split_strata(cohort, levels)
    except ValueError:
        return "stratum", np.full(len(cohort), "all", dtype=object)


def user_split(cohort: pd.DataFrame, column: str,
               levels: Sequence[str | Level | dict] | None = None,
               group: str | None = None) -> pd.DataFrame:
    """The split the user gave in a manifest column (a predefined, temporal or centre split).

    Parameters
    ----------
    cohort
        The validated cohort, holding ``column`` (and ``group`` when given).
    column
        Config ``split.column``: the manifest column whose cells are ``train`` or ``test``
        (case-insensitive, :func:`set_value`).
    levels
        The levels (:class:`~alnburden.levels.Level` or config dicts); each must have both
        classes on each side.
    group
        Config ``split.group``, or None: every row of a group must be on one side.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, set`` and the stratum column of :func:`split_strata` (for Table 1),
        plus ``group`` when ``group`` is given.

    Raises
    ------
    ValueError
        The column is absent, a cell is neither train nor test, a group is on both sides or
        a level has one class only on a side (every offending row or level named; the
        manifest validation reports the same problems before this runs).
    """
    if column not in cohort:
        raise ValueError(f"config split.column is {column!r} but the cohort has no such column; "
                         "add it to the manifest or remove split.column")
    sets = cohort[column].map(set_value)
    bad = cohort.loc[sets.isna(), "patient_id"].astype(str).tolist()
    if bad:
        raise ValueError(f"split column {column!r} must be train or test (case-insensitive); "
                         f"{len(bad)} patient(s) have another or no value: {bad}")
    if group is not None:
        mixed = _mixed_groups(cohort[group].astype(str), sets)
        if mixed:
            raise ValueError(f"group(s) {mixed} of split.group {group!r} have rows on both sides "
                             f"of split.column {column!r}; put each group on one side")
    lvls = _as_levels(levels)
    problems = one_class_sides(cohort, sets, lvls) if lvls else []
    if problems:
        raise ValueError("the split of column " + repr(column) + " cannot be used: "
                         + "; ".join(problems) + "; move patients between the sides")
    by, classes = _strata_or_none(cohort, levels)
    out = pd.DataFrame({"patient_id": cohort["patient_id"].to_numpy(), "set": sets.to_numpy(),
                        by: classes})
    if group is not None:
        out["group"] = cohort[group].astype(str).to_numpy()
    logger.info("user split from column %s: %s", column, out["set"].value_counts().to_dict())
    return out


def _as_levels(levels) -> list[Level]:
    """Levels given as Level objects or config dicts (names alone carry no rule: skipped)."""
    levels = list(levels or [])
    dicts = [lv for lv in levels if isinstance(lv, dict) and "label" in lv]
    return [lv for lv in levels if isinstance(lv, Level)] + (
        levels_from_config({"levels": dicts}) if dicts else [])


def _mixed_groups(groups: pd.Series, sets: pd.Series) -> list[str]:
    """Groups whose rows carry more than one set value."""
    n_sides = sets.groupby(groups.to_numpy()).nunique()
    return sorted(n_sides.index[n_sides > 1].astype(str).tolist())


# --------------------------------------------------------------------------- grouped split


def grouped_split(cohort: pd.DataFrame, group: str, test_fraction: float = 0.3,
                  seed: int = 2026,
                  levels: Sequence[str | Level | dict] | None = None) -> pd.DataFrame:
    """Split whole groups (e.g. every image of one patient) into train and test, stratified.

    Parameters
    ----------
    cohort
        The validated cohort: ``patient_id`` (one row each: an image or a lesion) and the
        ``group`` column.
    group
        Config ``split.group``: rows with the same value are kept on one side.
    test_fraction
        Target fraction of ROWS in the test set, in (0, 1); honoured approximately (whole
        groups move), the achieved fraction is logged.
    seed
        Random state (the order in which groups are placed).
    levels
        As in :func:`stratified_split` (strata from the levels' labels without node counts).

    Returns
    -------
    pandas.DataFrame
        ``patient_id, set``, the stratum column of :func:`split_strata` and ``group``.

    Raises
    ------
    ValueError
        A fraction outside (0, 1), a missing group value, fewer than two groups.

    Notes
    -----
    Greedy stratified assignment: the groups are visited largest first (ties in a seeded
    random order); each goes to the side that keeps every stratum's test count nearest to
    ``test_fraction`` of that stratum's rows placed so far (the same aim as scikit-learn's
    ``StratifiedGroupKFold``, for one held-out fraction instead of K equal folds). With one
    row per group it is a stratified random split (not row-for-row the same draw as
    :func:`stratified_split`).
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction is {test_fraction}; it must be in (0, 1), e.g. 0.3 "
                         "(config split.test_fraction)")
    if group not in cohort:
        raise ValueError(f"config split.group is {group!r} but the cohort has no such column; "
                         "add it to the manifest or remove split.group")
    missing = cohort.loc[cohort[group].isna(), "patient_id"].astype(str).tolist()
    if missing:
        raise ValueError(f"{len(missing)} row(s) have no {group} (split.group): {missing}; "
                         "fill it in (the patient each row belongs to)")
    by, classes = split_strata(cohort, levels)
    groups = cohort[group].astype(str).to_numpy()
    is_test = _greedy_group_assignment(groups, classes, test_fraction, seed)
    out = pd.DataFrame({"patient_id": cohort["patient_id"].to_numpy(),
                        "set": np.where(is_test, "test", "train"), by: classes,
                        "group": groups})
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ValueError(f"split.group {group!r} has {n_groups} group; a grouped split needs "
                         "at least two")
    logger.info("grouped split (%s, %d groups, seed %d): test fraction %.3f of rows (target "
                "%g), %.3f of groups", group, n_groups, seed, is_test.mean(), test_fraction,
                out.loc[is_test, "group"].nunique() / n_groups)
    return out


def _greedy_group_assignment(groups: np.ndarray, strata: np.ndarray, fraction: float,
                             seed: int) -> np.ndarray:
    """Boolean test mask of :func:`grouped_split` (see its Notes)."""
    g_codes, g_index = np.unique(groups, return_inverse=True)
    s_codes, s_index = np.unique(strata.astype(str), return_inverse=True)
    counts = np.zeros((len(g_codes), len(s_codes)))
    np.add.at(counts, (g_index, s_index), 1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(g_codes))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    placed, test = np.zeros(len(s_codes)), np.zeros(len(s_codes))
    to_test = np.zeros(len(g_codes), dtype=bool)
    for g in order:
        c = counts[g]
        target = fraction * (placed + c)
        cost_test = np.abs(test + c - target).sum() + abs((test + c).sum() - target.sum())
        cost_train = np.abs(test - target).sum() + abs(test.sum() - target.sum())
        if cost_test < cost_train or (cost_test == cost_train and rng.random() < fraction):
            to_test[g] = True
            test += c
        placed += c
    return to_test[g_index]


# --------------------------------------------------------------------------- the rule's entry


def repeat_seed(seed: int, repeat: int) -> int:
    """Seed of repeat ``repeat`` (0-based) of the repeated random splits, derived from
    ``split.seed``: ``numpy.random.SeedSequence([seed, repeat])``'s first 31-bit word (so
    repeat seeds neither collide with nor shift the main split's)."""
    state = np.random.SeedSequence([int(seed), int(repeat)]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


def make_split(cohort: pd.DataFrame, split: dict | None,
               levels: Sequence[str | Level | dict] | None = None,
               repeat: int | None = None) -> pd.DataFrame:
    """The study's train/test split as the config's ``split`` section asks for it.

    Parameters
    ----------
    cohort
        The validated cohort.
    split
        Config ``split`` (missing keys take the schema's defaults): ``column`` (a user-given
        split, :func:`user_split`), else ``group`` (:func:`grouped_split`), else the
        stratified random split (:func:`stratified_split`, the default).
    levels
        The config's levels.
    repeat
        None for the study's split; ``k`` for repeat ``k`` of the repeated random splits
        (``split.repeats``): the same kind of random split with seed
        :func:`repeat_seed` ``(split.seed, k)``.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, set``, the stratum column, and ``group`` for a grouped split.

    Raises
    ------
    ValueError
        A repeat asked of a user-given split (it is fixed: there is nothing to repeat), and
        the errors of the split functions.
    """
    cfg = with_defaults("split", split)
    column, group = cfg.get("column"), cfg.get("group")
    seed = int(cfg["seed"]) if repeat is None else repeat_seed(cfg["seed"], repeat)
    if column:
        if repeat is not None:
            raise ValueError("split.repeats draws random splits, but split.column fixes the "
                             "split; set split.repeats to 0 or remove split.column")
        return user_split(cohort, column, levels, group=group or None)
    if group:
        return grouped_split(cohort, group, float(cfg["test_fraction"]), seed, levels)
    return stratified_split(cohort, float(cfg["test_fraction"]), seed, levels)
