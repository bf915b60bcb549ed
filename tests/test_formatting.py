"""The number formatters every table, summary and figure uses (alnburden.formatting)."""

import math

import numpy as np
import pytest

from alnburden.formatting import FIGURE_DASH, fmt_ci, fmt_number, fmt_p


@pytest.mark.parametrize("x, kw, out", [
    (0.8234, {}, "0.82"), (0.8234, {"digits": 3}, "0.823"), (0.03, {"signed": True}, "+0.03"),
    (-0.031, {"signed": True}, "-0.03"), (np.nan, {}, "n/a"), (None, {"missing": ""}, ""),
    (np.float64(1.0), {}, "1.00")])
def test_fmt_number(x, kw, out):
    assert fmt_number(x, **kw) == out


def test_fmt_ci():
    assert fmt_ci(0.9, 0.85, 0.951) == "0.90 (0.85-0.95)"
    assert fmt_ci(0.9, 0.85, 0.951, dash=FIGURE_DASH) == "0.90 (0.85\u20130.95)"
    assert fmt_ci(0.9, math.nan, 0.95) == "0.90", "a missing bound prints the estimate alone"
    assert fmt_ci(math.inf, 1, 2, missing="") == ""


@pytest.mark.parametrize("p, out", [(0.0004, "<0.001"), (0.001, "0.001"), (0.04567, "0.046"),
                                    (np.nan, "n/a"), (None, "n/a")])
def test_fmt_p(p, out):
    assert fmt_p(p) == out
