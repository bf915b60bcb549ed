# Internal validation of the training cohort: Harrell's bootstrap optimism correction of the
# clinical and combined logistic models (the predictor strategy repeated in every resample),
# one job per level. The table results/tables/internal_validation.csv is written by rule
# evaluation_tables (registry entry internal_validation), beside the nested CV and test.
# Only for designs with a clinical arm (StudyDesign.has_clinical).

if DESIGN.has_clinical:

    rule internal_validation_bootstrap:
        input:
            cohort=rules.validate_cohort.output.cohort,
            split=rules.split_cohort.output.split,
            predictions=f"{RESULTS}/{{level}}/predictions.csv",
        output:
            bootstrap=report(
                f"{RESULTS}/{{level}}/internal_validation_bootstrap.csv",
                caption="../report/internal_validation_bootstrap.rst",
                category="{level}",
                subcategory="Internal validation",
            ),
            stability=report(
                f"{RESULTS}/{{level}}/internal_validation_selection_stability.csv",
                caption="../report/selection_stability.rst",
                category="{level}",
                subcategory="Internal validation",
            ),
        params:
            level=level_config,
            variables=clinical_variables(),
            models=clinical_model_config(),
            seed=config["seed"],
            bootstrap=config.get("internal_validation", {}).get("bootstrap", {}),
        log:
            f"{LOGS}/internal_validation_bootstrap/{{level}}.log",
        benchmark:
            f"{BENCH}/internal_validation_bootstrap/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            ENV
        script:
            script_path("internal_validation_bootstrap.py")
