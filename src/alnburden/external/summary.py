"""``results/external/<name>/summary.md``: what the frozen models did on an external cohort."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.external.bundle import Bundle
from alnburden.external.drift import drifted_model_features
from alnburden.formatting import fmt_ci, fmt_number

__all__ = ["external_summary_lines", "write_external_summary"]


def _contract_lines(bundle: Bundle, contract: dict, accepted: Sequence[str]) -> list[str]:
    lines = ["## Contract", ""]
    rad = bundle.meta.get("radiomics")
    if rad:
        lines.append(f"- features extracted with the bundle's params (sha256 "
                     f"`{rad['params_sha256'][:12]}`) and pyradiomics "
                     f"{rad['pyradiomics_version']}; {len(rad['feature_columns'])} columns")
    lines.append(f"- clinical variables validated against the bundle's coding: "
                 f"{', '.join(v['name'] for v in bundle.variables) or 'none'}")
    for line in [*contract.get("accepted", []), *accepted]:
        lines.append(f"- **accepted mismatch**: {line}")
    return lines + [""]


def _headline(bundle: Bundle, perf: pd.DataFrame) -> list[str]:
    """One line per level: the study's main model (combined, else radiomics, else clinical),
    external vs internal test AUC."""
    out = []
    for level, g in perf.groupby("level", sort=False):
        models = list(g["model"])
        main = next((m for m in ("combined", "radiomics", "clinical") if m in models), None)
        if main is None:
            continue
        r = g[g["model"] == main].iloc[0]
        card = json.loads((bundle.root / "models" / level / "model_card.json").read_text())
        internal = (card.get("auc") or {}).get(f"test/{main}")
        out.append(f"- **{level}, {main} model: external AUC "
                   f"{fmt_ci(r['auc'], r['auc_ci_low'], r['auc_ci_high'])} "
                   f"(internal test {fmt_number(internal)})**")
    return out + [""] if out else []


def _performance_lines(bundle: Bundle, perf: pd.DataFrame) -> list[str]:
    lines = ["## Discrimination of the frozen models", "",
             "Operating points at the cutoffs the study chose on its training set.", "",
             "| level | model | n (events) | external AUC (95% CI) | internal test AUC | "
             "cutoff | sensitivity | specificity |", "|---|---|---|---|---|---|---|---|"]
    for r in perf.itertuples():
        card = json.loads((bundle.root / "models" / r.level / "model_card.json").read_text())
        internal = (card.get("auc") or {}).get(f"test/{r.model}")
        lines.append(f"| {r.level} | {r.model} | {r.n} ({r.events}) | "
                     f"{fmt_ci(r.auc, r.auc_ci_low, r.auc_ci_high)} | "
                     f"{fmt_number(internal)} | {fmt_number(r.cutoff, 3)} | "
                     f"{fmt_number(r.sensitivity)} | {fmt_number(r.specificity)} |")
    return lines + [""]


def _recalibration_lines(recal: pd.DataFrame) -> list[str]:
    lines = ["## Recalibration (fitted on the external labels; beside, not instead of, the "
             "frozen model)", "",
             "`logit(p') = a + b logit(p)`; intercept: b = 1 (calibration-in-the-large); "
             "logistic: a and b. Brier scores of the updates are apparent (fitted and scored on "
             "the same patients).", "",
             "| level | model | update | a | b | Brier | mean predicted | observed |",
             "|---|---|---|---|---|---|---|---|"]
    for r in recal.itertuples():
        lines.append(f"| {r.level} | {r.model} | {r.update} | {fmt_number(r.a)} | "
                     f"{fmt_number(r.b)} | {fmt_number(r.brier, 3)} | "
                     f"{fmt_number(r.mean_predicted)} | {fmt_number(r.observed_rate)} |")
    return lines + [""]


def _drift_lines(bundle: Bundle, drift: pd.DataFrame, cfg: dict) -> list[str]:
    lines = ["## Drift from the training cohort", ""]
    if drift.empty:
        return lines + ["No feature or clinical variable could be compared.", ""]
    drifted = drift[drift["drifted"].astype(bool)]
    for kind, word in (("feature", "radiomic features"), ("clinical", "clinical variables")):
        d = drift[drift["kind"] == kind]
        if len(d):
            lines.append(f"- {int(d['drifted'].astype(bool).sum())} of {len(d)} {word} drifted "
                         f"(|SMD| >= {cfg.get('smd_threshold', 0.5):g} or Holm p < "
                         f"{cfg.get('alpha', 0.05):g}); median share outside the training "
                         f"range {fmt_number(float(np.nanmedian(d['outside_range'])))}")
    for level, used in bundle.used_inputs().items():
        hit = drifted_model_features(drifted, used)
        if len(hit):
            names = ", ".join(f"{r.name} (SMD {fmt_number(r.smd, signed=True)})"
                              for r in hit.head(10).itertuples())
            if len(hit) > 10:
                names += f" and {len(hit) - 10} more (drift.csv)"
            names = f"{len(hit)} of {len(used)}: {names}"
            lines.append(f"- **{level}: inputs of the frozen models that drifted**: {names}")
        else:
            lines.append(f"- {level}: none of the {len(used)} inputs of the frozen models "
                         "drifted")
    return lines + ["", "Table: `drift.csv`; figure: `figures/drift.png`.", ""]


def external_summary_lines(name: str, bundle: Bundle, contract: dict, accepted: Sequence[str],
                           predictions: pd.DataFrame, drift: pd.DataFrame,
                           performance: pd.DataFrame | None = None,
                           recalibration: pd.DataFrame | None = None,
                           drift_cfg: dict | None = None,
                           manifest: str | None = None) -> list[str]:
    """The Markdown lines of an external cohort's summary."""
    lines = [f"# External validation: {name}", "",
             f"Frozen models of the study *{bundle.meta['study']}* (bundle format "
             f"{bundle.meta['format']}, {bundle.meta['training']['n']} training patients) "
             f"applied to {contract['n_patients']} patients of `{manifest or name}`. Nothing "
             "was refitted.", ""]
    lines += _contract_lines(bundle, contract, accepted)
    if not contract["labelled"]:
        lines += ["The manifest has no label columns: predictions only "
                  f"(`predictions.csv`, {predictions['patient_id'].nunique()} patients).", ""]
    else:
        if performance is not None:
            lines += _headline(bundle, performance) + _performance_lines(bundle, performance)
        if recalibration is not None:
            lines += _recalibration_lines(recalibration)
    lines += _drift_lines(bundle, drift, drift_cfg or {})
    return lines


def write_external_summary(path: str | Path, name: str, bundle_dir: str | Path,
                           contract_path: str | Path, predictions: pd.DataFrame,
                           drift: pd.DataFrame, performance: pd.DataFrame | None = None,
                           recalibration: pd.DataFrame | None = None,
                           drift_cfg: dict | None = None, manifest: str | None = None,
                           features_check_path: str | Path | None = None) -> Path:
    """The ``external_summary`` rule: write :func:`external_summary_lines` to ``path``
    (``features_check_path``: the mismatches of the features the prediction accepted)."""
    bundle = Bundle.open(bundle_dir)
    contract = json.loads(Path(contract_path).read_text())
    accepted = (json.loads(Path(features_check_path).read_text())["accepted"]
                if features_check_path else [])
    lines = external_summary_lines(name, bundle, contract, accepted, predictions, drift,
                                   performance, recalibration, drift_cfg, manifest)
    Path(path).write_text("\n".join(lines))
    return Path(path)
