"""The vectorised single-rater ICCs equal pingouin's, feature by feature."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from alnburden.stats.icc import icc_single

ROWS = {"ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)"}


def _pingouin(x: np.ndarray, kind: str) -> tuple[float, float, float]:
    n, k = x.shape
    df = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n),
                       "x": x.ravel()})
    res = pg.intraclass_corr(df, targets="t", raters="r", ratings="x").set_index("Type")
    row = res.loc[ROWS[kind]]
    return float(row["ICC"]), float(row["CI95"][0]), float(row["CI95"][1])


@pytest.mark.parametrize("kind", ["ICC2", "ICC3"])
def test_equals_pingouin_on_random_features(kind):
    rng = np.random.default_rng(3)
    n, k, f = 40, 4, 6
    truth = rng.normal(size=(n, 1, f)) * rng.uniform(0.2, 3, size=f)
    shift = rng.normal(size=(1, k, f)) * rng.uniform(0, 1.5, size=f)   # systematic rater effect
    x = truth + shift + rng.normal(size=(n, k, f))
    icc, lo, hi = icc_single(x, kind)
    for j in range(f):
        ref = _pingouin(x[:, :, j], kind)
        assert icc[j] == pytest.approx(ref[0], abs=1e-10)
        # pingouin rounds its interval to 2 decimals; ours is unrounded
        np.testing.assert_allclose([lo[j], hi[j]], ref[1:], rtol=0, atol=0.005 + 1e-12)


def test_pingouin_wine_example():
    """pingouin's documented example (8 wines x 4 judges): ICC(A,1) 0.728 [0.43, 0.93]."""
    data = pg.read_dataset("icc").pivot(index="Wine", columns="Judge", values="Scores")
    icc, lo, hi = icc_single(data.to_numpy()[:, :, None], "ICC2")
    assert round(icc[0], 3) == 0.728 and round(lo[0], 2) == 0.43 and round(hi[0], 2) == 0.93


def test_absolute_agreement_sees_a_systematic_shift_consistency_does_not():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 1, 1))
    x = np.concatenate([base, base + 2.0], axis=1) + rng.normal(scale=0.05, size=(50, 2, 1))
    a, _, _ = icc_single(x, "ICC2")
    c, _, _ = icc_single(x, "ICC3")
    assert c[0] > 0.99 and a[0] < 0.4


def test_constant_and_exact_features():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(10, 1))
    x = np.stack([np.full((10, 3), 5.0), np.repeat(t, 3, axis=1)], axis=2)
    icc, lo, hi = icc_single(x)
    assert np.isnan(icc[0]) and np.isnan(lo[0])
    assert icc[1] == lo[1] == hi[1] == 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="unknown"):
        icc_single(np.zeros((3, 2, 1)), "ICC1")
    with pytest.raises(ValueError, match=">= 2 targets"):
        icc_single(np.zeros((1, 2, 1)))
    with pytest.raises(ValueError, match="finite"):
        icc_single(np.full((3, 2, 1), np.nan))
