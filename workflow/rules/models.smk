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


# Nested cross-validation (internal validation): the whole level fit refitted inside each
# outer fold of the level's training patients, one job per outer fold; the held-out fold's
# predictions become the `nested` rows of results/predictions.csv.
if DESIGN.has_nested:

    rule nested_fold:
        input:
            unpack(nested_fold_inputs),
        output:
            f"{RESULTS}/{{level}}/nested/fold_{{fold}}.csv",
        params:
            fit=model_config(),
            level=nested_level_config,
            variables=clinical_variables(),
            nested=config["internal_validation"]["nested"],
            robustness=config["radiomics"]["robustness"],
            cutoff=config["evaluation"]["cutoff"],
        log:
            f"{LOGS}/nested_fold/{{level}}_{{fold}}.log",
        benchmark:
            f"{BENCH}/nested_fold/{{level}}_{{fold}}.tsv"
        threads: 1
        resources:
            mem_mb=3000 if DESIGN.has_images else 1500,
            runtime=60 if DESIGN.has_images else 10,
        conda:
            ENV
        script:
            script_path("nested_fold.py")

    rule merge_nested:
        input:
            nested_fold_tables,
        output:
            predictions=f"{RESULTS}/{{level}}/nested_predictions.csv",
            repeats=f"{RESULTS}/{{level}}/nested/repeat_aucs.csv",
        log:
            f"{LOGS}/merge_nested/{{level}}.log",
        benchmark:
            f"{BENCH}/merge_nested/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("merge_nested.py")
