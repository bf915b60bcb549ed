"""Repeated random splits (config ``split.repeats``): the distribution of test AUCs.

The whole level fit is run once per repeat on its own seeded random split
(``workflow/rules/repeats.smk``; seeds :func:`alnburden.cohort.split.repeat_seed`); each
repeat writes ``results/repeats/r<k>/<level>/predictions.csv``. :func:`merge_repeat_predictions`
stacks them with a ``repeat`` column, :func:`repeat_test_aucs` gives one test AUC per repeat,
level and model, and :func:`repeated_splits_table` summarises them per level and model with
the corrected resampled t-test interval of Nadeau & Bengio (2003)
(:func:`alnburden.stats.resampling.corrected_resampled_ci`), ``n_test / n_train`` taken from
the repeats' own set sizes. :func:`repeated_splits_lines` are the summary's lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from alnburden.formatting import fmt_ci, fmt_number
from alnburden.io import read_table, write_table
from alnburden.stats.resampling import corrected_resampled_ci

__all__ = ["REPEATED_SPLITS_COLUMNS", "REPEAT_AUC_COLUMNS", "merge_repeat_predictions",
           "repeat_test_aucs", "repeated_splits_table", "repeated_splits_lines"]

#: Columns of ``results/repeats/test_aucs.csv``.
REPEAT_AUC_COLUMNS = ["repeat", "level", "model", "n_train", "n_test", "events_test", "auc"]
#: Columns of ``results/tables/repeated_splits.csv``.
REPEATED_SPLITS_COLUMNS = ["level", "model", "repeats", "n_train", "n_test", "mean", "sd",
                           "ci_low", "ci_high", "min", "max"]
#: Models shown first (the arms), then the learners in name order.
_ARM_ORDER = ("radiomics", "clinical", "combined")


def _repeat_index(path: Path) -> int:
    match = re.fullmatch(r"r(\d+)", path.parents[1].name)
    if match is None:
        raise ValueError(f"{path} is not results/repeats/r<k>/<level>/predictions.csv")
    return int(match.group(1))


def merge_repeat_predictions(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The repeats' prediction tables stacked, with ``repeat`` (k of the ``r<k>`` folder) first.

    Only the ``train`` and ``test`` rows are kept (the AUCs need the test rows, the set sizes
    both).
    """
    parts = []
    for p in paths:
        p = Path(p)
        df = read_table(p)
        parts.append(df[df["set"].isin(["train", "test"])].assign(repeat=_repeat_index(p)))
    if not parts:
        raise ValueError("no repeat predictions given; split.repeats is 0")
    out = pd.concat(parts, ignore_index=True)
    return out[["repeat", *[c for c in out.columns if c != "repeat"]]]


def model_order(models) -> list[str]:
    """The arms (radiomics, clinical, combined) first, then the other models by name."""
    models = list(dict.fromkeys(models))
    return [m for m in _ARM_ORDER if m in models] + sorted(m for m in models
                                                            if m not in _ARM_ORDER)


def repeat_test_aucs(pred: pd.DataFrame) -> pd.DataFrame:
    """One test AUC per repeat x level x model (:data:`REPEAT_AUC_COLUMNS`).

    ``n_train`` / ``n_test`` are the model's training and test rows in that repeat; the AUC
    is NaN when a repeat's test set has one class only.
    """
    rows = []
    for (k, level, model), g in pred.groupby(["repeat", "level", "model"], sort=True):
        te, tr = g[g["set"] == "test"], g[g["set"] == "train"]
        y = te["y_true"].to_numpy().astype(int)
        auc = float(roc_auc_score(y, te["p"])) if len(np.unique(y)) == 2 else np.nan
        rows.append({"repeat": int(k), "level": level, "model": model, "n_train": len(tr),
                     "n_test": len(te), "events_test": int(y.sum()), "auc": auc})
    return pd.DataFrame(rows, columns=REPEAT_AUC_COLUMNS)


def repeated_splits_table(pred: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per level and model: the test AUCs over the repeats (:data:`REPEATED_SPLITS_COLUMNS`).

    Parameters
    ----------
    pred
        :func:`merge_repeat_predictions` (or the output of :func:`repeat_test_aucs`, which
        has an ``auc`` column).
    alpha
        1 - confidence level of the corrected interval.

    Returns
    -------
    pandas.DataFrame
        ``repeats`` (with a test AUC), mean ``n_train`` / ``n_test``, ``mean``, ``sd``, the
        Nadeau-Bengio corrected ``ci_low`` / ``ci_high`` (variance ``(1/J + n_test/n_train)
        s^2``; the symmetric t interval clipped to the AUC's range [0, 1]), ``min``,
        ``max``; levels in order of appearance, models by :func:`model_order`.
    """
    aucs = pred if "auc" in pred.columns else repeat_test_aucs(pred)
    rows = []
    for level in dict.fromkeys(aucs["level"]):
        lv = aucs[aucs["level"] == level]
        for model in model_order(lv["model"]):
            g = lv[lv["model"] == model]
            n_train, n_test = float(g["n_train"].mean()), float(g["n_test"].mean())
            ci = corrected_resampled_ci(g["auc"], n_train, n_test, alpha)
            ci.update(ci_low=max(ci["ci_low"], 0.0), ci_high=min(ci["ci_high"], 1.0))
            rows.append({"level": level, "model": model, "n_train": n_train,
                         "n_test": n_test, **{k: ci[k] for k in ("repeats", "mean", "sd",
                                                                  "ci_low", "ci_high", "min",
                                                                  "max")}})
    return pd.DataFrame(rows, columns=REPEATED_SPLITS_COLUMNS)


def repeated_splits_lines(table: pd.DataFrame | None,
                          level_labels: Mapping[str, str] | None = None,
                          models: Sequence[str] = _ARM_ORDER) -> list[str]:
    """Markdown lines of the summary's section on the repeated splits (empty without a table).

    One line per level and model of ``models`` (the arms): mean test AUC with the corrected
    95 % interval, SD and range over the repeats.
    """
    if table is None or not len(table):
        return []
    lines = ["## Repeated random splits (test AUC)", "",
             f"The whole level fit repeated on {int(table['repeats'].max())} seeded random "
             "splits; mean test AUC with the corrected resampled t-test 95 % interval "
             "(Nadeau & Bengio 2003), SD and range over the repeats. The ICC filter comes "
             "from the main split's perturbation set.", ""]
    for r in table[table["model"].isin(models)].itertuples():
        name = (level_labels or {}).get(r.level, r.level)
        lines.append(f"- {name}, {r.model}: {fmt_ci(r.mean, r.ci_low, r.ci_high, 3)}; "
                     f"SD {fmt_number(r.sd, 3)}, range {fmt_number(r.min, 3)}-"
                     f"{fmt_number(r.max, 3)} ({int(r.repeats)} repeats)")
    return lines + [""]


def write_repeated_splits(paths: Sequence[str | Path], table_path: str | Path,
                          aucs_path: str | Path, title: str | None = None) -> pd.DataFrame:
    """The rule's work: stack the repeats' predictions, write the per-repeat AUCs
    (``results/repeats/test_aucs.csv``) and the summary table (CSV + Markdown, ``title``).

    Returns
    -------
    pandas.DataFrame
        The summary table (:func:`repeated_splits_table`).
    """
    aucs = repeat_test_aucs(merge_repeat_predictions(paths))
    write_table(aucs, aucs_path)
    table = repeated_splits_table(aucs)
    write_table(table, table_path, title=title)
    return table
