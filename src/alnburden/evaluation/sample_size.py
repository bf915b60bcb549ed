"""``results/tables/sample_size.{csv,md}``: Riley's minimum sample size beside the actual one.

For each level's combined model (Rad-score + clinical predictors), the three criteria of
:func:`alnburden.stats.sample_size.riley_binary` with

- **prevalence**: the outcome proportion of the level's training rows;
- **candidate parameters**: every parameter the combined model's candidates could use:
  1 for the Rad-score plus, for each clinical candidate variable of the config, 1
  (continuous, binary, ordinal: one coefficient per step) or k - 1 (categorical with k
  levels, one-hot against the first). The Rad-score is itself a model fitted on many
  radiomic features, so this count is a lower bound of the real complexity;
- **anticipated R2**: the Cox-Snell R2 of the combined model's APPARENT fit on its
  training rows (``set == train`` of the predictions: the model on the out-of-fold
  Rad-scores it was fitted on). An apparent R2 is optimistic, so the minimum sizes are,
  if anything, too small.

The actual size is the training set's (the development sample).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from alnburden.formatting import fmt_number
from alnburden.stats.sample_size import cox_snell_r2, riley_binary

__all__ = ["candidate_parameters", "sample_size_table", "sample_size_lines",
           "SAMPLE_SIZE_COLUMNS"]

#: Columns of ``results/tables/sample_size.csv``.
SAMPLE_SIZE_COLUMNS = ["level", "model", "n", "events", "prevalence", "parameters",
                       "r2_cox_snell", "r2_source", "max_r2_cox_snell", "n_shrinkage",
                       "n_optimism", "n_risk", "n_min", "events_min", "epp_min", "epp",
                       "binding", "adequate", "note"]


def candidate_parameters(variables: Sequence[Mapping]) -> int:
    """Parameters of the combined model's candidates: the Rad-score + the clinical variables.

    Parameters
    ----------
    variables
        The config's ``clinical.variables`` (``name``, ``type``, ``levels``).

    Raises
    ------
    ValueError
        A type other than continuous/binary/ordinal/categorical, or a categorical variable
        with fewer than 2 levels.
    """
    n = 1  # the Rad-score
    for v in variables:
        typ = v.get("type")
        if typ in ("continuous", "binary", "ordinal"):
            n += 1
        elif typ == "categorical":
            levels = v.get("levels") or []
            if len(levels) < 2:
                raise ValueError(f"categorical variable {v.get('name')!r} needs >= 2 levels")
            n += len(levels) - 1
        else:
            raise ValueError(f"clinical variable {v.get('name')!r} has type {typ!r}; expected "
                             "continuous, binary, ordinal or categorical")
    return n


def _level_row(pred: pd.DataFrame, level: str, variables: Sequence[Mapping],
               model: str) -> dict:
    rows = pred[(pred["level"] == level) & (pred["set"] == "train") & (pred["model"] == model)]
    y = rows["y_true"].to_numpy(dtype=float)
    p = rows["p"].to_numpy(dtype=float)
    row = {"level": level, "model": model, "n": int(len(y)), "events": int(y.sum()),
           "prevalence": float(y.mean()) if len(y) else np.nan,
           "parameters": candidate_parameters(variables),
           "r2_source": "Cox-Snell R2 of the apparent fit (training set)", "note": ""}
    try:
        r2 = cox_snell_r2(y, p)
        ss = riley_binary(row["parameters"], row["prevalence"], r2)
    except ValueError as err:
        row.update(r2_cox_snell=np.nan, adequate=pd.NA, note=f"not computed: {err}")
        return row
    row.update(r2_cox_snell=r2, max_r2_cox_snell=ss.max_r2cs, n_shrinkage=ss.n_shrinkage,
               n_optimism=ss.n_optimism, n_risk=ss.n_risk, n_min=ss.n_min,
               events_min=ss.events_min, epp_min=ss.epp,
               epp=row["events"] / row["parameters"], binding=ss.binding,
               adequate=bool(row["n"] >= ss.n_min))
    return row


def sample_size_table(pred: pd.DataFrame, variables: Sequence[Mapping],
                      levels: Sequence[str], model: str = "combined") -> pd.DataFrame:
    """Minimum sample size (Riley et al.) of ``model`` at each level beside the actual n.

    Parameters
    ----------
    pred
        Predictions table (``results/predictions.csv``); its ``train`` rows of ``model``.
    variables
        The config's ``clinical.variables`` (the combined model's clinical candidates).
    levels
        Level names, in the table's order.
    model
        The model whose candidates are counted (default ``combined``).

    Returns
    -------
    pandas.DataFrame
        :data:`SAMPLE_SIZE_COLUMNS`; ``adequate`` is True when the training n reaches
        ``n_min``; a level whose R2 cannot be computed has NaNs and a note.
    """
    rows = [_level_row(pred, level, variables, model) for level in levels]
    out = pd.DataFrame(rows).reindex(columns=SAMPLE_SIZE_COLUMNS)
    out["adequate"] = out["adequate"].astype("boolean")
    return out


_CRITERIA = (("n_shrinkage", "a shrinkage of at least 0.9"),
             ("n_optimism", "an optimism of at most 0.05 in Nagelkerke's R2"),
             ("n_risk", "the overall risk within 0.05"))


def sample_size_lines(table: pd.DataFrame,
                      level_labels: Mapping[str, str] | None = None) -> list[str]:
    """The summary's Markdown section on sample size (empty list for an empty table)."""
    if table is None or table.empty:
        return []
    lines = ["## Sample size (Riley et al. 2020)", "",
             "Minimum development sample size of each level's combined model for a shrinkage "
             "of at least 0.9, an optimism of at most 0.05 in Nagelkerke's R2 and the overall "
             "risk within 0.05 (the anticipated R2 is the Cox-Snell R2 of the model's "
             "apparent fit on the training set; the parameters count the Rad-score and every "
             "clinical candidate variable with its coding).", ""]
    for _, r in table.iterrows():
        name = (level_labels or {}).get(r["level"], r["level"])
        if pd.isna(r.get("n_min")):
            lines.append(f"- {name}: not computed ({r['note']}).")
            continue
        unmet = [f"{what} needs {int(r[col])}" for col, what in _CRITERIA
                 if int(r[col]) > int(r["n"])]
        verdict = ("meets the minimum" if bool(r["adequate"]) else
                   f"**is below the minimum: {int(r['n'])} of {int(r['n_min'])} patients** "
                   f"({'; '.join(unmet)}; treat its estimates with caution)")
        lines.append(
            f"- {name}: {int(r['parameters'])} candidate parameters, prevalence "
            f"{fmt_number(r['prevalence'])}, Cox-Snell R2 {fmt_number(r['r2_cox_snell'])}; "
            f"minimum n = {int(r['n_min'])} ({int(r['events_min'])} events; shrinkage "
            f"{int(r['n_shrinkage'])}, optimism {int(r['n_optimism'])}, overall risk "
            f"{int(r['n_risk'])}); the training set ({int(r['n'])} patients, "
            f"{int(r['events'])} events) {verdict}.")
    return lines + [""]
