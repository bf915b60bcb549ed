"""Every figure of the study: each function receives numbers that the evaluation (or the
model) computed and draws them; none fits or resamples anything.

Modules
-------
style
    Figure style, model colours and display names, figure files (PDF + 300 dpi PNG).
curves
    ROC, calibration, decision-curve and clinical-impact figures of a level.
forest
    Forest plot of the AUC by Ki-67 subgroup.
cascade
    Heatmap of the hierarchical cascade's confusion matrix.
nomogram
    Nomogram of a level's logistic model.
cohort_examples
    Example images of the cohort with their lesion outlines.
selection
    The LASSO coefficient path and penalty choice of a level's radiomics model.
registry
    One entry per figure kind (read by the workflow's figure rules) and the driver of a
    level's curve figures.
"""
