# Modelling stage, one job per level: train-only selection inside CV, learners, Rad-score,
# clinical predictors, combined model; writes the level's predictions and fitted models
# (the LASSO figures are drawn from radiomics.joblib by rule selection_figures, figures.smk).

if DESIGN.has_images:

    rule fit_level:
        input:
            cohort=rules.validate_cohort.output.cohort,
            split=rules.split_cohort.output.split,
            features=rules.merge_features.output.parquet,
            icc=rules.icc.output.icc,
        output:
            predictions=f"{RESULTS}/{{level}}/predictions.csv",
            selected=report(
                f"{RESULTS}/{{level}}/selection/selected_features.csv",
                caption="../report/selected_features.rst",
                category="{level}",
                subcategory="Feature selection",
            ),
            learners=report(
                f"{RESULTS}/{{level}}/models/learners_cv.csv",
                caption="../report/learners_cv.rst",
                category="{level}",
                subcategory="Learners",
            ),
            card=f"{RESULTS}/{{level}}/models/model_card.json",
            radiomics_model=f"{RESULTS}/{{level}}/models/radiomics.joblib",
            clinical=report(
                f"{RESULTS}/tables/{{level}}_clinical_logistic.csv",
                caption="../report/clinical_logistic.rst",
                category="{level}",
                subcategory="Clinical predictors",
            ),
        params:
            fit=model_config(),
            level=level_config,
            variables=clinical_variables(),
            results=results_root,
        log:
            f"{LOGS}/fit_level/{{level}}.log",
        benchmark:
            f"{BENCH}/fit_level/{{level}}.tsv"
        threads: 2
        resources:
            mem_mb=4000,
            runtime=60,
        conda:
            ENV
        script:
            script_path("fit_level.py")

else:

    rule fit_level_clinical:
        input:
            cohort=rules.validate_cohort.output.cohort,
            split=rules.split_cohort.output.split,
        output:
            predictions=f"{RESULTS}/{{level}}/predictions.csv",
            card=f"{RESULTS}/{{level}}/models/model_card.json",
            clinical=report(
                f"{RESULTS}/tables/{{level}}_clinical_logistic.csv",
                caption="../report/clinical_logistic.rst",
                category="{level}",
                subcategory="Clinical predictors",
            ),
        params:
            fit=model_config(),
            level=level_config,
            variables=clinical_variables(),
            results=results_root,
        log:
            f"{LOGS}/fit_level/{{level}}.log",
        benchmark:
            f"{BENCH}/fit_level/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            ENV
        script:
            script_path("fit_level.py")
