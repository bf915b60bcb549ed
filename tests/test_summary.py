"""Tests of alnburden.evaluation.summary (results/summary.md)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_evaluation import make_predictions

from alnburden.evaluation import cascade as cs
from alnburden.evaluation import tables as ev
from alnburden.evaluation import summary as sm

PUBLISHED_LU2026 = [
    {"level": "level1", "model": "radiomics", "set": "test", "auc": 0.79, "source": "Lu 2026"},
    {"level": "level1", "model": "combined", "set": "test", "auc": 0.90, "source": "Lu 2026"},
    {"level": "level2", "model": "radiomics", "set": "test", "auc": 0.74, "source": "Lu 2026"},
    {"level": "level2", "model": "combined", "set": "test", "auc": 0.78, "source": "Lu 2026"},
    {"level": "level2", "model": "combined", "set": "test", "auc": 0.82, "subgroup": "low"},
    {"level": "level2", "model": "combined", "set": "test", "auc": 0.68, "subgroup": "high"},
    {"level": "level3", "model": "combined", "set": "test", "auc": 0.70},
]


def sections(perf, sub, published, *, simulated=True, manifest=None, title=None,
             labels=None, delong=None, cascade=None, cascade_model="combined", skipped=()):
    """The sections of the evaluation tables, in the order scripts/summary.py lists them."""
    return [sm.header_section(title, simulated, manifest, compared=bool(published)),
            sm.comparison_section(perf, sub, published, labels),
            sm.performance_section(perf, labels),
            sm.internal_validation_section(perf, labels, False),
            sm.delong_section(delong, labels), sm.subgroup_section(sub, labels),
            sm.cascade_section(cascade, cascade_model), sm.skipped_section(skipped)]


@pytest.fixture(scope="module")
def tables():
    pred = make_predictions(cascade=True)
    return (ev.performance_table(pred), ev.subgroup_table(pred), ev.delong_table(pred),
            cs.cascade_table(cs.cascade_predictions(pred))[1])


def test_comparison_table_matches_our_numbers(tables):
    perf, sub, _, _ = tables
    comp = sm.comparison_table(perf, sub, PUBLISHED_LU2026)
    assert len(comp) == len(PUBLISHED_LU2026)
    ours = perf.set_index(["level", "model", "set"]).loc[("level1", "combined", "test"), "auc"]
    row = comp.iloc[1]
    assert row["auc"] == pytest.approx(ours)
    assert row["difference"] == pytest.approx(ours - 0.90)
    low = comp.iloc[4]
    assert low["subgroup"] == "Ki-67 < 20%"
    s = sub[(sub["level"] == "level2") & (sub["model"] == "combined")]
    assert low["auc"] == pytest.approx(s["auc"].iloc[0])
    assert comp.iloc[5]["subgroup"] == "Ki-67 >= 20%"
    assert "not in this run" in comp.iloc[6]["note"] and pd.isna(comp.iloc[6]["auc"])


def test_summary_lists_what_the_design_skipped(tables):
    perf, sub, dl, casc = tables
    full = sm.render_summary(sections(perf, sub, [], delong=dl, cascade=casc))
    assert "Not in this study design" not in full and "(combined models)" in full
    skipped = ["skipped: figure nomogram (Nomogram) because config clinical.variables is empty"]
    text = sm.render_summary(sections(perf, None, [], cascade=casc, cascade_model="radiomics",
                                      skipped=skipped))
    assert text.endswith("## Not in this study design\n\n- " + skipped[0] + "\n")
    assert "(radiomics models)" in text and "Paired DeLong" not in text


def test_summary_file(tmp_path, tables):
    perf, sub, dl, casc = tables
    labels = {"level1": "Level 1 (N0 vs N+)"}
    path = sm.write_summary(sections(perf, sub, PUBLISHED_LU2026, delong=dl, cascade=casc,
                                     labels=labels), tmp_path / "summary.md")
    text = path.read_text()
    assert "simulation, not clinical evidence" in text
    assert "| Level 1 (N0 vs N+) | combined | test | all | 0.90 |" in text
    assert "Hierarchical cascade" in text and "Paired DeLong" in text
    assert "| level1 |" not in text and "| level2 |" in text    # level2 has no label here
    for section in ("Discrimination", "Paired DeLong", "Ki-67 subgroups"):
        body = text.split(f"## {section}")[1].split("##")[0]
        assert "| Level 1 (N0 vs N+) |" in body, section
    again = sm.write_summary(sections(perf, sub, PUBLISHED_LU2026, delong=dl, cascade=casc,
                                      labels=labels), tmp_path / "again.md")
    assert again.read_bytes() == path.read_bytes()
    real = sm.render_summary(sections(perf, sub, [], simulated=False, manifest="cohort.csv"))
    assert "not clinical evidence" not in real and "cohort.csv" in real
    assert "published" not in real.lower()  # no comparison section, no caveat about one


@pytest.mark.parametrize("entry, match", [
    ({"level": "level1", "model": "combined", "set": "test"}, r"lacks \['auc'\]"),
    ({"level": "level1", "model": "combined", "set": "test", "auc": 90}, "not in \\[0, 1\\]"),
    ({"level": "level1", "model": "combined", "set": "test", "auc": 0.9, "subgroup": "ki67_low"},
     "must be null, 'low' or 'high'"),
])
def test_bad_published_entry(entry, match):
    with pytest.raises(ValueError, match=match):
        sm.check_published([entry])


def test_cascade_note_read_back_from_csv_is_not_printed_as_nan(tmp_path, tables):
    """The rule reads cascade_metrics.csv: an empty note comes back as NaN."""
    perf, sub, dl, casc = tables
    casc.assign(note="").to_csv(tmp_path / "cascade_metrics.csv", index=False)
    read_back = pd.read_csv(tmp_path / "cascade_metrics.csv")
    assert pd.isna(read_back["note"].iloc[0])
    text = sm.render_summary(sections(perf, sub, PUBLISHED_LU2026, delong=dl,
                                      cascade=read_back))
    assert "Note:" not in text.split("Hierarchical cascade")[1]
    noted = sm.render_summary(sections(perf, sub, PUBLISHED_LU2026, delong=dl,
                                       cascade=casc.assign(note="2 N0 patients unscored")))
    assert "Note: 2 N0 patients unscored." in noted


def test_summary_is_titled_by_the_study_and_compares_only_with_listed_numbers(tables):
    """A user's cohort without ``published`` gets its own title and no comparison."""
    perf, sub, dl, casc = tables
    mine = sm.render_summary(sections(perf, sub, [], simulated=False, manifest="my.csv",
                                      title="My ALN cohort (Hospital X)"))
    assert mine.startswith("# My ALN cohort (Hospital X)\n")
    assert "beside the published" not in mine and "Lu" not in mine
    assert "published" not in mine.lower()
    simulated = sm.render_summary(sections(perf, sub, [], title="in-silico check"))
    assert "not clinical evidence" in simulated and "published" not in simulated.lower()
    compared = sm.render_summary(sections(perf, sub, PUBLISHED_LU2026,
                                          title="hierarchical study"))
    assert "## This run beside the published results" in compared
    assert "agreement with the published numbers" in compared


def test_summary_states_when_the_cohort_is_below_the_minimum_sample_size(tables):
    from alnburden.evaluation.sample_size import sample_size_lines, sample_size_table

    perf, sub, dl, casc = tables
    pred = make_predictions(cascade=True)
    variables = [{"name": "ki67", "type": "continuous"},
                 {"name": "subtype", "type": "categorical", "levels": ["a", "b", "c", "d"]}]
    table = sample_size_table(pred, variables, ["level1", "level2"])
    text = sm.render_summary([*sections(perf, sub, []), sample_size_lines(table)])
    section = text.split("## Sample size")[1]
    for _, r in table.iterrows():
        if r["adequate"]:
            assert "meets the minimum" in section
        else:
            assert f"is below the minimum: {int(r['n'])} of {int(r['n_min'])} patients" in section
