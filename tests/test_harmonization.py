"""ComBat harmonisation: scanners agree after it, labels are never read, and inside the level
fit it is fitted on training rows only (spy pattern of test_leakage.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alnburden.modeling.harmonization as hz
from alnburden.external.drift import smd
from alnburden.modeling.harmonization import EXTERNAL_BATCH_PREFIX, ComBatHarmonizer
from alnburden.modeling.level_fit import fit_level
from alnburden.modeling.selection import build_selection
from test_modeling import CONFIG, LEVEL1, VARIABLES, synthetic_study


class NeverRead:
    """A label vector that fails the test if anything reads it."""

    def __getattr__(self, name):
        raise AssertionError(f"the harmonisation read the labels ({name})")

    def __array__(self, *args, **kwargs):
        raise AssertionError("the harmonisation read the labels (as an array)")

    def __len__(self):
        raise AssertionError("the harmonisation read the labels (len)")

    def __getitem__(self, key):
        raise AssertionError("the harmonisation read the labels (indexing)")


def scanner_study(n: int = 200, seed: int = 0):
    """Features of two scanners: scanner B adds a per-feature offset and scales the spread."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in range(n)]
    scanner = pd.Series(np.where(np.arange(n) % 2 == 0, "A", "B"), index=ids)
    X = pd.DataFrame(rng.normal(size=(n, 6)), index=ids, columns=[f"f{i}" for i in range(6)])
    b = (scanner == "B").to_numpy()
    X.loc[b] = X.loc[b] * np.array([1.0, 2.0, 0.5, 1.5, 1.0, 3.0]) + np.array([3, -2, 1, 5, 0.5, -4])
    return X, scanner


def _smd_between(X: pd.DataFrame, scanner: pd.Series, col: str) -> float:
    a, b = X.loc[scanner == "A", col], X.loc[scanner == "B", col]
    return smd(a.mean(), a.std(ddof=1), b.mean(), b.std(ddof=1))


def test_harmonised_scanners_agree_and_labels_are_never_read():
    X, scanner = scanner_study()
    before = [abs(_smd_between(X, scanner, c)) for c in X.columns]
    assert min(before) > 0.3  # the shift is real
    Z = ComBatHarmonizer(batch=scanner).fit(X, y=NeverRead()).transform(X)
    after = [abs(_smd_between(Z, scanner, c)) for c in X.columns]
    assert max(after) < 0.05, after
    sd_ratio = Z[scanner == "B"].std() / Z[scanner == "A"].std()
    np.testing.assert_allclose(sd_ratio, 1.0, atol=0.15)
    assert list(Z.columns) == list(X.columns) and list(Z.index) == list(X.index)


def test_new_batch_is_mapped_onto_the_training_reference():
    X, scanner = scanner_study(seed=1)
    h = ComBatHarmonizer(batch=scanner).fit(X)
    ref = h.transform(X)
    rng = np.random.default_rng(5)
    ext_ids = [f"E{i:03d}" for i in range(60)]
    Xe = pd.DataFrame(rng.normal(size=(60, 6)) * 2.5 + 7, index=ext_ids, columns=X.columns)
    h.set_params(batch=pd.Series(EXTERNAL_BATCH_PREFIX + "C", index=ext_ids))
    Ze = h.transform(Xe)
    for c in X.columns:
        assert abs(smd(ref[c].mean(), ref[c].std(), Ze[c].mean(), Ze[c].std())) < 1e-6
    # fitting nothing new: the training reference is unchanged
    h.set_params(batch=scanner)
    pd.testing.assert_frame_equal(h.transform(X), ref)


def test_selection_pipeline_starts_with_combat():
    X, scanner = scanner_study()
    sel = build_selection({"lasso_cv_folds": 3}, None, 0, batch=scanner)
    assert sel.steps[0][0] == "harmonize"
    assert build_selection({"lasso_cv_folds": 3}, None, 0).steps[0][0] == "icc"


def test_combat_inside_cv_is_fitted_on_training_rows_only(tmp_path, monkeypatch):
    cohort, split, features, icc = synthetic_study(160, 30, seed=4)
    cohort["scanner"] = np.where(np.arange(len(cohort)) % 3 == 0, "A", "B")
    b = cohort.set_index("patient_id")["scanner"] == "B"
    f = features.set_index("patient_id")
    f.loc[b.to_numpy(), f.columns[:10]] += 3.0
    features = f.reset_index()
    seen = []
    original = hz.ComBatHarmonizer.fit

    def spied(self, X, y=None):
        seen.append(frozenset(X.index))
        return original(self, X, y=NeverRead())

    monkeypatch.setattr(hz.ComBatHarmonizer, "fit", spied)
    cfg = {**CONFIG, "harmonization": {"method": "combat", "batch": "scanner"}}
    preds = fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, tmp_path)
    test_ids = set(split.loc[split["set"] == "test", "patient_id"])
    train_ids = set(split.loc[split["set"] == "train", "patient_id"])
    assert len(seen) == 7  # 3 tuning folds + 3 Rad-score folds + the final fit
    for ids in seen:
        assert not ids & test_ids and ids <= train_ids
    assert any(ids == train_ids for ids in seen)
    assert set(preds["set"]) >= {"train", "cv", "test"}


def test_combat_needs_a_batch_column(tmp_path):
    cohort, split, features, icc = synthetic_study(120, 20, seed=2)
    cfg = {**CONFIG, "harmonization": {"method": "combat", "batch": "scanner"}}
    with pytest.raises(ValueError, match="harmonization.batch is 'scanner'"):
        fit_level(cohort, split, features, icc, LEVEL1, VARIABLES, cfg, tmp_path)
