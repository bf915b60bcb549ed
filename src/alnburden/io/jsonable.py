"""Plain JSON values from the numpy, pathlib and pyradiomics objects the workflow records."""

from __future__ import annotations

import numpy as np


def to_jsonable(obj):
    """``obj`` with every container, numpy scalar/array and path turned into JSON values.

    Dict keys become strings; tuples, sets and arrays become lists; numpy booleans, integers
    and floats become Python ones, with NaN and infinities as None (JSON has no NaN); a
    :class:`~pathlib.Path` becomes its string; any other object that JSON cannot hold becomes
    ``str(obj)``.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if obj is None or isinstance(obj, (str, int)):
        return obj
    return str(obj)
