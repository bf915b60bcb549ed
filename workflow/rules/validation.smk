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
            bootstrap={
                key: value
                for key, value in config.get("internal_validation", {}).get("bootstrap", {}).items()
                if key != "whole_fit"
            },
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


# The whole level fit inside the bootstrap (config internal_validation.bootstrap.whole_fit,
# off by default): one job per level x resample refits everything fit_level fits on a
# bootstrap resample of the level's training patients and scores it on the resample and on
# the original training patients (alnburden.modeling.whole_fit); merge_whole_fit gives the
# optimism-corrected indices, rows of results/tables/internal_validation.csv.
if DESIGN.has_whole_fit_bootstrap:

    rule whole_fit_resample:
        input:
            unpack(nested_fold_inputs),
        output:
            f"{RESULTS}/{{level}}/whole_fit/resample_{{b}}.csv",
        wildcard_constraints:
            b=r"\d+",
        params:
            fit=model_config(),
            level=level_config,
            variables=clinical_variables(),
            bootstrap={
                "seed": config["internal_validation"]["bootstrap"]["seed"],
                "whole_fit": config["internal_validation"]["bootstrap"]["whole_fit"],
            },
            tuning_repeats=config["internal_validation"]["nested"]["tuning_repeats"],
            robustness=config["radiomics"]["robustness"],
        log:
            f"{LOGS}/whole_fit_resample/{{level}}_{{b}}.log",
        benchmark:
            f"{BENCH}/whole_fit_resample/{{level}}_{{b}}.tsv"
        threads: 1
        resources:
            mem_mb=3000 if DESIGN.has_images else 1500,
            runtime=60 if DESIGN.has_images else 10,
        conda:
            ENV
        script:
            script_path("whole_fit_resample.py")

    rule merge_whole_fit:
        input:
            unpack(whole_fit_merge_inputs),
        output:
            report(
                f"{RESULTS}/{{level}}/internal_validation_whole_fit.csv",
                caption="../report/internal_validation_whole_fit.rst",
                category="{level}",
                subcategory="Internal validation",
            ),
        params:
            level=level_config,
            strategy=config["models"]["clinical_strategy"],
        log:
            f"{LOGS}/merge_whole_fit/{{level}}.log",
        benchmark:
            f"{BENCH}/merge_whole_fit/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("merge_whole_fit.py")
