"""The predictions table: what every level fit writes and every evaluation reads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Columns of ``results/predictions.csv`` that the contract fixes (DESIGN.md; never renamed).
PREDICTION_COLUMNS = ("patient_id", "level", "set", "model", "y_true", "p", "rad_score")
#: Columns the level fit adds after them, for the cascade and the Ki-67 subgroups.
PREDICTION_EXTRA_COLUMNS = ("nodal_class", "ki67")
#: Columns only the ``nested`` rows carry: the cutoff chosen inside the row's outer fold
#: (applied to that row), and over how many repeats its probability is averaged.
NESTED_EXTRA_COLUMNS = ("cutoff", "n_repeats")
#: The sets of the table: ``train`` (apparent), ``cv`` (out-of-fold on train with the
#: choices made on all of train: the tuning estimate), ``nested`` (out-of-fold of the
#: nested cross-validation: everything refitted without the patient), ``test``, and
#: ``cascade`` (lower levels scoring every test patient, for the hierarchical cascade).
SETS = ("train", "cv", "nested", "test", "cascade")


def write_predictions(df: pd.DataFrame, path: str | Path) -> None:
    """A predictions table as CSV at full precision (``%.17g``: floats read back exactly)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.17g", lineterminator="\n")
