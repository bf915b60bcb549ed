"""The clinical arm of one level: the strategy's predictors on the training patients,
their table with its warnings, and the fitted clinical model
(:func:`select_clinical_predictors`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alnburden.formatting import fmt_number
from alnburden.modeling.clinical.coding import CodedData, declared_spec
from alnburden.modeling.clinical.diagnostics import EPV_MIN, VIF_MAX, add_diagnostics
from alnburden.modeling.clinical.model import LogisticModel
from alnburden.modeling.clinical.settings import ClinicalSettings
from alnburden.modeling.clinical.strategies import Selection, select_predictors
from alnburden.modeling.clinical.tables import (TERM_COLUMNS, clinical_table,
                                                multivariable_logistic, penalized_rows,
                                                univariable_logistic)

logger = logging.getLogger(__name__)


@dataclass
class ClinicalFit:
    """The clinical arm of one level: its table, predictors, model and notes."""

    table: pd.DataFrame
    predictors: list[str]
    model: LogisticModel
    selection: Selection
    notes: list[str]


def select_clinical_predictors(df: pd.DataFrame, y, variables: list[dict],
                               settings: ClinicalSettings) -> ClinicalFit:
    """The clinical predictors of the training patients, their table and the fitted model.

    Parameters
    ----------
    df, y
        Training patients and their 0/1 labels.
    variables
        The config's ``clinical.variables``.
    settings
        The strategy (:class:`ClinicalSettings`, config ``models``).

    Returns
    -------
    ClinicalFit
        ``table`` (:func:`clinical_table` + ``strategy, epv, candidate_parameters, vif,
        note``), ``predictors`` (variable names, config order; empty when none was
        chosen), ``model`` (the fitted clinical :class:`LogisticModel`: unpenalized on the
        predictors, intercept-only when there are none, the penalized fit for
        ``penalized``), ``selection`` and ``notes`` (sentences for the table's footnote).
    """
    if not variables:
        raise ValueError("clinical.variables is empty; declare at least one clinical variable "
                         "to fit the clinical and combined models")
    y = np.asarray(y, dtype=float)
    data = CodedData.from_frame(df, variables)
    sel = select_predictors(data, y, settings)
    uni = univariable_logistic(df, y, variables)
    if uni.empty:
        raise ValueError("no clinical variable varies among the training patients")
    if settings.strategy == "penalized":
        model = sel.penalized
        multi = penalized_rows(model, variables)
    else:
        specs = [declared_spec(variables, n) for n in sel.entered]
        multi = (multivariable_logistic(df, y, specs) if specs
                 else pd.DataFrame(columns=TERM_COLUMNS))
        model = LogisticModel([declared_spec(variables, n) for n in sel.predictors]).fit(df, y)
    table = clinical_table(uni, multi, sel.entered, sel.predictors)
    table = add_diagnostics(table, df, y, variables, settings, sel)
    notes = [f"Strategy: {settings.describe()}."]
    if sel.note:
        logger.warning("clinical: %s; the clinical model is intercept-only (every patient "
                       "gets the training prevalence %.3f, AUC 0.5) and the combined model "
                       "is the Rad-score alone", sel.note, float(np.mean(y)))
        notes.append(f"**{sel.note[0].upper() + sel.note[1:]}**: the clinical model is "
                     f"intercept-only (predicted probability = training prevalence "
                     f"{np.mean(y):.3f} for every patient, AUC 0.5) and the combined model is "
                     "the Rad-score alone.")
    value, k = table["epv"].iloc[0], int(table["candidate_parameters"].iloc[0])
    notes.append(f"Events per candidate parameter (EPV): {fmt_number(value, 1)} "
                 f"({k} candidate parameters){' - below 10' if value < EPV_MIN else ''}; "
                 f"VIF of each term among all candidate terms (warning above {VIF_MAX:g}).")
    logger.info("clinical (%s): entered %s; predictors %s", settings.strategy, sel.entered,
                sel.predictors)
    return ClinicalFit(table, list(sel.predictors), model, sel, notes)
