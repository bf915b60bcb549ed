"""The evaluation tables of a study: one registry read by the rules, the script and the report.

An evaluation table is one :class:`EvaluationTable` entry of :data:`TABLES`: the function
that computes it from ``results/predictions.csv``, its Markdown title, its report caption
(``workflow/report/<caption>.rst``) and the parts of the
:class:`~alnburden.design.StudyDesign` it needs (the Ki-67 subgroups need a ``ki67``
variable; NRI/IDI a combined model). A design without them skips the table and
:func:`skipped_tables` says why. ``workflow/rules/evaluation.smk`` declares one output per name
of :func:`table_names` and passes those names to ``scripts/evaluation_tables.py``, which
computes them with :func:`evaluation_tables` and writes them with :func:`write_tables`.
Adding a table is adding one entry here and its caption file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alnburden.design import StudyDesign
from alnburden.evaluation import tables as tb
from alnburden.evaluation.internal_validation import internal_validation_table
from alnburden.evaluation.repeats import repeated_splits_table
from alnburden.io import write_table
from alnburden.schemas import config_default, with_defaults


@dataclass(frozen=True)
class TableSettings:
    """The study decisions the evaluation tables read (config ``evaluation`` and ``seed``).

    Attributes
    ----------
    cutoff
        ``"youden"`` or a fixed probability in (0, 1) (config ``evaluation.cutoff``);
        default ``"youden"``.
    ki67_cutoff
        Ki-67 (%) separating the low and high subgroups (``evaluation.ki67_cutoff``);
        default 20.
    dca_grid
        ``(start, stop, step)`` of the decision-curve threshold probabilities
        (``evaluation.dca_thresholds``); default ``(0.01, 0.99, 0.01)``.
    n_boot
        Bootstrap resamples of the NRI/IDI intervals (``evaluation.bootstrap``; 0: no
        intervals); default 1000.
    seed
        ``random_state`` of the bootstrap (the config's ``seed``); default 2026.
    subgroup_models
        Models compared across the Ki-67 subgroups (not a config key: the rule passes
        :attr:`~alnburden.design.StudyDesign.subgroup_models`); default radiomics and
        combined.
    optimism
        Every level's ``internal_validation_bootstrap.csv`` stacked, for the
        ``internal_validation`` table (not a config key: the rule passes the files of rule
        ``internal_validation_bootstrap``); None leaves its bootstrap columns empty.
    nested_folds
        Every level's outer-fold tables (``results/<level>/nested/fold_<k>.csv``) stacked,
        for the ``internal_validation`` table's ``nested_fold_mean`` column (not a config
        key: the rule passes the files of rule ``nested_fold``); None leaves it empty.
    """

    cutoff: str | float = "youden"
    ki67_cutoff: float = 20
    dca_grid: Sequence[float] = (0.01, 0.99, 0.01)
    n_boot: int = 1000
    seed: int = 2026
    subgroup_models: Sequence[str] = ("radiomics", "combined")
    optimism: pd.DataFrame | None = None
    nested_folds: pd.DataFrame | None = None

    @classmethod
    def from_config(cls, evaluation: dict | None, seed: int | None = None,
                    subgroup_models: Sequence[str] | None = None) -> TableSettings:
        """The settings of the config's ``evaluation`` section (missing keys take the
        schema's defaults) and ``seed``: the one place config keys meet field names."""
        ev = with_defaults("evaluation", evaluation)
        extra = {} if subgroup_models is None else {"subgroup_models": tuple(subgroup_models)}
        return cls(cutoff=ev["cutoff"], ki67_cutoff=ev["ki67_cutoff"],
                   dca_grid=tuple(ev["dca_thresholds"]), n_boot=ev["bootstrap"],
                   seed=config_default("seed") if seed is None else seed, **extra)


@dataclass(frozen=True)
class EvaluationTable:
    """One evaluation table, ``results/tables/<name>.csv`` and ``.md``.

    Attributes
    ----------
    name
        File stem and key of the rule's output.
    title
        Heading of the Markdown copy.
    caption
        Stem of the report caption, ``workflow/report/<caption>.rst``.
    compute
        ``compute(predictions, settings)`` -> the table.
    needs
        Parts of the design the table needs (:data:`alnburden.design.PARTS`; default none:
        every study has it).
    rule
        The rule that writes it (default ``evaluation_tables``, from
        ``results/predictions.csv``; ``repeated_splits`` computes from the repeats'
        predictions).
    """

    name: str
    title: str
    caption: str
    compute: Callable[[pd.DataFrame, TableSettings], pd.DataFrame]
    needs: tuple[str, ...] = ()
    rule: str = "evaluation_tables"

    def applies(self, design: StudyDesign) -> bool:
        """A study of ``design`` has the table (it has every part the table needs)."""
        return not design.lacks(self.needs)


#: Every evaluation table, in the order the rule declares them.
TABLES: dict[str, EvaluationTable] = {t.name: t for t in (
    EvaluationTable("performance", "Discrimination and operating points", "performance",
                    lambda pred, s: tb.performance_table(pred, cutoff=s.cutoff)),
    EvaluationTable("auc_delong", "Paired DeLong comparison of AUCs", "auc_delong",
                    lambda pred, s: tb.delong_table(pred), needs=("paired_arms",)),
    EvaluationTable("calibration", "Calibration", "calibration_table",
                    lambda pred, s: tb.calibration_table(pred)),
    EvaluationTable("dca", "Decision-curve net benefit", "dca_table",
                    lambda pred, s: tb.dca_table(pred, tb.dca_thresholds(*s.dca_grid))),
    EvaluationTable("reclassification", "Reclassification (continuous NRI, IDI)",
                    "reclassification",
                    lambda pred, s: tb.reclassification_table(pred, n_boot=s.n_boot,
                                                              seed=s.seed),
                    needs=("combined",)),
    EvaluationTable("subgroups", "AUC, calibration and interaction test by Ki-67 subgroup", "subgroups_table",
                    lambda pred, s: tb.subgroup_table(pred, ki67_cutoff=s.ki67_cutoff,
                                                      models=s.subgroup_models),
                    needs=("ki67",)),
    EvaluationTable("internal_validation",
                    "Internal validation: bootstrap optimism correction, nested CV and test",
                    "internal_validation",
                    lambda pred, s: internal_validation_table(pred, s.optimism,
                                                              s.nested_folds),
                    needs=("clinical",)),
    EvaluationTable("repeated_splits", "Repeated random splits: test AUC over the repeats",
                    "repeated_splits", lambda pred, s: repeated_splits_table(pred),
                    needs=("repeated_splits",), rule="repeated_splits"),
)}


def table_names(design: StudyDesign, rule: str | None = "evaluation_tables") -> list[str]:
    """Names of the tables a study of ``design`` has, in :data:`TABLES` order: those the
    rule ``rule`` writes (default ``evaluation_tables``; None: every rule's)."""
    return [name for name, table in TABLES.items()
            if table.applies(design) and (rule is None or table.rule == rule)]


def skipped_tables(design: StudyDesign) -> list[str]:
    """``"skipped: table <name> (<title>) because <reason>"`` for every table of
    :data:`TABLES` that ``design`` lacks a part for (the first missing part's reason)."""
    return [f"skipped: table {name} ({table.title}) because {design.lacks(table.needs)}"
            for name, table in TABLES.items() if not table.applies(design)]


def _entry(name: str) -> EvaluationTable:
    if name not in TABLES:
        raise ValueError(f"no evaluation table {name!r}; the registry "
                         f"(alnburden.evaluation.registry.TABLES) has {list(TABLES)}")
    return TABLES[name]


def evaluation_tables(pred: pd.DataFrame, names: Sequence[str] | None = None,
                      **settings) -> dict[str, pd.DataFrame]:
    """Compute the evaluation tables ``names`` from the predictions table.

    Parameters
    ----------
    pred
        Predictions table (``results/predictions.csv``).
    names
        Tables to compute, keys of :data:`TABLES` (the rule passes
        :func:`table_names` of the study's design); default every table the
        ``evaluation_tables`` rule writes (from ``results/predictions.csv``).
    **settings
        Fields of :class:`TableSettings` (``cutoff``, ``ki67_cutoff``, ``dca_grid``,
        ``n_boot``, ``seed``, ``subgroup_models``); the others keep their defaults.

    Returns
    -------
    dict[str, pandas.DataFrame]
        One table per name, in the order of ``names``.

    Raises
    ------
    ValueError
        If a name is not registered or a setting is not a field of :class:`TableSettings`.
    """
    fields = [f.name for f in dataclasses.fields(TableSettings)]
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        raise ValueError(f"unknown evaluation setting(s) {unknown}; the settings are {fields}")
    config = TableSettings(**settings)
    if names is None:
        names = [name for name, t in TABLES.items() if t.rule == "evaluation_tables"]
    entries = [_entry(name) for name in names]
    return {t.name: t.compute(pred, config) for t in entries}


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<out_dir>/<name>.csv`` and ``.md`` (titled, fixed float format).

    Returns
    -------
    list[Path]
        The CSV files written, in the order of ``tables``.
    """
    paths = []
    for name, df in tables.items():
        path = Path(out_dir) / f"{name}.csv"
        write_table(df, path, title=_entry(name).title)
        paths.append(path)
    return paths
