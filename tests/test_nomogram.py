import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from alnburden.figures.nomogram import (_minor_ticks, draw_nomogram, risk_tick_points,
                                        total_point_ticks)
from alnburden.figures.style import save_figure
from alnburden.modeling.nomogram import DEFAULT_RISK_TICKS, Nomogram

RANGES = {"rad_score": (-3.5, 3.5), "ki67": (0.0, 90.0), "aln_us_class": [1, 2, 3, 4, 5, 6],
          "her2": {0: "negative", 1: "positive"}, "age": (25.0, 85.0)}
LABELS = {"rad_score": "Rad-score", "ki67": "Ki-67 (%)", "aln_us_class": "ALN US class",
          "her2": "HER2", "age": "Age (years)"}
COLS = list(RANGES)


def _cohort(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"rad_score": rng.normal(0, 1.2, n), "ki67": rng.uniform(1, 90, n),
                       "aln_us_class": rng.integers(1, 7, n), "her2": rng.integers(0, 2, n),
                       "age": rng.uniform(28, 80, n)})
    lp = (-2.5 + 1.1 * df.rad_score + 0.02 * df.ki67 + 0.45 * df.aln_us_class - 0.5 * df.her2
          - 0.01 * df.age)
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return df


@pytest.fixture(scope="module")
def fitted():
    df = _cohort()
    res = sm.Logit(df["y"], sm.add_constant(df[COLS])).fit(disp=0)
    nom = Nomogram(dict(zip(COLS, res.params[COLS])), res.params["const"], RANGES, labels=LABELS)
    return df, res, nom


def _new_patients(n=50, seed=1, outside=False):
    rng = np.random.default_rng(seed)
    spread = 1.5 if outside else 1.0          # also values outside the plotted ranges
    return pd.DataFrame({"rad_score": rng.uniform(-3.5, 3.5, n) * spread,
                         "ki67": rng.uniform(0, 90, n) * spread,
                         "aln_us_class": rng.integers(1, 7, n),
                         "her2": rng.integers(0, 2, n),
                         "age": rng.uniform(25, 85, n) * spread})


@pytest.mark.parametrize("outside", [False, True])
def test_points_reproduce_statsmodels_probability(fitted, outside):
    _, res, nom = fitted
    new = _new_patients(outside=outside)
    expected = res.predict(sm.add_constant(new[COLS], has_constant="add"))
    got = nom.probability_from_points(nom.total_points(new))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    assert nom.kinds == {"rad_score": "continuous", "ki67": "continuous",
                         "aln_us_class": "ordinal", "her2": "binary", "age": "continuous"}


def test_harrell_points_convention():
    # spans: a: 2 * (10 - 0) = 20 (widest -> 100 points); b: |-1| * (5 - 0) = 5 -> 25 points,
    # negative coefficient so b = 5 gets 0 points and b = 0 gets 25; c binary 4 * 1 -> 20.
    nom = Nomogram({"a": 2.0, "b": -1.0, "c": 4.0}, intercept=-1.0,
                   ranges={"a": (0, 10), "b": (0, 5), "c": [0, 1]})
    pts = nom.points({"a": [0, 10, 5], "b": [5, 0, 2], "c": [0, 1, 1]})
    np.testing.assert_allclose(pts, [[0, 0, 0], [100, 25, 20], [50, 15, 20]])
    assert nom.max_total_points == pytest.approx(145)
    assert nom.max_span == pytest.approx(20)
    # lp at 0 points: -1 + 2*0 + (-1)*5 + 4*0 = -6; 145 points: -6 + 145 * 20/100 = 23
    assert nom.lp0 == pytest.approx(-6)
    assert nom.linear_predictor_from_points(145) == pytest.approx(23)
    assert nom.points_from_probability(nom.probability_from_points(37.5)) == pytest.approx(37.5)
    # single patient as a dict of scalars
    assert nom.total_points({"a": 10, "b": 0, "c": 1}).tolist() == pytest.approx([145])


def _labels(fig, row):
    out = []
    for t in fig.axes[0].texts:
        if t.get_gid() == f"{row}:label":
            out.append((t.get_position()[0], t.get_text().replace("\u2212", "-")))
    return out


def test_drawn_risk_ticks_map_back_to_their_probabilities(fitted, tmp_path):
    _, _, nom = fitted
    fig = draw_nomogram(nom, risk_label="Risk of N+", show_lp=True)
    # total points axis: x position -> total points (linear); read it off the drawing
    tot = _labels(fig, "total_points")
    xs, vals = np.array([x for x, _ in tot]), np.array([float(v) for _, v in tot])
    slope, icpt = np.polyfit(xs, vals, 1)
    assert np.max(np.abs(slope * xs + icpt - vals)) < 1e-9
    assert vals.min() == 0 and vals.max() >= nom.max_total_points
    risk = _labels(fig, "risk")
    assert len(risk) >= 5
    for x, label in risk:
        assert float(label) in DEFAULT_RISK_TICKS
        assert nom.probability_from_points(slope * x + icpt) == pytest.approx(float(label),
                                                                              abs=1e-9)
    # the points axis is 0..100 in drawing units, so a predictor tick's x is its points
    pts_row = _labels(fig, "points")
    assert [float(v) for _, v in pts_row] == pytest.approx([x for x, _ in pts_row])
    for x, label in _labels(fig, "ki67"):
        others = {k: [RANGES[k][0] if k != "aln_us_class" else 1] for k in COLS}
        others["her2"], others["age"] = [1], [85.0]        # both get 0 points (negative betas)
        others["ki67"] = [float(label)]
        assert nom.points(others)[0, COLS.index("ki67")] == pytest.approx(x, abs=1e-9)
    her2 = dict((lab, x) for x, lab in _labels(fig, "her2"))
    assert set(her2) == {"negative", "positive"}
    assert her2["positive"] == pytest.approx(0.0)          # HER2 lowers the risk
    lp_row = _labels(fig, "linear_predictor")
    for x, label in lp_row:
        assert nom.linear_predictor_from_points(slope * x + icpt) == pytest.approx(float(label))
    out = save_figure(fig, tmp_path / "nomogram")
    assert all(p.exists() and p.stat().st_size > 5000 for p in out)


def test_points_table_matches_points(fitted):
    _, _, nom = fitted
    tab = nom.points_table()
    risk = tab[tab["axis"] == "risk"]
    np.testing.assert_allclose(nom.probability_from_points(risk["points"]), risk["value"])
    cls = tab[tab["axis"] == "aln_us_class"]
    assert cls["value"].tolist() == [1, 2, 3, 4, 5, 6]
    assert cls["points"].iloc[0] == pytest.approx(0) and cls["points"].is_monotonic_increasing


def test_zero_coefficient_is_not_drawn_and_risk_fallback():
    # b has coefficient 0 (e.g. shrunk by LASSO): 0 points, no axis; the achievable risk
    # (0.40 .. 0.60) holds only the 0.5 tick
    nom = Nomogram({"a": 0.8, "b": 0.0}, intercept=-0.4, ranges={"a": (0, 1), "b": (0, 5)})
    assert nom.points({"a": 1, "b": 5}).tolist() == [[100.0, 0.0]]
    fig = draw_nomogram(nom)
    assert _labels(fig, "a") and not _labels(fig, "b")
    assert [lab for _, lab in _labels(fig, "risk")] == ["0.5"]
    # no default tick achievable (risk expit(0.08) = 0.51999 .. expit(0.16) = 0.53991):
    # round values inside that range are used instead, still at their exact positions
    nom2 = Nomogram({"a": 0.08}, intercept=0.08, ranges={"a": (0, 1)})
    fig2 = draw_nomogram(nom2)
    risk = _labels(fig2, "risk")
    assert [lab for _, lab in risk] == ["0.52", "0.525", "0.53", "0.535"]
    tot = _labels(fig2, "total_points")
    slope, icpt = np.polyfit([x for x, _ in tot], [float(v) for _, v in tot], 1)
    for x, lab in risk:
        assert nom2.probability_from_points(slope * x + icpt) == pytest.approx(float(lab))
    import matplotlib.pyplot as plt
    plt.close("all")


def test_errors():
    with pytest.raises(ValueError, match=r"no range given for predictor\(s\) \['b'\]"):
        Nomogram({"a": 1.0, "b": 2.0}, 0.0, {"a": (0, 1)})
    with pytest.raises(ValueError, match="min < max"):
        Nomogram({"a": 1.0}, 0.0, {"a": (3, 1)})
    with pytest.raises(ValueError, match="every coefficient is 0"):
        Nomogram({"a": 0.0}, 0.0, {"a": (0, 1)})
    nom = Nomogram({"a": 1.0, "g": 0.5}, 0.0, {"a": (0, 1), "g": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"takes levels \[1.0, 2.0, 3.0\], got \[4.0\]"):
        nom.points({"a": 0.5, "g": 4})
    with pytest.raises(ValueError, match=r"missing predictor\(s\) \['g'\]"):
        nom.points({"a": 0.5})


def test_minor_ticks_split_the_labelled_step_and_stay_in_range():
    major = np.array([-5.0, 0.0])
    # 3 points per unit: a fifth of the 5-unit step is 3 points apart, so 1-unit minors
    got = _minor_ticks(major, -6.9, 1.5, scale=3.0)
    assert got.tolist() == [-6.0, -4.0, -3.0, -2.0, -1.0, 1.0]
    # 0.3 points per unit: fifths (0.3 pt) and halves (0.75 pt) too dense: none
    assert _minor_ticks(major, -6.9, 1.5, scale=0.3).size == 0
    # 1 point per unit: fifths (1 pt) too dense, halves (2.5 pt) drawn
    assert _minor_ticks(major, -6.9, 1.5, scale=1.0).tolist() == [-2.5]
    assert _minor_ticks(np.array([1.0]), 0, 2, scale=10).size == 0


def test_risk_and_total_point_ticks_are_the_models_own_numbers(fitted):
    _, _, nom = fitted
    rt, pts = risk_tick_points(nom)
    assert set(rt) <= set(DEFAULT_RISK_TICKS) and len(rt) >= 5
    assert ((pts >= 0) & (pts <= nom.max_total_points + 1e-9)).all()
    np.testing.assert_allclose(nom.probability_from_points(pts), rt)
    # a risk axis asked only for unreachable ticks falls back to round values it can reach
    rt2, pts2 = risk_tick_points(nom, risk_ticks=(1e-9,))
    assert len(rt2) >= 2 and ((pts2 >= -1e-9) & (pts2 <= nom.max_total_points + 1e-9)).all()
    tot = total_point_ticks(nom)
    assert tot[0] == 0 and tot[-1] >= nom.max_total_points
    assert tot[-2] < nom.max_total_points  # no tick beyond the first one past the maximum
