"""The predictions table: what every level fit writes and every evaluation reads."""

#: Columns of ``results/predictions.csv`` that the contract fixes (DESIGN.md; never renamed).
PREDICTION_COLUMNS = ("patient_id", "level", "set", "model", "y_true", "p", "rad_score")
#: Columns the level fit adds after them, for the cascade and the Ki-67 subgroups.
PREDICTION_EXTRA_COLUMNS = ("nodal_class", "ki67")
