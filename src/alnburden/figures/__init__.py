"""Every figure of the study: each function receives numbers that the evaluation (or the
model) computed and draws them; none fits or resamples anything.

Modules: :mod:`~alnburden.figures.style` (style, colours, figure files).
"""
