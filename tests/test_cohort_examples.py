"""The cohort example figure (alnburden.figures.cohort_examples)."""

from __future__ import annotations

import pandas as pd
import pytest

from alnburden.figures.cohort_examples import plot_cohort_examples
from alnburden.simulate import simulate_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return simulate_cohort(tmp_path_factory.mktemp("sim"), n_patients=12, seed=5)


def test_plot(cohort, tmp_path):
    out = plot_cohort_examples(cohort, tmp_path / "fig" / "examples", n_per_class=2)
    assert [p.suffix for p in out] == [".pdf", ".png"]
    assert all(p.stat().st_size > 1000 for p in out)


def test_plot_rejects_clinical_only_manifest(tmp_path):
    pd.DataFrame({"patient_id": ["a"], "n_positive_nodes": [0]}).to_csv(tmp_path / "m.csv")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['image', 'mask'"):
        plot_cohort_examples(tmp_path / "m.csv", tmp_path / "x")

