"""The train/test split a run used, in words: the one place the fillers read it from.

A run's split is one of three kinds (``docs/splits.md``,
:func:`alnburden.cohort.split.make_split`):
the stratified **random** split (the default), a **grouped** random split (config
``split.group``: a group's rows all on one side) or a **user**-given split (config
``split.column``: a manifest column says train or test); a random or grouped split may also
be **repeated** (``split.repeats``). :func:`split_facts` reads the kind from the run's config
and the sizes from its ``split.csv``; every filler that names the split words it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from alnburden.reporting.fillers.phrases import plural
from alnburden.reporting.fillers.record import RunRecord
from alnburden.schemas import with_defaults

#: The kinds of split, as :attr:`SplitFacts.kind` names them.
SPLIT_KINDS = ("random", "grouped", "user")


@dataclass(frozen=True)
class SplitFacts:
    """The split of one run.

    Attributes
    ----------
    kind
        ``random``, ``grouped`` or ``user`` (:data:`SPLIT_KINDS`).
    n_train, n_test
        Rows of each side in ``split.csv``.
    test_fraction, seed
        Config ``split.test_fraction`` and ``split.seed`` (random and grouped splits only).
    column
        Config ``split.column`` (user-given split), else None.
    group
        Config ``split.group``, else None.
    groups_train, groups_test
        Groups on each side (when ``group`` is set and ``split.csv`` has a ``group`` column).
    repeats
        Config ``split.repeats`` (0: no repeated splits).
    """

    kind: str
    n_train: int
    n_test: int
    test_fraction: float | None = None
    seed: int | None = None
    column: str | None = None
    group: str | None = None
    groups_train: int | None = None
    groups_test: int | None = None
    repeats: int = 0

    @property
    def name(self) -> str:
        """The split in a few words: ``random split``, ``grouped random split (whole `case`
        groups)``, ``user-given split (manifest column `cohort_set`)``."""
        if self.kind == "user":
            return f"user-given split (manifest column `{self.column}`)"
        if self.kind == "grouped":
            return f"grouped random split (whole `{self.group}` groups)"
        return "random split"

    @property
    def test_set(self) -> str:
        """The test set in a few words, without an article (``random hold-out test set``)."""
        if self.kind == "user":
            return f"test set given in the manifest column `{self.column}`"
        if self.kind == "grouped":
            return f"random hold-out test set of whole `{self.group}` groups"
        return "random hold-out test set"

    @property
    def test_part(self) -> str:
        """How the test set is taken from the cohort, completing "The test set is ..."."""
        if self.kind == "user":
            return (f"the part of the same cohort that the manifest column `{self.column}` "
                    "marks test")
        if self.kind == "grouped":
            return f"a random part of the same cohort, drawn by whole `{self.group}` groups"
        return "a random part of the same cohort"

    def sides(self) -> str:
        """How the rows were divided, one sentence without its full stop."""
        if self.kind == "user":
            text = (f"User-given split: the manifest column `{self.column}` (config "
                    f"split.column) puts {plural(self.n_train, 'patient')} in the training set "
                    f"and {plural(self.n_test, 'patient')} in the test set, as given (not drawn "
                    "by the workflow: split.test_fraction and split.seed are not used)")
            if self.group:
                text += f"; every `{self.group}` group is on one side"
            return text + "; `split.csv` lists every patient's set"
        if self.kind == "grouped":
            return (f"Grouped random split (config split.group `{self.group}`): training "
                    f"{plural(self.n_train, 'row')}{self._groups(self.groups_train)} and test "
                    f"{plural(self.n_test, 'row')}{self._groups(self.groups_test)}, every row of "
                    f"a `{self.group}` group on one side; test fraction {self.test_fraction} "
                    f"(approximate: whole groups), seed {self.seed}, stratified by nodal class "
                    "(or the levels' labels) as far as whole groups allow; `split.csv` lists "
                    "every row's set and group")
        return (f"Random split of patients (one row each) into training ({self.n_train}) and "
                f"test ({self.n_test}) sets, test fraction {self.test_fraction}, seed "
                f"{self.seed}, stratified by nodal class (or the levels' labels); `split.csv` "
                "lists every patient's set")

    def _groups(self, n: int | None) -> str:
        return "" if n is None else f" in {plural(n, 'group')}"

    def repeated(self) -> str:
        """The repeated splits, one sentence without its full stop ("" without repeats)."""
        if not self.repeats:
            return ""
        splits = plural(self.repeats, "seeded random split")
        return (f"The whole level fit was also repeated on {splits} of the same kind (config "
                "split.repeats; each repeat's seed derived "
                "from split.seed and its index); their test AUCs are summarised with the "
                "corrected resampled t-test interval (Nadeau & Bengio 2003) in "
                "`repeated_splits.csv`")

    def facts(self) -> dict:
        """The split's facts as a filler states them (every integer is in its text)."""
        out = {"split": self.kind, "n_train": self.n_train, "n_test": self.n_test}
        if self.kind != "user":
            out["test_fraction"] = self.test_fraction
        if self.column:
            out["column"] = self.column
        if self.group:
            out["group"] = self.group
        if self.repeats:
            out["repeats"] = self.repeats
        return out


def split_facts(run: RunRecord) -> SplitFacts:
    """The split the run used: its kind from the config's ``split`` section (with the
    schema's defaults), its sizes from ``split.csv``."""
    cfg = with_defaults("split", run.config.get("split"))
    split = run.table("split")
    sets = split["set"].astype(str)
    column, group = cfg.get("column") or None, cfg.get("group") or None
    kind = "user" if column else "grouped" if group else "random"
    groups = {}
    if group and "group" in split.columns:
        groups = {s: int(split.loc[sets == s, "group"].nunique()) for s in ("train", "test")}
    return SplitFacts(
        kind=kind, n_train=int((sets == "train").sum()), n_test=int((sets == "test").sum()),
        test_fraction=None if column else cfg.get("test_fraction"),
        seed=None if column else int(cfg["seed"]), column=column, group=group,
        groups_train=groups.get("train"), groups_test=groups.get("test"),
        repeats=int(cfg.get("repeats") or 0))
