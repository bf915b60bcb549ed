"""Cross-validation folds of a level fit that keep a group's rows together.

With config ``split.group`` (e.g. a patient id when a patient has several images or
lesions) the train/test split keeps every row of a group on one side
(:func:`alnburden.cohort.split.grouped_split`), and so must every fold inside the training
set: otherwise the learners would be tuned, and the Rad-scores cross-fitted, with another
image of the same patient in the fitting part of the fold. Two splitters:

- :func:`stratified_folds`: one K-fold partition (the Rad-score folds of
  ``models.rad_score_folds``): :class:`~sklearn.model_selection.StratifiedKFold`, or
  :class:`~sklearn.model_selection.StratifiedGroupKFold` with groups;
- :func:`cv_splitter`: the tuning CV (``models.cv_folds`` x ``models.cv_repeats``):
  :class:`~sklearn.model_selection.RepeatedStratifiedKFold`, or
  :class:`RepeatedStratifiedGroupKFold` with groups.

Without groups both return exactly the splitters the level fit used before (same folds,
same seeds), so a study without ``split.group`` gives the same numbers.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import (RepeatedStratifiedKFold, StratifiedGroupKFold,
                                     StratifiedKFold)
from sklearn.utils import check_random_state

__all__ = ["RepeatedStratifiedGroupKFold", "cv_splitter", "stratified_folds"]


def _check_groups(groups, n: int, n_splits: int) -> np.ndarray:
    groups = np.asarray(groups)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} values for {n} rows; give one per row")
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(f"{n_groups} group(s) cannot fill {n_splits} folds; lower the folds "
                         "(models.cv_folds, models.rad_score_folds) or use a larger cohort")
    return groups


class RepeatedStratifiedGroupKFold:
    """``n_repeats`` x :class:`~sklearn.model_selection.StratifiedGroupKFold`, the groups
    fixed at construction.

    Parameters
    ----------
    n_splits
        Folds per repeat (>= 2).
    n_repeats
        Repeats, each with its own shuffle of the groups.
    groups
        One group label per row of the data it will split (may be None and passed to
        :meth:`split` instead). Holding them here lets code that calls ``cv.split(X, y)``
        (as :func:`alnburden.modeling.level_fit.tune_learners` does) respect them.
    random_state
        Seed; repeat ``r`` uses the ``r``-th draw of ``RandomState(random_state)`` (as
        scikit-learn's repeated splitters do).
    """

    def __init__(self, n_splits: int = 5, n_repeats: int = 1, groups=None,
                 random_state: int | None = None) -> None:
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.groups = groups
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return int(self.n_splits) * int(self.n_repeats)

    def split(self, X, y=None, groups=None):
        """Yield ``(train_idx, val_idx)``: every row once in validation per repeat, no group
        on both sides of a fold, each fold's classes as close to the whole as groups allow."""
        groups = self.groups if groups is None else groups
        if groups is None:
            raise ValueError("RepeatedStratifiedGroupKFold needs groups (at construction or "
                             "in split)")
        groups = _check_groups(groups, len(y), int(self.n_splits))
        rng = check_random_state(self.random_state)
        for _ in range(int(self.n_repeats)):
            cv = StratifiedGroupKFold(int(self.n_splits), shuffle=True,
                                      random_state=rng.randint(np.iinfo(np.int32).max))
            yield from cv.split(np.zeros(len(y)), y, groups)


def cv_splitter(n_splits: int, n_repeats: int, seed: int, groups=None):
    """The level fit's tuning CV splitter.

    Parameters
    ----------
    n_splits, n_repeats
        Config ``models.cv_folds`` and ``models.cv_repeats``.
    seed
        The config's ``seed``.
    groups
        One group per training row (``fit.groups``), or None.

    Returns
    -------
    RepeatedStratifiedKFold (no groups) or :class:`RepeatedStratifiedGroupKFold`
    """
    if groups is None:
        return RepeatedStratifiedKFold(n_splits=int(n_splits), n_repeats=int(n_repeats),
                                       random_state=seed)
    return RepeatedStratifiedGroupKFold(int(n_splits), int(n_repeats), groups=np.asarray(groups),
                                        random_state=seed)


def stratified_folds(y, n_splits: int, seed: int, groups=None
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """One stratified K-fold partition of the rows of ``y`` (the Rad-score folds).

    Parameters
    ----------
    y
        0/1 labels of the training rows.
    n_splits
        Folds (config ``models.rad_score_folds``).
    seed
        Shuffle seed.
    groups
        One group per row, or None: with groups no group is split across folds
        (:class:`~sklearn.model_selection.StratifiedGroupKFold`).

    Returns
    -------
    list of (train_idx, val_idx)
        Every row exactly once in a validation part.
    """
    y = np.asarray(y)
    if groups is None:
        cv = StratifiedKFold(int(n_splits), shuffle=True, random_state=seed)
        return list(cv.split(np.zeros(len(y)), y))
    groups = _check_groups(groups, len(y), int(n_splits))
    cv = StratifiedGroupKFold(int(n_splits), shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(y)), y, groups))
