"""Numbers and lists in words, as the fillers write them."""

from __future__ import annotations


def plural(x: int, word: str) -> str:
    """``3 patients``, ``1 patient``: a count and its noun."""
    return f"{x:,} {word}{'' if x == 1 else 's'}"


def word_list(items) -> str:
    """``a, b and c`` (``none`` for no items)."""
    items = [str(i) for i in items]
    if not items:
        return "none"
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def percent(x: float) -> str:
    """A fraction as a percentage with one decimal: ``12.5 %``."""
    return f"{100 * x:.1f} %"
