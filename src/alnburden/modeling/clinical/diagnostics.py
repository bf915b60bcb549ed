"""Warnings of the clinical table: events per candidate parameter (EPV) and variance
inflation factors (VIF), with their notes and log lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from alnburden.formatting import fmt_number
from alnburden.modeling.clinical.coding import design_matrix, variable_terms
from alnburden.modeling.clinical.settings import ClinicalSettings
from alnburden.modeling.clinical.strategies import Selection

logger = logging.getLogger(__name__)


EPV_MIN = 10.0


VIF_MAX = 5.0


def epv(y, variables: Sequence[dict]) -> tuple[float, int]:
    """Events per candidate parameter: ``min(events, non-events) / parameters``.

    ``parameters`` counts the design terms of every candidate variable (a categorical
    variable with L levels counts L - 1). Returns ``(epv, parameters)``; ``inf`` with no
    parameter.
    """
    y = np.asarray(y, dtype=float)
    y = y[~np.isnan(y)]
    k = sum(len(variable_terms(v)) for v in variables)
    limiting = min(int(y.sum()), int(len(y) - y.sum()))
    return (limiting / k if k else float("inf")), k


def vif(design: pd.DataFrame) -> pd.Series:
    """Variance inflation factor of each column among all columns (complete cases).

    ``VIF_j = 1 / (1 - R_j^2)``, ``R_j^2`` from regressing column ``j`` on the others with
    an intercept; computed as the diagonal of the inverse correlation matrix. A constant
    column gets NaN, a column that the others determine exactly ``inf``.
    """
    D = design.dropna()
    out = pd.Series(np.nan, index=design.columns, dtype=float)
    varying = [c for c in D.columns if D[c].nunique() > 1]
    A = D[varying].to_numpy(dtype=float)
    for j, name in enumerate(varying):
        t = A[:, j]
        X = np.column_stack([np.ones(len(A)), np.delete(A, j, axis=1)])
        coef, *_ = np.linalg.lstsq(X, t, rcond=None)
        ss, tot = float(np.sum((t - X @ coef) ** 2)), float(np.sum((t - t.mean()) ** 2))
        out[name] = tot / ss if ss > 1e-10 * tot else np.inf
    return out


def add_diagnostics(table: pd.DataFrame, df: pd.DataFrame, y, variables: list[dict],
                 settings: ClinicalSettings, selection: Selection) -> pd.DataFrame:
    """Add ``strategy, epv, candidate_parameters, vif, note``; log the warnings."""
    value, k = epv(y, variables)
    v = vif(design_matrix(df, variables))
    table = table.assign(strategy=settings.strategy, epv=value, candidate_parameters=k,
                         vif=table["term"].map(v).to_numpy(dtype=float))
    notes = []
    for row in table.itertuples():
        n = []
        if selection.note:
            n.append(selection.note)
        if value < EPV_MIN:
            n.append(f"EPV {value:.1f} < {EPV_MIN:g}")
        if np.isfinite(row.vif) and row.vif > VIF_MAX or np.isinf(row.vif):
            n.append(f"VIF {fmt_number(row.vif, 1)} > {VIF_MAX:g}")
        notes.append("; ".join(n))
    table["note"] = notes
    if value < EPV_MIN:
        logger.warning("clinical: %.1f events per candidate parameter (%d parameters, %d "
                       "events, %d non-events) is below %g: the clinical model may overfit",
                       value, k, int(np.nansum(y)), int(len(y) - np.nansum(y)), EPV_MIN)
    high = [f"{t} ({fmt_number(x, 1)})" for t, x in v.items() if np.isinf(x) or x > VIF_MAX]
    if high:
        logger.warning("clinical: variance inflation factor above %g for %s (collinear "
                       "candidate terms)", VIF_MAX, ", ".join(high))
    return table
