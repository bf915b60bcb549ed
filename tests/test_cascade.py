"""Tests of alnburden.evaluation.cascade (three-class cascade of level 1 and level 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_evaluation import make_predictions

from alnburden.evaluation import cascade as cs


def _tiny() -> pd.DataFrame:
    """Six test patients, hand-made, with train rows fixing both cutoffs at 0.5."""
    rows = []
    # training rows: perfectly separated at 0.4/0.6, so the Youden cutoff is 0.5
    for level in ("level1", "level2"):
        for i, (y, p) in enumerate([(0, 0.4), (0, 0.4), (1, 0.6), (1, 0.6)]):
            rows.append((f"T{i}", level, "train", "combined", y, p, "N0"))
    # test: id, class, p level1, p level2 (None = not scored at level 2)
    test = [("a", "N0", 0.2, None),      # N0   -> N0
            ("b", "N0", 0.7, 0.3),       # N0   -> N1-2 (level-2 score from 'cascade')
            ("c", "N1-2", 0.8, 0.2),     # N1-2 -> N1-2
            ("d", "N1-2", 0.3, 0.9),     # N1-2 -> N0 (missed by level 1)
            ("e", "N>=3", 0.9, 0.95),    # N>=3 -> N>=3
            ("f", "N>=3", 0.9, 0.1)]     # N>=3 -> N1-2
    for pid, cls, p1, p2 in test:
        rows.append((pid, "level1", "test", "combined", int(cls != "N0"), p1, cls))
        if cls != "N0":
            rows.append((pid, "level2", "test", "combined", int(cls == "N>=3"), p2, cls))
        if p2 is not None:
            rows.append((pid, "level2", "cascade", "combined",
                         int(cls == "N>=3") if cls != "N0" else None, p2, cls))
    df = pd.DataFrame(rows, columns=["patient_id", "level", "set", "model", "y_true", "p",
                                     "nodal_class"])
    df["rad_score"] = 0.0
    df["y_true"] = df["y_true"].astype("Int64")
    return df


def test_tiny_hand_made_case():
    casc = cs.cascade_predictions(_tiny())
    assert casc.attrs["cutoff_level1"] == pytest.approx(0.5)
    assert casc.attrs["level2_scores"] == "cascade"
    got = dict(zip(casc["patient_id"], casc["predicted_class"]))
    assert got == {"a": "N0", "b": "N1-2", "c": "N1-2", "d": "N0", "e": "N>=3", "f": "N1-2"}
    conf, met = cs.cascade_table(casc)
    assert conf["true_class"].tolist() == ["N0", "N1-2", "N>=3"]
    assert list(conf.columns) == ["true_class", "N0", "N1-2", "N>=3", "total"]
    assert conf[["N0", "N1-2", "N>=3"]].to_numpy().tolist() == [[1, 1, 0], [1, 1, 0], [0, 1, 1]]
    assert met.loc[0, "accuracy"] == pytest.approx(3 / 6)
    # hand computation of linear-weighted kappa: weights |i-j|/2
    obs = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]]) / 6
    exp = np.outer(obs.sum(1), obs.sum(0))
    w = np.abs(np.subtract.outer(range(3), range(3))) / 2
    assert met.loc[0, "kappa_linear"] == pytest.approx(1 - (w * obs).sum() / (w * exp).sum())
    assert met.loc[0, "note"] == ""


def test_without_cascade_rows_unscored_class():
    df = _tiny()
    casc = cs.cascade_predictions(df[df["set"] != "cascade"])
    assert casc.attrs["level2_scores"] == "test"
    assert casc.set_index("patient_id").loc["b", "predicted_class"] == cs.UNSCORED
    conf, met = cs.cascade_table(casc)
    assert cs.UNSCORED in conf.columns
    assert met.loc[0, "n_unscored"] == 1
    assert met.loc[0, "accuracy"] == pytest.approx(3 / 6)    # still exact
    assert np.isnan(met.loc[0, "kappa_quadratic"]) and np.isfinite(met.loc[0, "kappa"])
    assert "no level-2 score" in met.loc[0, "note"]


def test_counts_sum_to_n_on_synthetic_cohort():
    pred = make_predictions(cascade=True)
    casc = cs.cascade_predictions(pred)
    n_test = pred[(pred["level"] == "level1") & (pred["set"] == "test")]["patient_id"].nunique()
    conf, met = cs.cascade_table(casc)
    assert len(casc) == n_test == met.loc[0, "n"]
    assert conf[["N0", "N1-2", "N>=3"]].to_numpy().sum() == n_test
    assert (conf["total"].to_numpy() == casc["true_class"].value_counts()
            .reindex(cs.CLASSES, fill_value=0).to_numpy()).all()
    assert -1 <= met.loc[0, "kappa_quadratic"] <= 1
    assert met.loc[0, "n_unscored"] == 0


def test_fixed_and_bad_cutoffs():
    df = _tiny()
    casc = cs.cascade_predictions(df, cutoffs={"level1": 0.85, "level2": 0.5})
    assert casc.set_index("patient_id").loc["c", "predicted_class"] == "N0"
    with pytest.raises(ValueError, match=r"cutoffs lacks level\(s\) \['level2'\]"):
        cs.cascade_predictions(df, cutoffs={"level1": 0.5})


def test_missing_level2_score_of_node_positive_patient_is_an_error():
    df = _tiny()
    drop = (df["patient_id"] == "c") & (df["level"] == "level2")
    with pytest.raises(ValueError, match="node-positive patient"):
        cs.cascade_predictions(df[~drop])
