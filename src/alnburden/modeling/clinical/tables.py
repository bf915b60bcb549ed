"""The clinical tables: univariable and multivariable logistic regressions as rows of
terms, the publication table that merges them, and its CSV and Markdown files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.formatting import fmt_ci, fmt_number, fmt_p
from alnburden.modeling.clinical.coding import design_matrix, variable_terms
from alnburden.modeling.clinical.logit import fit_logit, term_rows, variable_p
from alnburden.modeling.clinical.model import LogisticModel

logger = logging.getLogger(__name__)


def complete_design(df: pd.DataFrame, y, specs: list[dict]):
    X = design_matrix(df, specs)
    yy = pd.Series(np.asarray(y, dtype=float), index=df.index)
    ok = X.notna().all(axis=1) & yy.notna()
    X, yy = X[ok], yy[ok]
    const = [c for c in X.columns if X[c].nunique() <= 1]
    if const:
        logger.warning("dropped constant design column(s) %s (a level absent from the "
                       "patients fitted)", const)
        X = X.drop(columns=const)
    variable_of = {t: s["name"] for s in specs for t in variable_terms(s)}
    return X, yy, variable_of


TERM_COLUMNS = ["variable", "term", "or", "ci_low", "ci_high", "p", "coef", "se", "variable_p",
            "method", "n", "events"]


def univariable_logistic(df: pd.DataFrame, y, variables: list[dict]) -> pd.DataFrame:
    """One logistic regression per variable.

    Parameters
    ----------
    df
        Rows to fit (training patients), with one column per variable.
    y
        0/1 outcome aligned with ``df``'s rows.
    variables
        Specs from the config's ``clinical.variables`` (name, type, levels, coding).

    Returns
    -------
    DataFrame
        One row per term: ``variable, term, or, ci_low, ci_high, p`` (Wald, 95 % CI), plus
        ``coef, se, variable_p`` (Wald p of the whole variable), ``method`` (mle/firth),
        ``n``, ``events``.
    """
    out = []
    for spec in variables:
        X, yy, variable_of = complete_design(df, y, [spec])
        if X.shape[1] == 0:
            logger.warning("univariable %s: no variation among fitted patients; skipped",
                           spec["name"])
            continue
        fit = fit_logit(X, yy, label=f"univariable {spec['name']}")
        rows = term_rows(fit, variable_of)
        rows["variable_p"] = variable_p(fit, list(X.columns))
        out.append(rows)
    if not out:
        return pd.DataFrame(columns=TERM_COLUMNS)
    return pd.concat(out, ignore_index=True)[TERM_COLUMNS]


def multivariable_logistic(df: pd.DataFrame, y, variables: list[dict]) -> pd.DataFrame:
    """One logistic regression of all ``variables`` together (same columns as
    :func:`univariable_logistic`; ``variable_p`` is the joint Wald p of each variable)."""
    X, yy, variable_of = complete_design(df, y, variables)
    fit = fit_logit(X, yy, label="multivariable " + "+".join(v["name"] for v in variables))
    rows = term_rows(fit, variable_of)
    rows["variable_p"] = rows["variable"].map(
        {v["name"]: variable_p(fit, variable_terms(v)) for v in variables})
    return rows[TERM_COLUMNS]


def penalized_rows(model: LogisticModel, variables: list[dict]) -> pd.DataFrame:
    """Multivariable columns of a penalized model: OR = exp(coef); no SE, CI or p."""
    variable_of = {t: s["name"] for s in variables for t in variable_terms(s)}
    rows = [{"variable": variable_of[t], "term": t, "or": np.exp(b), "ci_low": np.nan,
             "ci_high": np.nan, "p": np.nan, "coef": b, "se": np.nan, "variable_p": np.nan,
             "method": "penalized", "n": model.n_, "events": model.events_}
            for t, b in zip(model.terms_[1:], model.coef_[1:])]
    return pd.DataFrame(rows, columns=TERM_COLUMNS)


def clinical_table(uni: pd.DataFrame, multi: pd.DataFrame, entered: list[str],
                   predictors: list[str]) -> pd.DataFrame:
    """Merge univariable and multivariable results into the publication table.

    Columns: ``variable, term, univariable (formatted 'OR (95% CI)'), univariable_p_fmt,
    multivariable, multivariable_p_fmt, entered, independent, univariable_or, ...,
    multivariable_method, n, events``.
    """
    u = uni.rename(columns={"or": "univariable_or", "ci_low": "univariable_ci_low",
                            "ci_high": "univariable_ci_high", "p": "univariable_p",
                            "variable_p": "univariable_variable_p", "method": "method"})
    m = multi.rename(columns={"or": "multivariable_or", "ci_low": "multivariable_ci_low",
                              "ci_high": "multivariable_ci_high", "p": "multivariable_p",
                              "variable_p": "multivariable_variable_p",
                              "method": "multivariable_method"})
    t = u[["variable", "term", "univariable_or", "univariable_ci_low", "univariable_ci_high",
           "univariable_p", "univariable_variable_p", "method", "n", "events"]].merge(
        m[["term", "multivariable_or", "multivariable_ci_low", "multivariable_ci_high",
           "multivariable_p", "multivariable_variable_p", "multivariable_method"]],
        on="term", how="left")
    t["univariable"] = [fmt_ci(*r, missing="") for r in t[["univariable_or", "univariable_ci_low",
                                                "univariable_ci_high"]].to_numpy(float)]
    t["univariable_p_fmt"] = [fmt_p(p, missing="") for p in t["univariable_p"].to_numpy(float)]
    multi_fmt = []
    for o, lo, hi in t[["multivariable_or", "multivariable_ci_low",
                        "multivariable_ci_high"]].to_numpy(float):
        multi_fmt.append(fmt_ci(o, lo, hi, missing="") if np.isfinite(lo)
                         else fmt_number(o, missing=""))
    t["multivariable"] = multi_fmt
    t["multivariable_p_fmt"] = [fmt_p(p, missing="") for p in t["multivariable_p"].to_numpy(float)]
    t["entered"] = t["variable"].isin(entered)
    t["independent"] = t["variable"].isin(predictors)
    return t[["variable", "term", "univariable", "univariable_p_fmt", "multivariable",
              "multivariable_p_fmt", "entered", "independent", "univariable_or",
              "univariable_ci_low", "univariable_ci_high", "univariable_p",
              "univariable_variable_p", "multivariable_or", "multivariable_ci_low",
              "multivariable_ci_high", "multivariable_p", "multivariable_variable_p", "method",
              "multivariable_method", "n", "events"]]


def write_clinical_table(table: pd.DataFrame, csv_path: str | Path, title: str,
                         notes: Sequence[str] = ()) -> None:
    """Full numeric table as CSV; a compact Markdown copy (OR (95% CI), p, VIF, note) with
    the strategy, EPV and the "no predictor" sentence below it."""
    from alnburden.io import write_table

    csv_path = Path(csv_path)
    write_table(table, csv_path, title=title)
    md = table.assign(vif_fmt=[fmt_number(v, 1, missing="") for v in table["vif"]])[
        ["variable", "term", "univariable", "univariable_p_fmt", "multivariable",
         "multivariable_p_fmt", "independent", "vif_fmt", "note"]].rename(columns={
            "univariable": "Univariable OR (95% CI)", "univariable_p_fmt": "p (univariable)",
            "multivariable": "Multivariable OR (95% CI)",
            "multivariable_p_fmt": "p (multivariable)",
            "independent": "independent predictor", "vif_fmt": "VIF"})
    coding = ("Odds ratios per unit (continuous), per step (linear ordinal), vs the first "
              "level (categorical, categorical ordinal) or vs below the threshold "
              "(`name>=k`); Wald 95% CI and p.")
    text = "\n\n".join([f"# {title}", md.to_markdown(index=False), coding, *notes])
    csv_path.with_suffix(".md").write_text(text + "\n")
