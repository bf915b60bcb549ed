"""The in-silico cohort's radiomic signal reaches the labels only through the pixels.

Pixels -> pyradiomics features -> the project's selection + learner gives a level-1 test AUC
well above 0.5; the same pipeline after shuffling the images between patients (clinical data
and labels kept) falls to chance. Feature extraction is a function of each image alone, so
shuffling the images is the same as permuting the rows of the extracted feature table.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from alnburden.extraction.extractor import RadiomicsExtractor
from alnburden.modeling.learners import make_learner
from alnburden.modeling.selection import build_selection
from alnburden.simulate import simulate_cohort

from test_config import ROOT

N = 200
SELECTION = {"variance_threshold": 1e-8, "redundancy": "spearman", "redundancy_threshold": 0.9,
             "mrmr_k": 0, "lasso_cv_folds": 5, "lasso_one_se": False}


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    out = tmp_path_factory.mktemp("signal")
    manifest = pd.read_csv(simulate_cohort(out, n_patients=N, seed=11))
    cohort = manifest.assign(image=[str(out / p) for p in manifest["image"]],
                             mask=[str(out / p) for p in manifest["mask"]])
    extractor = RadiomicsExtractor(ROOT / "tests/data/radiomics_fast.yaml", peritumoral_mm=(3,))
    feats = extractor.extract_cohort(cohort)
    y = (cohort["n_positive_nodes"] > 0).astype(int).to_numpy()
    return feats.drop(columns="patient_id"), y


def out_of_fold_auc(X, y, seed=0):
    """AUC of out-of-fold predictions (5 folds; selection + learner refitted in every fold)."""
    learner, _ = make_learner("logistic", seed)
    model = Pipeline([("selection", build_selection(SELECTION, None, seed)), ("learner", learner)])
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    p = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
    return roc_auc_score(y, p)


def null_sd(y):
    """SD of the AUC of an uninformative score (Hanley-McNeil under H0)."""
    n1 = int(y.sum())
    n0 = len(y) - n1
    return np.sqrt((n0 + n1 + 1) / (12 * n0 * n1))


def test_radiomics_signal_is_in_the_pixels(features):
    X, y = features
    auc = out_of_fold_auc(X, y)
    rng = np.random.default_rng(0)
    shuffled = [out_of_fold_auc(X.iloc[rng.permutation(len(X))].reset_index(drop=True), y)
                for _ in range(3)]
    sd = null_sd(y)
    assert auc > 0.5 + 3 * sd, f"no image signal: out-of-fold AUC {auc:.3f}"
    assert abs(np.mean(shuffled) - 0.5) < 3 * sd / np.sqrt(3) + 0.02, (
        f"shuffled images still predict: AUCs {np.round(shuffled, 3)}")
