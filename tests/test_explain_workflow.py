"""End-to-end: the explanation outputs of the CI study (the shared ``e2e_run`` fixture, no
extra run): SHAP tables and figures, feature maps, sample size, and a summary titled by the
study with no comparison (tests/data/ci_config.yaml lists no published numbers)."""

from __future__ import annotations

import pandas as pd
import pytest

from alnburden.evaluation.explain import explainer_kind, readable_feature_name
from alnburden.modeling.persistence import load_model

pytestmark = pytest.mark.workflow


def test_explain_outputs_of_the_ci_study(e2e_run):
    res = e2e_run / "results"
    summary = (res / "summary.md").read_text()
    assert summary.startswith("# ci\n")                      # the config's study, not Lu's
    assert "beside the published" not in summary and "Lu et al" not in summary
    sizes = pd.read_csv(res / "tables/sample_size.csv")
    cohort = pd.read_csv(res / "cohort/cohort.csv")
    split = pd.read_csv(res / "cohort/split.csv")
    n_train = int((split["set"] == "train").sum())
    row = sizes.set_index("level").loc["level1"]
    assert row["n"] == n_train and row["parameters"] == 1 + 8 + 3   # 8 single + subtype 4 - 1
    assert row["events"] == int(cohort.merge(split)[lambda d: d["set"] == "train"]
                                ["n_positive_nodes"].gt(0).sum())
    assert "## Sample size" in summary
    assert ("is below the minimum" in summary) == (not sizes["adequate"].all())
    for level in ("level1", "level2"):
        table = pd.read_csv(res / f"tables/{level}_shap.csv")
        model = load_model(res / f"{level}/models/radiomics.joblib")
        assert set(table["explainer"]) == {explainer_kind(model)}
        assert list(table["feature"]) == sorted(
            table["feature"], key=lambda f: -table.set_index("feature").loc[f, "mean_abs_shap"])
        assert set(table["feature"]) == set(model[:-1].get_feature_names_out())
        assert table["label"].tolist() == [readable_feature_name(f) for f in table["feature"]]
        for stem in ("shap_beeswarm", "shap_bar", "feature_maps"):
            for ext in ("png", "pdf"):
                assert (res / f"figures/{level}_{stem}.{ext}").stat().st_size > 0
