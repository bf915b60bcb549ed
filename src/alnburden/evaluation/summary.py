"""``results/summary.md``: this run's headline numbers beside the published ones.

The published values come from the config's ``published`` list (one per preset), each
entry one AUC of the paper the preset reproduces::

    published:
      - {level: level1, model: radiomics, set: test, auc: 0.79, source: "Lu et al. 2026"}
      - {level: level2, model: combined, set: test, auc: 0.82, subgroup: low,
         source: "Lu et al. 2026"}

Keys: ``level`` (a level name of the config), ``model`` (radiomics / clinical /
combined / a learner), ``set`` (train / cv / test; a paper's "validation" cohort is our
``test``), ``auc`` (0-1), optional ``subgroup`` (``null``, ``low`` or ``high``: the Ki-67
subgroups of ``evaluation.ki67_cutoff``), optional ``source`` (citation shown in the
table) and ``note``.

The summary is a list of sections, each a list of Markdown lines, heading first (``[]`` when
the run lacks it): this module writes the header and the sections of the evaluation tables
(:func:`header_section`, :func:`comparison_section`, ...), the stage that computes something
else writes its own (e.g. :func:`alnburden.evaluation.sample_size.sample_size_lines`), and
``scripts/summary.py`` lists them in order for :func:`write_summary`. A new section is a
function returning its lines in its own module and one entry in that list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.evaluation import tables as ev
from alnburden.formatting import fmt_ci, fmt_number, fmt_p

#: The in-silico disclaimer written at the top of every summary of a simulated cohort.
SIMULATION_STATEMENT = (
    "**These results come from the in-silico cohort: they are a simulation, not clinical "
    "evidence.**"
)
#: Added to :data:`SIMULATION_STATEMENT` when the config lists published numbers.
SIMULATION_COMPARED = (
    " The simulated patients, images and labels were generated to resemble the "
    "published study; agreement with the published numbers shows that the workflow "
    "reproduces the analysis, not that the model works on real patients."
)
REAL_STATEMENT = "These results come from the user's cohort (manifest `{manifest}`)."
#: Added to :data:`REAL_STATEMENT` when the config lists published numbers.
REAL_COMPARED = (
    " The published values are those of the original studies' cohorts; differences "
    "reflect the cohorts as well as the methods."
)

_SUBGROUP_KINDS = (None, "low", "high")


def check_published(published: Sequence[Mapping]) -> list[dict]:
    """Validate the ``published`` list of the config and return it as plain dicts.

    Raises
    ------
    ValueError
        If an entry lacks ``level``/``model``/``set``/``auc``, the AUC is outside [0, 1],
        or ``subgroup`` is not null/low/high.
    """
    out = []
    for i, entry in enumerate(published or []):
        e = dict(entry)
        missing = [k for k in ("level", "model", "set", "auc") if e.get(k) is None]
        if missing:
            raise ValueError(f"published entry {i} ({entry}) lacks {missing}; write e.g. "
                             "{level: level1, model: combined, set: test, auc: 0.90}")
        if not 0.0 <= float(e["auc"]) <= 1.0:
            raise ValueError(f"published entry {i}: auc {e['auc']} is not in [0, 1]")
        if e.get("subgroup") not in _SUBGROUP_KINDS:
            raise ValueError(f"published entry {i}: subgroup {e.get('subgroup')!r} must be "
                             "null, 'low' or 'high' (Ki-67 below / at or above the cutoff)")
        e.setdefault("subgroup", None)
        e.setdefault("source", "")
        e.setdefault("note", "")
        out.append(e)
    return out


def _note(x) -> str:
    """A table's note as text: "" for None, NaN (an empty CSV cell) or blanks."""
    return x.strip() if isinstance(x, str) else ""


def _pub(x: float) -> str:
    """A published value with the digits it was published with (0.9 -> 0.90, 0.857)."""
    return f"{x:.3f}" if round(x, 2) != round(x, 3) else f"{x:.2f}"


def comparison_table(perf: pd.DataFrame, subgroups: pd.DataFrame | None,
                     published: Sequence[Mapping]) -> pd.DataFrame:
    """Published AUC vs this run's AUC, one row per ``published`` entry.

    Returns
    -------
    pandas.DataFrame
        ``level, model, set, subgroup, published_auc, auc, auc_ci_low, auc_ci_high,
        difference`` (this run - published), ``published_in_ci`` (bool; NaN when this
        run has no CI), ``source``, ``note``. ``auc`` is NaN where this run has no
        matching result (the note says so).
    """
    rows = []
    perf_idx = perf.set_index(["level", "model", "set"])
    for e in check_published(published):
        row = {"level": e["level"], "model": e["model"], "set": e["set"],
               "subgroup": e["subgroup"] or "", "published_auc": float(e["auc"]),
               "auc": np.nan, "auc_ci_low": np.nan, "auc_ci_high": np.nan,
               "source": e["source"], "note": e["note"]}
        hit = None
        if e["subgroup"] is None:
            key = (e["level"], e["model"], e["set"])
            if key in perf_idx.index:
                hit = perf_idx.loc[key]
        elif subgroups is not None and not subgroups.empty and e["set"] == "test":
            sg = subgroups[(subgroups["level"] == e["level"]) & (subgroups["model"] == e["model"])]
            if "set" in sg.columns:
                sg = sg[sg["set"] == e["set"]]
            sg = sg[[ev.subgroup_kind(s) == e["subgroup"] for s in sg["subgroup"]]]
            if len(sg):
                hit = sg.iloc[0]
                row["subgroup"] = str(hit["subgroup"])
        if hit is None:
            row["note"] = "; ".join(x for x in (row["note"], "not in this run") if x)
        else:
            row.update(auc=float(hit["auc"]), auc_ci_low=float(hit["auc_ci_low"]),
                       auc_ci_high=float(hit["auc_ci_high"]))
        rows.append(row)
    out = pd.DataFrame(rows, columns=["level", "model", "set", "subgroup", "published_auc", "auc",
                                      "auc_ci_low", "auc_ci_high", "source", "note"])
    out.insert(8, "difference", out["auc"] - out["published_auc"])
    inside = [(lo <= pa <= hi) if np.isfinite(lo) and np.isfinite(hi) else None
              for pa, lo, hi in zip(out["published_auc"], out["auc_ci_low"], out["auc_ci_high"])]
    out.insert(9, "published_in_ci", pd.array(inside, dtype="boolean"))
    return out


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _level_name(level: str, level_labels: Mapping[str, str] | None) -> str:
    return (level_labels or {}).get(level, level)


def _n_events(row) -> str:
    """``n (events)`` of a table row."""
    return f"{int(row['n'])} ({int(row['events'])})"


def _subgroup_text(label: str) -> str:
    return str(label).replace(">=", "≥")


def header_section(title: str | None, simulated: bool, manifest: str | None,
            compared: bool = False) -> list[str]:
    """The summary's first lines: its title and what the cohort is.

    Parameters
    ----------
    title
        Heading, the config's ``study`` (None: "alnburden: summary of results").
    simulated
        The cohort is the in-silico cohort (config ``cohort.manifest: null``): the summary
        opens with :data:`SIMULATION_STATEMENT`, else with :data:`REAL_STATEMENT`.
    manifest
        The user's manifest path (shown when ``simulated`` is False).
    compared
        The summary compares with published numbers (the config's ``published`` lists
        some): the caveat about them is added.
    """
    statement = (SIMULATION_STATEMENT + (SIMULATION_COMPARED if compared else "")
                 if simulated else
                 REAL_STATEMENT.format(manifest=manifest or "?")
                 + (REAL_COMPARED if compared else ""))
    return [f"# {title or 'alnburden: summary of results'}", "", statement, ""]


def comparison_section(perf: pd.DataFrame, subgroups: pd.DataFrame | None,
                        published: Sequence[Mapping],
                        level_labels: Mapping[str, str] | None) -> list[str]:
    """This run's AUCs beside the published ones (:func:`comparison_table`)."""
    comp = comparison_table(perf, subgroups, published)
    if comp.empty:  # a study whose config lists no published numbers is compared with none
        return []
    parts = ["## This run beside the published results", ""]
    rows = []
    for _, r in comp.iterrows():
        inside = r["published_in_ci"]
        rows.append([_level_name(r["level"], level_labels), r["model"], r["set"],
                     _subgroup_text(r["subgroup"]) or "all", _pub(r["published_auc"]),
                     fmt_ci(r["auc"], r["auc_ci_low"], r["auc_ci_high"]),
                     fmt_number(r["difference"], signed=True),
                     "n/a" if pd.isna(inside) else ("yes" if inside else "no"),
                     r["source"] or "", r["note"] or ""])
    return parts + [
        _md_table(["Level", "Model", "Set", "Patients", "Published AUC", "This run: AUC (95% CI)",
                   "Difference", "Published inside CI", "Source", "Note"], rows), "",
        "Difference = this run's AUC minus the published AUC; the CI is DeLong's. "
        "\"Published inside CI\" says whether the published value lies within this "
        "run's 95% confidence interval.", ""]


def performance_section(perf: pd.DataFrame,
                         level_labels: Mapping[str, str] | None) -> list[str]:
    """Discrimination and operating points of the primary models (train and test)."""
    main = perf[perf["model"].isin(ev.PRIMARY_MODELS)]
    if main.empty:
        return []
    rows = [[_level_name(r["level"], level_labels), r["model"], r["set"], _n_events(r),
             fmt_ci(r["auc"], r["auc_ci_low"], r["auc_ci_high"]), fmt_number(r["cutoff"], 3),
             *(fmt_ci(r[rate], r[f"{rate}_ci_low"], r[f"{rate}_ci_high"])
               for rate in ("sensitivity", "specificity", "accuracy"))]
            for _, r in main.iterrows() if r["set"] in ev.display_sets(perf["set"])]
    return ["## Discrimination and operating points", "",
            "Each model's cutoff is chosen on training patients only "
            f"({_cutoff_sources(main)}) and applied unchanged to the test set; the nested "
            "cross-validation rows use the cutoff chosen inside their own outer fold. "
            "`train` is apparent (optimistic), `nested` the nested cross-validation of the "
            "whole fit, `test` the independent test set.", "",
            _md_table(["Level", "Model", "Set", "n (events)", "AUC (95% CI)", "Cutoff",
                       "Sensitivity", "Specificity", "Accuracy"], rows), ""]


def _cutoff_sources(perf: pd.DataFrame) -> str:
    """Where the performance table's cutoffs were chosen, in words."""
    words = {"nested": "Youden index on the nested out-of-fold predictions",
             "cv": "Youden index on the out-of-fold predictions",
             "train": "Youden index on the apparent predictions", "fixed": "fixed probability"}
    if "cutoff_source" not in perf.columns:
        return words["train"]
    found = [s for s in ("nested", "cv", "train", "fixed")
             if (perf.loc[perf["set"] == "test", "cutoff_source"] == s).any()]
    return "; ".join(words[s] for s in found) or "none"


def internal_validation_section(perf: pd.DataFrame, level_labels: Mapping[str, str] | None,
                                 nested_expected: bool) -> list[str]:
    """AUC of the primary models by kind of estimate: apparent, tuning (cv), nested, test.

    ``nested_expected``: the design runs the nested cross-validation, so a level without
    nested rows (too few patients for the outer folds) is named.
    """
    main = perf[perf["model"].isin(ev.PRIMARY_MODELS)]
    if main.empty:
        return []
    auc = main.pivot_table(index=["level", "model"], columns="set", values="auc",
                           aggfunc="first")
    sets = [s for s in ("train", "cv", "nested", "test") if s in auc.columns]
    heads = {"train": "Apparent", "cv": "CV (tuning estimate)", "nested": "Nested CV",
             "test": "Test"}
    rows = []
    for level in sorted(main["level"].unique()):
        for model in ev.model_order(main.loc[main["level"] == level, "model"].unique()):
            if (level, model) in auc.index:
                rows.append([_level_name(level, level_labels), model,
                             *(fmt_number(auc.loc[(level, model), s]) for s in sets)])
    out = ["## Internal validation", "",
           "AUC of each model by kind of estimate. Apparent: the final model on its own "
           "training patients; CV: out-of-fold, but with the learner, its hyper-parameters and "
           "the clinical predictors chosen on all training patients (optimistic); nested CV: "
           "everything refitted without the patient (docs/internal_validation.md); test: the "
           "independent test set.", "",
           _md_table(["Level", "Model", *(heads[s] for s in sets)], rows), ""]
    if nested_expected:
        missing = sorted(set(main["level"]) - set(main.loc[main["set"] == "nested", "level"]))
        out += [f"- nested cross-validation not run for {_level_name(lv, level_labels)}: too "
                "few patients of a class for the outer folds (see "
                "results/logs/nested_fold/)" for lv in missing]
        out += [""] if missing else []
    return out


def delong_section(delong: pd.DataFrame | None,
                    level_labels: Mapping[str, str] | None) -> list[str]:
    """Paired DeLong tests of the test set."""
    if delong is None or delong.empty:
        return []
    d = delong[delong["set"] == "test"]
    if d.empty:
        return []
    rows = [[_level_name(r["level"], level_labels), f"{r['model_a']} vs {r['model_b']}",
             fmt_number(r["auc_a"]), fmt_number(r["auc_b"]), fmt_number(r["z"]), fmt_p(r["p"])]
            for _, r in d.iterrows()]
    return ["## Paired DeLong tests (test set)", "",
            _md_table(["Level", "Comparison", "AUC A", "AUC B", "z", "P"], rows), ""]


def subgroup_section(subgroups: pd.DataFrame | None,
                      level_labels: Mapping[str, str] | None) -> list[str]:
    """AUCs within the Ki-67 subgroups (test set)."""
    if subgroups is None or subgroups.empty:
        return []
    if "set" in subgroups.columns:
        subgroups = subgroups[subgroups["set"] == "test"]
    rows = [[_level_name(r["level"], level_labels), r["model"], _subgroup_text(r["subgroup"]),
             _n_events(r), fmt_ci(r["auc"], r["auc_ci_low"], r["auc_ci_high"]),
             fmt_number(r.get("calibration_slope", float("nan"))),
             fmt_p(r.get("p_interaction", float("nan"))), fmt_p(r["p_difference"]),
             _note(r.get("note"))]
            for _, r in subgroups.iterrows()]
    return ["## Ki-67 subgroups (test set)", "",
            _md_table(["Level", "Model", "Subgroup", "n (events)", "AUC (95% CI)",
                       "Calibration slope", "P for interaction", "P for AUC difference",
                       "Note"], rows), "",
            "P for interaction: likelihood-ratio test of the model's linear predictor x "
            "subgroup in a logistic model on the test set (does the prediction-outcome "
            "relation differ?); P for AUC difference: z test of the two independent AUCs, "
            "which also reacts to a different case mix.", ""]


def cascade_section(cascade_metrics: pd.DataFrame | None,
                     model: str = "combined") -> list[str]:
    """Accuracy and kappas of the hierarchical cascade of ``model`` (one sentence); ``model``
    is the one the cascade routed patients with
    (:attr:`alnburden.design.StudyDesign.cascade_model`)."""
    if cascade_metrics is None or cascade_metrics.empty:
        return []
    m = cascade_metrics.iloc[0]
    note = _note(m.get("note"))
    return ["## Hierarchical cascade (test set)", "",
            f"N0 / N1-2 / N≥3 from level 1 then level 2 ({model} models): "
            f"n = {int(m['n'])}, accuracy "
            f"{fmt_ci(m['accuracy'], m['accuracy_ci_low'], m['accuracy_ci_high'])}, "
            f"Cohen's kappa {fmt_number(m['kappa'])}, linear-weighted "
            f"{fmt_number(m['kappa_linear'])}, quadratic-weighted "
            f"{fmt_number(m['kappa_quadratic'])}." + (f" Note: {note}." if note else ""), ""]


def skipped_section(skipped: Sequence[str]) -> list[str]:
    """What the study design left out, one line each ("skipped: ... because ..."; the rule
    passes the design's, the table registry's and the figure registry's)."""
    if not skipped:
        return []
    return ["## Not in this study design", "", *(f"- {line}" for line in skipped), ""]


def render_summary(sections: Iterable[Sequence[str]]) -> str:
    """Markdown text of the summary: the sections' lines in the order given.

    Parameters
    ----------
    sections
        Each section's Markdown lines, heading first (``[]`` leaves it out): the header
        (:func:`header_section`), then the sections of the stages the run has, e.g.
        :func:`comparison_section`, :func:`performance_section`,
        :func:`internal_validation_section`, :func:`delong_section`,
        :func:`subgroup_section`, :func:`cascade_section`,
        :func:`alnburden.extraction.robustness.features_summary_lines`,
        :func:`alnburden.evaluation.internal_validation.internal_validation_summary`,
        :func:`alnburden.evaluation.sample_size.sample_size_lines`,
        :func:`alnburden.evaluation.repeats.repeated_splits_lines` and, last,
        :func:`skipped_section` (``scripts/summary.py`` builds the list).
    """
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


def write_summary(sections: Iterable[Sequence[str]], path: str | Path) -> Path:
    """Write ``results/summary.md`` from its sections (:func:`render_summary`).

    Returns
    -------
    Path
        The file written (no timestamps: two runs give identical files).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_summary(sections))
    return path
