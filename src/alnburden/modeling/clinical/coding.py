"""Coding of the clinical variables as numbers (see :mod:`alnburden.modeling.clinical`):
each variable's coding and design terms, its float codes, the design matrix, and
:class:`CodedData`, the numeric form every strategy works on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


_TYPES = ("continuous", "binary", "ordinal", "categorical")


def declared_spec(variables: list[dict], name: str) -> dict:
    for v in variables:
        if v["name"] == name:
            return v
    raise ValueError(f"variable {name!r} is not declared in clinical.variables "
                     f"({[v['name'] for v in variables]}); add it to the config")


def _tick(v) -> str:
    """5 not 5.0, 2.5 as is."""
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


def coding_of(spec: dict) -> str | float:
    """The coding of a variable: ``"linear"``, ``"categorical"`` or a threshold (float).

    Only ordinal variables take a ``coding`` other than ``linear`` (the schema's default);
    the others have their type's coding (continuous and binary: the value; categorical:
    ``categorical``).

    Raises
    ------
    ValueError
        A ``coding`` on a non-ordinal variable, an unknown coding, a categorical coding
        without ``levels``, or a threshold that leaves one side of the declared levels empty.
    """
    name, typ, coding = spec["name"], spec.get("type"), spec.get("coding")
    if typ != "ordinal":
        if coding not in (None, "linear"):
            raise ValueError(f"variable {name!r} ({typ}) has coding {coding!r}, but only "
                             "ordinal variables take a coding; remove it or declare type: "
                             "ordinal")
        return "categorical" if typ == "categorical" else "linear"
    if coding is None or coding == "linear":
        return "linear"
    levels = spec.get("levels") or []
    if coding == "categorical":
        if len(levels) < 2:
            raise ValueError(f"ordinal variable {name!r} has coding: categorical but no "
                             "'levels' (>= 2, the first is the reference); add them")
        return "categorical"
    if isinstance(coding, Mapping) and set(coding) == {"threshold"}:
        k = float(coding["threshold"])
        if levels:
            num = [float(v) for v in levels]
            if not min(num) < k <= max(num):
                raise ValueError(f"ordinal variable {name!r}: threshold {coding['threshold']} "
                                 f"must lie above the lowest and at most the highest of its "
                                 f"levels {levels} (value >= threshold vs below)")
        return k
    raise ValueError(f"variable {name!r} has coding {coding!r}; use linear, categorical or "
                     "{threshold: k}")


def variable_terms(spec: dict) -> list[str]:
    """Design column names of one variable (``name``, ``name[level]`` or ``name>=k``)."""
    coding = coding_of(spec)
    if coding == "categorical":
        return [f"{spec['name']}[{lv}]" for lv in spec["levels"][1:]]
    if not isinstance(coding, str):
        return [f"{spec['name']}>={_tick(coding)}"]
    return [spec["name"]]


def variable_codes(df: pd.DataFrame, spec: dict) -> np.ndarray:
    """A variable's values as float codes: the number itself, or for a categorical variable
    the index of its level (NaN: missing)."""
    name, typ = spec["name"], spec.get("type")
    if name not in df.columns:
        raise ValueError(f"clinical variable {name!r} is not a column of the cohort "
                         f"(columns: {list(df.columns)[:12]}...)")
    if typ not in _TYPES:
        raise ValueError(f"variable {name!r} has type {typ!r}; use one of {_TYPES}")
    coding = coding_of(spec)
    x = df[name]
    if typ == "categorical":
        levels = [str(lv) for lv in spec.get("levels") or []]
        if len(levels) < 2:
            raise ValueError(f"categorical variable {name!r} needs >= 2 'levels' in the "
                             "config (the first is the reference)")
        s = x.astype("string")
        bad = sorted(set(s.dropna()) - set(levels))
        if bad:
            raise ValueError(f"variable {name!r} has value(s) {bad} outside its levels "
                             f"{levels}; fix the data or add the level to the config")
        index = {lv: float(i) for i, lv in enumerate(levels)}
        return np.array([np.nan if pd.isna(v) else index[v] for v in s], dtype=float)
    num = pd.to_numeric(x, errors="raise").astype(float).to_numpy()
    if coding == "categorical":
        levels = np.array([float(v) for v in spec["levels"]])
        ok = np.isnan(num) | np.isin(num, levels)
        if not ok.all():
            raise ValueError(f"variable {name!r} has value(s) "
                             f"{sorted(set(num[~ok].tolist()))[:10]} outside its levels "
                             f"{spec['levels']} (coding: categorical); fix the data or add "
                             "the level to the config")
    return num


def encode_codes(spec: dict, codes: np.ndarray) -> np.ndarray:
    """Design columns (n, n_terms) of a variable from its codes; NaN rows stay NaN."""
    coding = coding_of(spec)
    miss = np.isnan(codes)
    if coding == "categorical":
        if spec.get("type") == "categorical":
            values = np.arange(1, len(spec["levels"]), dtype=float)
        else:
            values = np.array([float(v) for v in spec["levels"][1:]])
        out = (codes[:, None] == values[None, :]).astype(float)
    elif isinstance(coding, str):
        out = codes[:, None].copy()
    else:
        out = (codes >= coding).astype(float)[:, None]
    out[miss] = np.nan
    return out


def fill_code(spec: dict, codes: np.ndarray) -> float:
    """Training fill value of a variable: median (continuous, linear/threshold ordinal) or
    mode (binary, categorical, categorical ordinal; the smallest code on ties)."""
    c = codes[~np.isnan(codes)]
    if c.size == 0:
        return np.nan
    if spec.get("type") in ("continuous", "ordinal") and coding_of(spec) != "categorical":
        return float(np.median(c))
    values, counts = np.unique(c, return_counts=True)
    return float(values[np.argmax(counts)])


def design_matrix(df: pd.DataFrame, specs: list[dict]) -> pd.DataFrame:
    """Numeric design matrix (no intercept) of the variables ``specs`` from ``df``.

    Rows keep ``df``'s index; a missing value gives NaN in every column of its variable.

    Raises
    ------
    ValueError
        A column is absent, a type or coding is unknown, or a categorical value is not in
        the declared ``levels``.
    """
    cols = {}
    for spec in specs:
        block = encode_codes(spec, variable_codes(df, spec))
        for j, term in enumerate(variable_terms(spec)):
            cols[term] = block[:, j]
    return pd.DataFrame(cols, index=df.index)


@dataclass
class CodedData:
    """Candidate variables of some patients as numbers: what every strategy works on.

    Attributes
    ----------
    specs
        The variables (config specs), in order.
    codes
        ``(n, n_variables)`` float codes (:func:`design_matrix` coding before encoding).
    design
        ``(n, n_terms)`` encoded design (NaN where the variable is missing).
    terms
        Names of the design columns.
    blocks
        Variable name -> indices of its design columns.
    """

    specs: list[dict]
    codes: np.ndarray
    design: np.ndarray
    terms: list[str]
    blocks: dict[str, np.ndarray]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, specs: Sequence[dict]) -> CodedData:
        specs = list(specs)
        codes = (np.column_stack([variable_codes(df, s) for s in specs]) if specs
                 else np.empty((len(df), 0)))
        parts, terms, blocks, j = [], [], {}, 0
        for i, s in enumerate(specs):
            block = encode_codes(s, codes[:, i])
            parts.append(block)
            terms += variable_terms(s)
            blocks[s["name"]] = np.arange(j, j + block.shape[1])
            j += block.shape[1]
        design = np.column_stack(parts) if parts else np.empty((len(df), 0))
        return cls(specs, codes, design, terms, blocks)

    def take(self, idx: np.ndarray) -> CodedData:
        """The rows ``idx`` (e.g. a bootstrap resample, repeats allowed)."""
        return CodedData(self.specs, self.codes[idx], self.design[idx], self.terms, self.blocks)

    def __len__(self) -> int:
        return self.codes.shape[0]

    @property
    def names(self) -> list[str]:
        return [s["name"] for s in self.specs]

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """Design column indices of the variables ``names``, in that order."""
        return (np.concatenate([self.blocks[n] for n in names]) if names
                else np.array([], dtype=int))

    def filled_design(self, fill: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
        """Design of ``names`` with each missing value replaced by the code ``fill[name]``."""
        out = []
        for n in names:
            i = self.names.index(n)
            c = self.codes[:, i]
            if np.isnan(c).any():
                c = np.where(np.isnan(c), fill[n], c)
                out.append(encode_codes(self.specs[i], c))
            else:
                out.append(self.design[:, self.blocks[n]])
        return np.column_stack(out) if out else np.empty((len(self), 0))
