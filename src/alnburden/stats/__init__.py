"""Statistics of the evaluation stage: pure functions of ``y`` (0/1) and ``p`` (scores).

Modules
-------
delong
    ROC AUC with the DeLong variance (fast midrank algorithm), confidence intervals, the
    paired test of two models and the z-test of two independent AUCs.
rates
    Wilson intervals, the Youden cutoff and operating-point tables (``p >= cutoff`` is positive).
calibration
    Hosmer-Lemeshow, Brier score, calibration slope / calibration-in-the-large, binned and
    smoothed calibration curves.
dca
    Net benefit, decision curves (with treat-all / treat-none), clinical impact.
reclassification
    Continuous NRI, IDI and a stratified percentile bootstrap for any statistic.
roc
    The empirical ROC curve on a false-positive-rate grid and its pointwise bootstrap band.
"""

from .calibration import (brier, calibration_curve, calibration_slope_intercept,
                          hosmer_lemeshow, risk_groups, smoothed_calibration)
from .dca import clinical_impact, decision_curve, default_thresholds, net_benefit
from .delong import (auc_ci, auc_difference_test, delong_paired_test, delong_roc_covariance,
                     delong_roc_variance)
from .rates import operating_point, wilson_ci, youden_cutoff
from .reclassification import bootstrap_ci, idi, nri_continuous
from .roc import roc_band, tpr_at

__all__ = [
    "auc_ci", "auc_difference_test", "bootstrap_ci", "brier", "calibration_curve",
    "calibration_slope_intercept", "clinical_impact", "decision_curve", "default_thresholds",
    "delong_paired_test", "delong_roc_covariance", "delong_roc_variance", "hosmer_lemeshow",
    "idi", "net_benefit", "nri_continuous", "operating_point", "risk_groups", "roc_band",
    "smoothed_calibration", "tpr_at", "wilson_ci", "youden_cutoff",
]
