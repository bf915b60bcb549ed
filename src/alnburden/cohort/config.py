"""The config's clinical variables and levels, checked as the cohort stage takes them.

Problems found here are config problems (a :class:`ValueError` naming the config key), not
manifest problems: they stop the run before any row is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alnburden.levels import Level, levels_from_config, parse_rule

#: Manifest columns with a fixed meaning (clinical variables may not reuse these names).
BASE_COLUMNS = ("patient_id", "image", "mask", "pixel_spacing_mm", "n_positive_nodes",
                "mask_reader2")
#: Types a clinical variable may have (config ``clinical.variables[].type``).
VARIABLE_TYPES = ("continuous", "binary", "ordinal", "categorical")


def check_variables(variables: Sequence[dict]) -> list[dict]:
    """Copies of the config's clinical variables, each checked.

    Raises
    ------
    ValueError
        A variable without a name or a known type (:data:`VARIABLE_TYPES`), named like a
        manifest column (:data:`BASE_COLUMNS`), declared twice, or an ordinal/categorical
        variable without ``levels``.
    """
    out = []
    names = set()
    for var in variables:
        name, vtype = var.get("name"), var.get("type")
        if not name or vtype not in VARIABLE_TYPES:
            raise ValueError(f"clinical variable {var!r} needs a name and a type in "
                             f"{VARIABLE_TYPES}; fix config clinical.variables")
        if name in BASE_COLUMNS:
            raise ValueError(f"clinical variable name {name!r} is reserved for the manifest's "
                             "own column; rename the variable in config clinical.variables")
        if name in names:
            raise ValueError(f"clinical variable {name!r} is declared twice in config "
                             "clinical.variables; keep one entry")
        if vtype in ("ordinal", "categorical") and not var.get("levels"):
            raise ValueError(f"{vtype} variable {name!r} needs `levels` (its allowed values) "
                             "in config clinical.variables")
        names.add(name)
        out.append(dict(var))
    return out


def as_levels(levels: Iterable[Level | dict]) -> list[Level]:
    """The levels as :class:`~alnburden.levels.Level` objects (config dicts are converted
    and checked by :func:`~alnburden.levels.levels_from_config`)."""
    levels = list(levels)
    if levels and isinstance(levels[0], dict):
        return levels_from_config({"levels": levels})
    return levels


def check_no_label_leak(levels: list[Level], variables: list[dict]) -> None:
    """A level's label column may not also be a clinical predictor.

    Raises
    ------
    ValueError
        The column a level's label rule reads is declared in config ``clinical.variables``
        (the clinical and combined models would be given the label).
    """
    names = {v["name"] for v in variables}
    for lv in levels:
        col = parse_rule(lv.label).column
        if col in names:
            raise ValueError(
                f"level {lv.name!r} takes its label from {col!r} ({lv.label!r}), which is also "
                "declared in config clinical.variables: the clinical and combined models would "
                f"be given the label; remove {col!r} from clinical.variables")
