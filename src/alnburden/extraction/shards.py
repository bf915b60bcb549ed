"""Shards of a cohort (one extraction job each) and the feature files they write.

A shard is a stable share of the patients (:func:`shard_of`: ids sorted, dealt
round-robin), so features never depend on the number of shards. Each shard writes a parquet
with the extraction's provenance in its schema metadata and a JSON sidecar
(:func:`write_features`); :func:`merge_shards` checks the shards agree and joins them.
The extraction itself is :class:`alnburden.extraction.extractor.RadiomicsExtractor`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from alnburden.extraction.extractor import RadiomicsExtractor

logger = logging.getLogger(__name__)

#: Metadata key of the features' provenance inside the parquet schema.
PARQUET_METADATA_KEY = b"alnburden"


def n_shards_for(n_patients: int, max_shards: int | str, job_slots: int = 1,
                 min_per_shard: int = 10) -> int:
    """Number of extraction shards (one job each) for a cohort.

    Parameters
    ----------
    n_patients
        Cohort size.
    max_shards
        An integer caps the count, with at least ``min_per_shard`` patients per shard (small
        cohorts are not split into tiny jobs). ``"auto"`` adapts to the run: 4 shards per
        job slot (``job_slots``: ``--cores`` on a workstation, ``--jobs`` on a cluster; 4
        keeps both cores busy until the last shard ends), at least 20 patients each.
    job_slots
        Jobs that can run at once (used by ``"auto"`` only).

    Returns
    -------
    int
        At least 1. Features do not depend on the count (each patient is measured alone and
        the merge sorts by patient), only the job sizes do.
    """
    if max_shards == "auto":
        max_shards, min_per_shard = 4 * max(1, int(job_slots)), max(int(min_per_shard), 20)
    if isinstance(max_shards, str) or int(max_shards) < 1 or int(min_per_shard) < 1:
        raise ValueError(f"shards={max_shards!r} and min_per_shard={min_per_shard} must be "
                         "integers >= 1 (or shards='auto')")
    return max(1, min(int(max_shards), int(n_patients) // int(min_per_shard)))


def shard_of(patient_ids: Iterable[str], n_shards: int) -> dict[str, int]:
    """Stable shard (0-based) of each patient: ids sorted, then dealt round-robin.

    Independent of the row order of the cohort; shards differ in size by at most one and
    none is empty when there are at least ``n_shards`` patients.
    """
    if n_shards < 1:
        raise ValueError(f"n_shards={n_shards} must be >= 1")
    ids = sorted({str(p) for p in patient_ids})
    return {pid: i % n_shards for i, pid in enumerate(ids)}


def write_features(df: pd.DataFrame, parquet_path: str | Path, metadata: Mapping,
                   csv_path: str | Path | None = None) -> Path:
    """Write a features table as parquet (provenance in the schema metadata) plus a JSON
    sidecar ``<stem>.json`` with the same provenance, and optionally a CSV copy.

    Returns
    -------
    Path
        The sidecar JSON path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet_path = Path(parquet_path)
    parquet_path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_METADATA_KEY] = json.dumps(dict(metadata), sort_keys=True).encode()
    pq.write_table(table.replace_schema_metadata(meta), parquet_path)
    sidecar = parquet_path.with_suffix(".json")
    sidecar.write_text(json.dumps(dict(metadata), indent=2, sort_keys=True) + "\n")
    if csv_path is not None:
        df.to_csv(csv_path, index=False, float_format="%.10g", lineterminator="\n")
    return sidecar


def read_features(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a parquet written by :func:`write_features`: (table, provenance dict)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(PARQUET_METADATA_KEY)
    return table.to_pandas(), (json.loads(raw) if raw else {})


def merge_shards(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Concatenate shard parquets into one table (provenance in ``df.attrs['alnburden']``).

    Key columns are ``patient_id`` (and ``rater`` for robustness shards). Rows are sorted by
    the keys, feature columns by name. Empty shards are allowed.

    Raises
    ------
    ValueError
        Shards extracted with different params (sha256), with different feature columns,
        or repeating a key.
    """
    frames, metas = [], []
    for p in paths:
        df, meta = read_features(p)
        metas.append((Path(p), meta))
        if len(df):
            frames.append((Path(p), df))
    hashes = {m.get("params_sha256") for _, m in metas}
    if len(hashes) > 1:
        raise ValueError(f"shards were extracted with different params files ({sorted(map(str, hashes))}); "
                         "delete results/features/shards and rerun")
    if not frames:
        raise ValueError(f"all {len(paths)} shards are empty; the cohort has no patient to extract")
    ref_path, ref = frames[0]
    for p, df in frames[1:]:
        if list(df.columns) != list(ref.columns):
            diff = sorted(set(df.columns) ^ set(ref.columns))[:5]
            raise ValueError(f"shard {p} has different columns from {ref_path} (e.g. {diff}); "
                             "rerun the extraction")
    keys = [c for c in ("patient_id", "rater") if c in ref.columns]
    out = pd.concat([df for _, df in frames], ignore_index=True)
    dup = out.duplicated(keys, keep=False)
    if dup.any():
        raise ValueError(f"patients {sorted(out.loc[dup, 'patient_id'].astype(str).unique())[:5]} appear "
                         "in several shards; rerun the extraction")
    features = sorted(c for c in out.columns if c not in keys)
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)[keys + features]
    out.attrs["alnburden"] = metas[0][1]
    return out


def shard_rows(cohort: pd.DataFrame, shard: int, n_shards: int) -> pd.DataFrame:
    """The rows of ``cohort`` that belong to ``shard`` (see :func:`shard_of`)."""
    owner = shard_of(cohort["patient_id"].astype(str), n_shards)
    return cohort[cohort["patient_id"].astype(str).map(owner) == int(shard)]


def extract_shard(cohort: pd.DataFrame, shard: int, n_shards: int, params_path: str | Path,
                  out_path: str | Path, peritumoral_mm: Sequence[float] = (3,),
                  components: str = "keep_all", progress_logger: logging.Logger | None = None,
                  fast_glcm: bool = True, grey_levels_path: str | Path | None = None) -> Path:
    """Extract the features of one shard of the cohort and write them (parquet + provenance);
    with ``grey_levels_path``, also each patient's grey levels per region and image type
    (CSV: ``patient_id, region, image_type, grey_levels``, read by
    :func:`alnburden.extraction.discretisation.discretisation_table`)."""
    extractor = RadiomicsExtractor(params_path, peritumoral_mm=peritumoral_mm,
                                   components=components, fast_glcm=fast_glcm)
    rows = shard_rows(cohort, shard, n_shards)
    (progress_logger or logger).info("shard %s/%s: %d patients", shard, n_shards, len(rows))
    if grey_levels_path is None:
        df = extractor.extract_cohort(rows, progress_logger)
    else:
        df, levels = extractor.extract_cohort(rows, progress_logger, with_grey_levels=True)
        levels.to_csv(grey_levels_path, index=False, lineterminator="\n")
    return write_features(df, out_path, extractor.feature_metadata())
