"""Drift of an external cohort from the training cohort, from the bundle's summaries only.

Per radiomic feature and continuous clinical variable (:func:`numeric_drift`):

* the standardized mean difference ``(mean_ext - mean_train) / sqrt((sd_train^2 + sd_ext^2) / 2)``;
* the two-sample Kolmogorov-Smirnov test between the external values and the training
  distribution. The bundle holds no patient-level data, so the training sample is rebuilt
  from its 101 stored percentiles at the ``n_train`` plotting positions ``(i - 0.5) / n``
  (:func:`training_sample`); with n up to a few hundred this reproduces the statistic to
  about 0.01 (a test checks it against the real sample);
* the share of external values outside the training range [min, max].

Per categorical clinical variable (:func:`categorical_drift`): the chi-square test of the
training vs external counts (categories with no patient in either cohort left out) and the
SMD of the category proportions (the largest absolute difference over categories, in units
of the pooled binomial SD).

A feature or variable is *drifted* when ``|SMD| >= smd_threshold`` (default 0.5, a
moderate-to-large shift) or the test's p-value is below ``alpha`` after Holm correction
over all features (default 0.05).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from alnburden.external.bundle import PERCENTILES, quantile_columns

__all__ = ["DRIFT_COLUMNS", "training_sample", "smd", "numeric_drift", "categorical_drift",
           "drift_table", "holm", "drifted_model_features", "drift_report"]

DRIFT_COLUMNS = ["kind", "name", "n_train", "n_external", "mean_train", "mean_external",
                 "sd_train", "sd_external", "smd", "test", "statistic", "p", "p_holm",
                 "outside_range", "drifted"]


def training_sample(quantiles: Sequence[float], n: int) -> np.ndarray:
    """A sample of size ``n`` following the training distribution given by its percentiles.

    Parameters
    ----------
    quantiles
        The 0th, 1st, ..., 100th percentiles (101 values, ascending).
    n
        Training size.

    Returns
    -------
    ndarray
        The piecewise-linear quantile function at ``(i - 0.5) / n``, i = 1..n.
    """
    q = np.asarray(quantiles, dtype=float)
    pos = (np.arange(1, int(n) + 1) - 0.5) / int(n) * 100.0
    return np.interp(pos, PERCENTILES, q)


def smd(mean_a: float, sd_a: float, mean_b: float, sd_b: float) -> float:
    """Standardized mean difference ``(mean_b - mean_a) / sqrt((sd_a^2 + sd_b^2) / 2)``;
    0 when both SDs are 0 and the means agree, +-inf when only the means differ."""
    pooled = np.sqrt((sd_a**2 + sd_b**2) / 2.0)
    diff = mean_b - mean_a
    if pooled == 0 or not np.isfinite(pooled):
        return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
    return float(diff / pooled)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN kept as NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    vals = p[ok]
    order = np.argsort(vals)
    m = len(vals)
    adj = np.maximum.accumulate((m - np.arange(m)) * vals[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def numeric_drift(summary: pd.Series | dict, values: np.ndarray) -> dict:
    """Drift of one numeric feature or variable (see the module notes).

    Parameters
    ----------
    summary
        Its training summary (``n, mean, sd, min, max, q000..q100``).
    values
        The external values (NaN and inf ignored).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n_tr = int(summary["n"])
    row = {"n_train": n_tr, "n_external": len(v), "mean_train": float(summary["mean"]),
           "sd_train": float(summary["sd"]), "test": "KS"}
    if len(v) == 0 or n_tr == 0:
        return row | {"mean_external": np.nan, "sd_external": np.nan, "smd": np.nan,
                      "statistic": np.nan, "p": np.nan, "outside_range": np.nan}
    sd_ext = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    ref = training_sample([summary[c] for c in quantile_columns()], n_tr)
    ks = stats.ks_2samp(ref, v)
    outside = float(np.mean((v < float(summary["min"])) | (v > float(summary["max"]))))
    return row | {"mean_external": float(v.mean()), "sd_external": sd_ext,
                  "smd": smd(row["mean_train"], row["sd_train"], float(v.mean()), sd_ext),
                  "statistic": float(ks.statistic), "p": float(ks.pvalue),
                  "outside_range": outside}


def categorical_drift(counts_train: dict[str, int], values: Sequence) -> dict:
    """Drift of one categorical variable: chi-square test of the two count vectors and the
    largest SMD of a category's proportion; categories outside the training ones count."""
    from alnburden.external.bundle import category_text

    ext = pd.Series([category_text(x) for x in values if not pd.isna(x)], dtype=object)
    cats = list(counts_train) + sorted(set(ext) - set(counts_train))
    a = np.array([counts_train.get(c, 0) for c in cats], dtype=float)
    b = np.array([(ext == c).sum() for c in cats], dtype=float)
    keep = (a + b) > 0
    row = {"n_train": int(a.sum()), "n_external": int(b.sum()), "test": "chi-square",
           "mean_train": np.nan, "mean_external": np.nan, "sd_train": np.nan,
           "sd_external": np.nan, "outside_range": float(b[a == 0].sum() / max(b.sum(), 1))}
    if a.sum() == 0 or b.sum() == 0 or keep.sum() < 2:
        return row | {"smd": np.nan, "statistic": np.nan, "p": np.nan}
    chi2, p, _, _ = stats.chi2_contingency(np.vstack([a[keep], b[keep]]), correction=False)
    pa, pb = a / a.sum(), b / b.sum()
    sd = np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(sd > 0, (pb - pa) / sd, 0.0)
    return row | {"smd": float(d[np.argmax(np.abs(d))]), "statistic": float(chi2),
                  "p": float(p)}


def drift_table(feature_summary: pd.DataFrame | None, clinical_summary: dict,
                features: pd.DataFrame | None, cohort: pd.DataFrame,
                smd_threshold: float = 0.5, alpha: float = 0.05) -> pd.DataFrame:
    """Drift of every feature and clinical variable between training and external.

    Parameters
    ----------
    feature_summary, clinical_summary
        The bundle's ``training/features.csv`` and ``training/clinical.json``.
    features
        External feature columns (with or without ``patient_id``), None without radiomics.
    cohort
        The external cohort (clinical columns).
    smd_threshold, alpha
        A row is ``drifted`` when ``|smd| >= smd_threshold`` or ``p_holm < alpha``.

    Returns
    -------
    pandas.DataFrame
        :data:`DRIFT_COLUMNS`; ``kind`` is ``feature`` or ``clinical``; sorted by kind, then
        by decreasing ``|smd|``.
    """
    rows = []
    if feature_summary is not None and features is not None:
        for _, s in feature_summary.iterrows():
            if s["feature"] in features.columns:
                rows.append({"kind": "feature", "name": s["feature"],
                             **numeric_drift(s, features[s["feature"]].to_numpy(dtype=float))})
    for name, s in clinical_summary.items():
        if name not in cohort.columns:
            continue
        if s["kind"] == "numeric":
            d = numeric_drift(s, pd.to_numeric(cohort[name], errors="coerce").to_numpy(float))
        else:
            d = categorical_drift(s["counts"], cohort[name].tolist())
        rows.append({"kind": "clinical", "name": name, **d})
    out = pd.DataFrame(rows).reindex(columns=DRIFT_COLUMNS)
    if out.empty:
        return out
    out["p_holm"] = holm(out["p"].to_numpy(dtype=float))
    out["drifted"] = (out["smd"].abs() >= smd_threshold) | (out["p_holm"] < alpha)
    out["_order"] = -out["smd"].abs().fillna(-1)
    out = out.sort_values(["kind", "_order", "name"], ascending=[False, True, True],
                          kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def drifted_model_features(drift: pd.DataFrame, used: Sequence[str]) -> pd.DataFrame:
    """The drifted rows among the features and variables the frozen models use."""
    if drift.empty:
        return drift
    return drift[drift["drifted"].astype(bool) & drift["name"].isin(set(used))]


def drift_report(bundle_dir, cohort: pd.DataFrame, features_path=None,
                 drift: dict | None = None, csv_path="drift.csv",
                 figure_path="drift.png") -> pd.DataFrame:
    """The ``external_drift`` rule: :func:`drift_table` against the bundle's training
    summaries, written as CSV + Markdown, and the drift figure
    (:func:`alnburden.external.figures.plot_drift`).

    Parameters
    ----------
    drift
        ``external.drift`` (``smd_threshold``, ``alpha``).
    """
    from alnburden.external.bundle import Bundle
    from alnburden.external.figures import plot_drift
    from alnburden.extraction.shards import read_features
    from alnburden.io import write_table

    bundle = Bundle.open(bundle_dir)
    cfg = {"smd_threshold": 0.5, "alpha": 0.05, **(drift or {})}
    features = read_features(features_path)[0] if bundle.has_images and features_path else None
    table = drift_table(bundle.feature_summary() if bundle.has_images else None,
                        bundle.clinical_summary(), features, cohort, **cfg)
    write_table(table, csv_path, title="Drift of the external cohort from the training cohort")
    used = {n for names in bundle.used_inputs().values() for n in names}
    plot_drift(table, figure_path, used=used, smd_threshold=cfg["smd_threshold"])
    return table
