"""How numbers are written in the study's tables, summary and figures: one set of formatters.

Every estimate, interval and p-value that a reader sees goes through these functions, so a
summary, a forest plot and a regression table print ``0.82 (0.74-0.90)`` and ``<0.001`` the
same way.
"""

from __future__ import annotations

import numpy as np

#: The dash between the bounds of an interval in text (Markdown, CSV) and in figures.
TEXT_DASH, FIGURE_DASH = "-", "\u2013"


def _finite(x) -> bool:
    return x is not None and bool(np.isfinite(x))


def fmt_number(x: float | None, digits: int = 2, missing: str = "n/a",
               signed: bool = False) -> str:
    """``x`` with ``digits`` decimals (``+0.03`` with ``signed``); ``missing`` for None or NaN."""
    if not _finite(x):
        return missing
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def fmt_ci(est: float | None, lo: float | None, hi: float | None, digits: int = 2,
           dash: str = TEXT_DASH, missing: str = "n/a") -> str:
    """``0.90 (0.85-0.95)``; the estimate alone when a bound is missing; ``missing`` for NaN.

    Parameters
    ----------
    dash
        Between the bounds: :data:`TEXT_DASH` (tables, Markdown) or :data:`FIGURE_DASH` (an en
        dash, for figures).
    """
    if not _finite(est):
        return missing
    if not (_finite(lo) and _finite(hi)):
        return fmt_number(est, digits)
    return f"{est:.{digits}f} ({lo:.{digits}f}{dash}{hi:.{digits}f})"


def fmt_p(p: float | None, missing: str = "n/a") -> str:
    """A p-value: ``<0.001``, else three decimals; ``missing`` for None or NaN."""
    if not _finite(p):
        return missing
    return "<0.001" if p < 0.001 else f"{p:.3f}"
