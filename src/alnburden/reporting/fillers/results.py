"""Fillers of the evaluation: measures, uncertainty, comparisons and the results."""

from __future__ import annotations

from alnburden.formatting import fmt_ci, fmt_number, fmt_p
from alnburden.reporting.fillers.counts import set_counts
from alnburden.reporting.fillers.record import Filled, RunRecord, filler
from alnburden.reporting.fillers.software import package_version


@filler("performance_measures")
def performance_measures(run: RunRecord) -> Filled:
    ev = run.config.get("evaluation", {})
    tables = ["performance", "calibration", "dca"] + [t for t in ("auc_delong", "subgroups",
                                                                   "reclassification")
                                                      if t in run.files]
    text = ("Discrimination: ROC AUC with DeLong 95 % CI; operating point at the cutoff "
            f"chosen on training data ({ev.get('cutoff')}) with sensitivity, specificity, "
            "accuracy, PPV, NPV (Wilson 95 % CI). Calibration: Brier score, Hosmer-Lemeshow "
            "test, calibration slope and intercept, calibration curves. Clinical utility: "
            f"decision curves (net benefit, thresholds {ev.get('dca_thresholds')})."
            + (" Paired DeLong tests between models." if "auc_delong" in run.files else "")
            + (" Continuous NRI and IDI of combined vs the other models."
               if "reclassification" in run.files else "")
            + (f" Ki-67 subgroups (cutoff {ev.get('ki67_cutoff')} %) with a z test of the "
               "difference of their AUCs."
               if "subgroups" in run.files else ""))
    return Filled(text, tuple(run.path(t) for t in tables), {"tables": tables})


@filler("uncertainty")
def uncertainty(run: RunRecord) -> Filled:
    return Filled("95 % confidence intervals for every AUC (DeLong) and rate (Wilson); "
                  "calibration by Brier score, Hosmer-Lemeshow test, slope and intercept; "
                  f"bootstrap ({run.config['evaluation'].get('bootstrap')} resamples) for "
                  "the ROC bands and NRI/IDI.", (run.path("performance"),
                                                   run.path("calibration")), {})


@filler("statistical_comparison")
def statistical_comparison(run: RunRecord) -> Filled:
    text = ("Paired DeLong test of AUCs (alnburden.stats, checked against a reference), "
            "two-sided, p < 0.05, no multiplicity correction; operating points at the "
            f"training cutoff ({run.config['evaluation'].get('cutoff')}). Software: "
            f"Python with scipy {package_version('scipy')}, statsmodels "
            f"{package_version('statsmodels')}.")
    ev = (run.path("auc_delong"),) if "auc_delong" in run.files else ()
    return Filled(text, ev, {})


@filler("analysis_counts")
def analysis_counts(run: RunRecord) -> Filled:
    counts = set_counts(run.table("predictions"))
    names = {"train": "development (apparent)", "cv": "tuning / out-of-fold",
             "nested": "nested CV", "test": "test", "cascade": "cascade (test)",
             "external": "external"}
    text = "; ".join(f"{lv}: " + ", ".join(f"{names.get(s, s)} {n} ({e} events)"
                                           for s, (n, e) in sets.items())
                     for lv, sets in counts.items()) + "."
    return Filled(text, (run.path("predictions"),),
                  {"sets": {lv: {s: list(v) for s, v in sets.items()}
                            for lv, sets in counts.items()}})


def _auc_text(r) -> str:
    return f"{r.model} {fmt_ci(r.auc, r.auc_ci_low, r.auc_ci_high)}"


@filler("performance")
def performance(run: RunRecord) -> Filled:
    perf = run.table("performance")
    parts = []
    facts = {}
    for lv in run.levels:
        for set_ in ("train", "cv", "nested", "test", "external"):
            g = perf[(perf["level"] == lv) & (perf["set"] == set_)
                     & perf["model"].isin(run.design.arms)]
            if g.empty:
                continue
            parts.append(f"{lv} {set_} AUC: " + ", ".join(_auc_text(r) for r in g.itertuples()))
            if set_ == "test":
                facts[lv] = {r.model: round(float(r.auc), 2) for r in g.itertuples()}
    test = perf[(perf["set"] == "test") & perf["model"].isin(run.design.arms)]
    ops = "; ".join(f"{r.level} {r.model}: sensitivity {fmt_number(r.sensitivity)}, "
                    f"specificity {fmt_number(r.specificity)}" for r in test.itertuples())
    text = "; ".join(parts) + f". Test operating points (training cutoff): {ops}."
    ev = [run.path("performance"), run.path("calibration")]
    cal = run.table("calibration")
    ct = cal[(cal["set"] == "test") & cal["model"].isin(run.design.arms)]
    text += " Test calibration: " + "; ".join(
        f"{r.level} {r.model} slope {fmt_number(r.slope)}, intercept {fmt_number(r.intercept)}, "
        f"Brier {fmt_number(r.brier, 3)}" for r in ct.itertuples()) + "."
    if "subgroups" in run.files:
        sg = run.table("subgroups")
        ev.append(run.path("subgroups"))
        text += " Ki-67 subgroups (test): " + "; ".join(
            f"{r.level} {r.model} {r.subgroup} {fmt_ci(r.auc, r.auc_ci_low, r.auc_ci_high)}"
            for r in sg.itertuples()) + "."
    if run.has("internal_validation"):
        ev.append(run.path("internal_validation"))
        text += " Optimism-corrected and nested estimates: `internal_validation.csv`."
    return Filled(text, tuple(ev), {"test_auc": facts})


@filler("comparison_results")
def comparison_results(run: RunRecord) -> Filled:
    ev, parts = [], []
    if "auc_delong" in run.files:
        d = run.table("auc_delong")
        d = d[d["set"] == "test"]
        ev.append(run.path("auc_delong"))
        parts.append("DeLong (test): " + "; ".join(
            f"{r.level} {r.model_a} vs {r.model_b} {fmt_number(r.auc_a)} vs "
            f"{fmt_number(r.auc_b)}, p {fmt_p(r.p)}" for r in d.itertuples()))
    dca = run.table("dca")
    ev.append(run.path("dca"))
    t = dca[(dca["set"] == "test") & dca["model"].isin(run.design.arms)]
    if len(t):
        best = []
        for (lv, m), g in t.groupby(["level", "model"], sort=True):
            nb = g.loc[(g["threshold"] - g["threshold"].median()).abs().idxmin()]
            best.append(f"{lv} {m} net benefit {fmt_number(nb['net_benefit'], 3)} at threshold "
                        f"{fmt_number(nb['threshold'])}")
        parts.append("Decision curves (test): " + "; ".join(best) + " (full curves in dca.csv)")
    if "reclassification" in run.files:
        ev.append(run.path("reclassification"))
        parts.append("NRI/IDI: reclassification.csv")
    return Filled(". ".join(parts) + ".", tuple(ev), {})
