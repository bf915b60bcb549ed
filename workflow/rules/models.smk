# Modelling stage, one job per level: train-only selection inside CV, learners, Rad-score,
# clinical predictors, combined model; writes the level's predictions and fitted models
# (the LASSO figures are drawn from radiomics.joblib by rule selection_figures, figures.smk).
# The models follow the design (StudyDesign.arms): radiomics with images, clinical with
# clinical variables, combined with both; inputs and outputs are those of its arms.


rule fit_level:
    input:
        unpack(fit_level_inputs),
    output:
        **fit_level_outputs(),
    params:
        fit=model_config(),
        level=level_config,
        variables=clinical_variables(),
        results=results_root,
    log:
        f"{LOGS}/fit_level/{{level}}.log",
    benchmark:
        f"{BENCH}/fit_level/{{level}}.tsv"
    threads: 2 if DESIGN.has_images else 1
    resources:
        mem_mb=4000 if DESIGN.has_images else 2000,
        runtime=60 if DESIGN.has_images else 10,
    conda:
        ENV
    script:
        script_path("fit_level.py")
