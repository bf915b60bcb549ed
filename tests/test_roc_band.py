"""ROC curve on a grid and its pointwise bootstrap band (alnburden.stats.roc)."""

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from alnburden.stats import roc_band, tpr_at


def scores(n, shift, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    return y, rng.normal(size=y.size) + shift * y


def test_tpr_at_reads_the_step_curve_by_hand():
    # events 0.9, 0.6; non-events 0.7, 0.2: thresholds 0.9 (0/2, 1/2), 0.7 (1/2, 1/2),
    # 0.6 (1/2, 2/2), 0.2 (2/2, 2/2)
    y, p = [1, 1, 0, 0], [0.9, 0.6, 0.7, 0.2]
    got = tpr_at(y, p, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert got.tolist() == [0.5, 0.5, 1.0, 1.0, 1.0]


def test_band_brackets_the_observed_curve_and_ends_at_the_corners():
    y, p = scores(200, 1.0, 0)
    band = roc_band(y, p, n_boot=300, random_state=1)
    fpr, tpr = band["fpr"], band["tpr"]
    assert np.allclose(tpr, tpr_at(y, p, fpr))
    inside = (band["lo"] <= tpr + 1e-12) & (tpr <= band["hi"] + 1e-12)
    assert inside.mean() > 0.95
    assert (band["hi"] - band["lo"])[20:180].min() > 0  # a real band, not a line
    assert band["lo"][-1] == band["hi"][-1] == 1.0
    obs_fpr, obs_tpr, _ = roc_curve(y, p)
    assert tpr[0] == pytest.approx(obs_tpr[obs_fpr <= 0].max())


def test_band_narrows_with_more_patients_and_is_reproducible():
    small = roc_band(*scores(60, 1.0, 2), n_boot=300, random_state=3)
    large = roc_band(*scores(1200, 1.0, 2), n_boot=300, random_state=3)
    width = lambda b: np.mean(b["hi"] - b["lo"])  # noqa: E731
    assert width(large) < 0.5 * width(small)
    again = roc_band(*scores(60, 1.0, 2), n_boot=300, random_state=3)
    assert np.array_equal(small["lo"], again["lo"]) and np.array_equal(small["hi"], again["hi"])


def test_band_of_a_useless_score_holds_the_diagonal():
    y, p = scores(400, 0.0, 4)
    band = roc_band(y, p, n_boot=400, random_state=5)
    diag = band["fpr"]
    assert np.mean((band["lo"] <= diag) & (diag <= band["hi"])) > 0.9


@pytest.mark.parametrize("kwargs, match", [
    ({"n_boot": 0}, "n_boot must be a positive integer"),
    ({"fpr_grid": [0.0, 1.5]}, "fpr_grid must be"),
    ({"alpha": 1.5}, "alpha"),
])
def test_bad_arguments(kwargs, match):
    y, p = scores(20, 1.0, 6)
    with pytest.raises(ValueError, match=match):
        roc_band(y, p, **kwargs)


def test_single_class_is_refused():
    with pytest.raises(ValueError, match="single class"):
        roc_band([1, 1, 1], [0.2, 0.5, 0.9])


@pytest.mark.parametrize("seed", range(5))
def test_tpr_at_equals_sklearns_curve_read_as_a_step(seed):
    """The closed form (count of events above the (k+1)-th highest non-event) equals
    sklearn's roc_curve read off with step(where="post"), ties included."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    p = np.round(rng.normal(size=n) + y, 1)  # rounded: many ties
    grid = np.unique(np.concatenate([np.linspace(0, 1, 101), roc_curve(y, p)[0]]))
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=False)
    expected = tpr[np.searchsorted(fpr, grid, side="right") - 1]
    assert np.allclose(tpr_at(y, p, grid), expected)
