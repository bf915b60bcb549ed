# Explanation stage: what the radiomics model leans on (SHAP values of its learner and
# permutation importance on the test set), voxel-based maps of its top features, and the
# minimum sample size (Riley et al.) of each level's combined model. Figures come from the
# registry (alnburden.figures.registry.FIGURES) like every other figure.


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

    rule shap_figures:
        input:
            table=rules.shap_values.output.table,
            values=rules.shap_values.output.values,
        output:
            beeswarm=report(FIGURE_PNG["shap_beeswarm"], **FIGURE_REPORT["shap_beeswarm"]),
            beeswarm_pdf=FIGURE_PDF["shap_beeswarm"],
            bar=report(FIGURE_PNG["shap_bar"], **FIGURE_REPORT["shap_bar"]),
            bar_pdf=FIGURE_PDF["shap_bar"],
        params:
            level_label=level_label,
            top=config["explain"]["top_features"],
        log:
            f"{LOGS}/shap_figures/{{level}}.log",
        benchmark:
            f"{BENCH}/shap_figures/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("shap_figures.py")

    rule feature_maps:
        input:
            table=rules.shap_values.output.table,
            predictions=rules.merge_predictions.output[0],
            cohort=rules.validate_cohort.output.cohort,
            params=config_path(config["radiomics"]["params"]),
        output:
            png=report(FIGURE_PNG["feature_maps"], **FIGURE_REPORT["feature_maps"]),
            pdf=FIGURE_PDF["feature_maps"],
        params:
            level_label=level_label,
            explain=config["explain"],
            peritumoral_mm=config["radiomics"]["peritumoral_mm"],
        log:
            f"{LOGS}/feature_maps/{{level}}.log",
        benchmark:
            f"{BENCH}/feature_maps/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=3000,
            runtime=30,
        conda:
            ENV
        script:
            script_path("feature_maps.py")


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
