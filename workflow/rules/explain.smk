# Explanation stage: what the radiomics model leans on (SHAP values of its learner and
# permutation importance on the test set) and the minimum sample size (Riley et al.) of each
# level's combined model. Their figures (SHAP, voxel-based feature maps) are drawn in
# figures.smk from the registry (alnburden.figures.registry.FIGURES) like every other figure.


if DESIGN.has_images:

    rule shap_values:
        input:
            model=rules.fit_level.output.radiomics_model,
            features=rules.merge_features.output.parquet,
            cohort=rules.validate_cohort.output.cohort,
            split=rules.split_cohort.output.split,
        output:
            table=report(
                f"{RESULTS}/tables/{{level}}_shap.csv",
                caption="../report/shap_table.rst",
                category="{level}",
                subcategory="SHAP",
            ),
            markdown=f"{RESULTS}/tables/{{level}}_shap.md",
            values=f"{RESULTS}/{{level}}/explain/shap_values.parquet",
        params:
            level=level_config,
            explain=config["explain"],
            seed=config["seed"],
        log:
            f"{LOGS}/shap_values/{{level}}.log",
        benchmark:
            f"{BENCH}/shap_values/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=20,
        conda:
            ENV
        script:
            script_path("shap_values.py")


if DESIGN.has_combined:

    rule sample_size:
        input:
            predictions=rules.merge_predictions.output[0],
        output:
            csv=report(
                f"{RESULTS}/tables/sample_size.csv",
                caption="../report/sample_size.rst",
                category="Tables",
            ),
            markdown=f"{RESULTS}/tables/sample_size.md",
        params:
            variables=clinical_variables(),
            levels=LEVELS,
        log:
            f"{LOGS}/sample_size.log",
        benchmark:
            f"{BENCH}/sample_size.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("sample_size.py")
