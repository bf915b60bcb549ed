"""ComBat harmonisation of radiomic features across scanners or centres (config
``harmonization: {method: combat, batch: <manifest column>}``).

:class:`ComBatHarmonizer` is the first step of the selection Pipeline
(:func:`alnburden.modeling.selection.build_selection`), so it is fitted on the training rows
of every CV fold and of the final fit only. It wraps combatlearn's ``ComBat`` (Johnson, Li &
Rabinovic 2007, parametric empirical Bayes location/scale per batch; combatlearn 2.3.0, a
maintained scikit-learn-style implementation that works with numpy 2: neuroHarmonize needs
numpy < 2). It reads image features and batch labels only, never the outcome: ``y`` is
ignored.

A batch the fit did not see (an external centre, or a scanner present only in held-out
rows) cannot take ComBat's estimates: its location and scale are estimated from its own
rows, feature by feature, and mapped onto the harmonised training reference (the mean and SD
every training batch was brought to): ``x' = (x - mean_b) / sd_b * sd_ref + mean_ref``.
That uses the new batch's features only (no label) and refits nothing of the training.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

logger = logging.getLogger(__name__)

__all__ = ["ComBatHarmonizer", "EXTERNAL_BATCH_PREFIX"]

#: Prefix of the batch labels an external run gives its centre's rows, so that they are
#: always estimated from the centre's own features (never from a training batch's).
EXTERNAL_BATCH_PREFIX = "external:"


class ComBatHarmonizer(TransformerMixin, BaseEstimator):
    """ComBat location/scale harmonisation of features by batch (fit on training rows).

    Parameters
    ----------
    batch
        Batch label of every patient the pipeline may see (``pandas.Series`` indexed like
        ``X``: the patient ids). ``fit`` uses the labels of the rows it is given only.
    mean_only
        Adjust the location only (combatlearn's ``mean_only``); default False.

    Attributes
    ----------
    columns_ : ndarray of str
        Features harmonised (those with a positive variance in every training batch;
        the others pass through unchanged).
    reference_mean_, reference_sd_ : pandas.Series
        Mean and SD of the harmonised training features (the reference a new batch is
        mapped onto).
    batches_ : list[str]
        Batches seen by ``fit``.
    """

    def __init__(self, batch: pd.Series | None = None, mean_only: bool = False) -> None:
        self.batch = batch
        self.mean_only = mean_only

    def _labels(self, X: pd.DataFrame) -> pd.Series:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("ComBatHarmonizer needs a DataFrame indexed by patient id (the "
                            "batch labels are matched by index)")
        if self.batch is None:
            raise ValueError("ComBatHarmonizer has no batch labels; set harmonization.batch "
                             "to the manifest column holding each patient's scanner or centre")
        b = pd.Series(self.batch).astype(str)
        absent = [i for i in X.index if i not in b.index]
        if absent:
            raise ValueError(f"{len(absent)} patient(s) have no batch label, e.g. {absent[:5]}")
        return b.loc[X.index]

    def fit(self, X: pd.DataFrame, y=None) -> ComBatHarmonizer:
        """Fit ComBat on the rows of ``X`` (``y`` is ignored: never read)."""
        from combatlearn import ComBat

        labels = self._labels(X)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.batches_ = sorted(labels.unique())
        if len(self.batches_) < 2:
            raise ValueError(f"ComBat needs at least two batches in the training rows; found "
                             f"{self.batches_}")
        Xf = X.astype(float).replace([np.inf, -np.inf], np.nan)
        finite = Xf.notna().all()
        var_ok = Xf.groupby(labels).var(ddof=1).min() > 1e-12
        self.columns_ = np.asarray([c for c in X.columns if finite[c] and var_ok[c]], dtype=object)
        skipped = X.shape[1] - len(self.columns_)
        if skipped:
            logger.info("ComBat: %d feature(s) with missing values or no variance in a batch "
                        "pass through unchanged", skipped)
        # every label the pipeline may transform later (test rows too); fit reads the rows of X
        self.combat_ = ComBat(batch=pd.Series(self.batch).astype(str), method="johnson",
                              mean_only=self.mean_only)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.combat_.fit(Xf[self.columns_])
            harmonised = self.combat_.transform(Xf[self.columns_])
        self.reference_mean_ = harmonised.mean()
        self.reference_sd_ = harmonised.std(ddof=1)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Harmonise ``X``: seen batches with ComBat's estimates, new batches from their
        own rows against the training reference."""
        check_is_fitted(self, "combat_")
        labels = self._labels(X)
        out = X.astype(float).copy()
        cols = list(self.columns_)
        known = pd.Series(X.index.isin(self.combat_.batch.index), index=X.index)
        seen = labels.isin(self.batches_) & known
        if seen.any():
            rows = X.index[seen.to_numpy()]
            Xs = out.loc[rows, cols]
            out.loc[rows, cols] = self.combat_.transform(Xs.fillna(Xs.median())).where(
                Xs.notna()).to_numpy()
        for b in sorted(set(labels[~seen])):
            rows = X.index[(labels == b).to_numpy()]
            Xb = out.loc[rows, cols]
            mean, sd = Xb.mean(), Xb.std(ddof=1)
            if len(rows) < 3:
                logger.warning("batch %s has %d row(s): location only", b, len(rows))
                sd = pd.Series(np.nan, index=cols)
            scale = (self.reference_sd_ / sd).where((sd > 0) & sd.notna(), 1.0)
            out.loc[rows, cols] = ((Xb - mean) * scale + self.reference_mean_).to_numpy()
            logger.info("batch %s (%d rows, not seen in training): location/scale estimated "
                        "from its own features against the training reference", b, len(rows))
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "combat_")
        return np.asarray(self.feature_names_in_, dtype=object)
