"""How many grey levels each image type's discretisation gives, per region.

Texture features (GLCM, GLRLM, GLSZM, GLDM, NGTDM) are computed on the discretised image; on
a handful of grey levels they measure noise, on hundreds they become sparse. The study
targets 16-128 levels per image type and region (``config/radiomics.yaml`` documents the
bin widths and counts chosen). The extraction shards record each patient's grey levels
(:meth:`alnburden.extraction.extractor.RadiomicsExtractor.grey_levels`, pyradiomics' ``Ng``);
:func:`discretisation_table` summarises them over the TRAINING patients and
:func:`low_level_warnings` names the image types whose median falls below the minimum.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

#: Fewest grey levels (median over training patients) an image type should have.
MIN_GREY_LEVELS = 16
#: Columns of ``results/features/discretisation.csv``.
DISCRETISATION_COLUMNS = ["image_type", "region", "n_patients", "median", "p05", "p95", "min",
                          "max", "below_minimum"]


def discretisation_table(levels: pd.DataFrame | Iterable[str | Path], split: pd.DataFrame,
                         minimum: int = MIN_GREY_LEVELS) -> pd.DataFrame:
    """Grey levels per image type and region over the training patients.

    Parameters
    ----------
    levels
        ``patient_id, region, image_type, grey_levels`` rows, or the shards' CSV files.
    split
        ``patient_id, set``; only ``set == "train"`` patients are summarised.
    minimum
        ``below_minimum`` is True where the median is below it.

    Returns
    -------
    pandas.DataFrame
        :data:`DISCRETISATION_COLUMNS`, sorted by image type then region; the percentiles
        are numpy's (linear interpolation).

    Raises
    ------
    ValueError
        No training patient has grey levels (the shards and the split disagree).
    """
    if not isinstance(levels, pd.DataFrame):
        levels = pd.concat([pd.read_csv(p, dtype={"patient_id": str}) for p in levels],
                           ignore_index=True)
    train = set(split.loc[split["set"] == "train", "patient_id"].astype(str))
    df = levels[levels["patient_id"].astype(str).isin(train)]
    if df.empty:
        raise ValueError(f"no grey levels of training patients among {len(levels)} rows; "
                         "rerun the extraction after the split")
    rows = []
    for (image_type, region), g in df.groupby(["image_type", "region"], sort=True):
        x = g["grey_levels"].to_numpy(dtype=float)
        p05, med, p95 = np.percentile(x, [5, 50, 95])
        rows.append({"image_type": image_type, "region": region, "n_patients": len(x),
                     "median": med, "p05": p05, "p95": p95, "min": x.min(), "max": x.max(),
                     "below_minimum": bool(med < minimum)})
    return pd.DataFrame(rows, columns=DISCRETISATION_COLUMNS)


def low_level_warnings(table: pd.DataFrame, minimum: int = MIN_GREY_LEVELS) -> list[str]:
    """One sentence per image type and region whose median is below ``minimum`` levels."""
    bad = table[table["median"] < minimum]
    return [f"image type {r.image_type}, region {r.region}: median {r.median:g} grey levels "
            f"(< {minimum}); its texture features rest on too few levels: lower its binWidth "
            "(or set a binCount) under imageType in the pyradiomics params file"
            for r in bad.itertuples()]


def discretisation_summary_lines(table: pd.DataFrame,
                                 minimum: int = MIN_GREY_LEVELS) -> list[str]:
    """Markdown lines of the summary's discretisation paragraph."""
    lo = table.loc[table["median"].idxmin()]
    lines = [f"Discretisation: median grey levels per image type and region over training "
             f"patients range from {lo['median']:g} ({lo['image_type']}, {lo['region']}) to "
             f"{table['median'].max():g} (`results/features/discretisation.csv`)."]
    warnings = low_level_warnings(table, minimum)
    lines += [f"- **Warning**: {w}." for w in warnings]
    return lines


def write_discretisation(grey_level_paths: Iterable[str | Path], split: pd.DataFrame,
                         out_path: str | Path, minimum: int = MIN_GREY_LEVELS,
                         progress_logger=None) -> pd.DataFrame:
    """The ``discretisation`` rule: :func:`discretisation_table` written as CSV + Markdown,
    a WARNING logged for every image type and region below ``minimum`` levels."""
    import logging

    from alnburden.io import write_table

    log = progress_logger or logging.getLogger(__name__)
    table = discretisation_table(list(grey_level_paths), split, minimum)
    write_table(table, out_path, title="Grey levels per image type and region (training patients)")
    for r in table.itertuples():
        log.info("%s %s: median %g grey levels (5th-95th percentile %g-%g)", r.image_type,
                 r.region, r.median, r.p05, r.p95)
    for warning in low_level_warnings(table, minimum):
        log.warning(warning)
    return table
