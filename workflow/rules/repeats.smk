# Repeated random splits (config split.repeats > 0, as WORC's random-split cross-validation):
# the whole level fit again on N seeded random splits, each repeat x level one job (the
# existing fit_level script with that repeat's split and results/repeats/r<k>/ as its
# results folder), reusing the study's features and icc.csv (the ICC filter reads no labels;
# its perturbation set was drawn from the main split's training patients). Then the test
# AUCs over the repeats with the corrected resampled t-test interval (Nadeau & Bengio 2003):
# a table (alnburden.evaluation.registry) and a figure per level (alnburden.figures.registry).

if DESIGN.has("repeated_splits"):
    if config["split"].get("column"):
        raise WorkflowError(
            "config split.repeats draws random splits but split.column fixes the split; "
            "set split.repeats: 0 or remove split.column"
        )

    REPEATS = [str(k) for k in range(DESIGN.split_repeats)]

    wildcard_constraints:
        repeat=r"\d+",

    rule repeat_split:
        input:
            cohort=rules.validate_cohort.output.cohort,
        output:
            split=f"{RESULTS}/repeats/r{{repeat}}/split.csv",
        params:
            split=split_config(),
            levels=LEVELS,
        log:
            f"{LOGS}/repeats/r{{repeat}}/split.log",
        benchmark:
            f"{BENCH}/repeats/r{{repeat}}/split.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("split_cohort.py")

    rule repeat_fit_level:
        input:
            unpack(repeat_fit_level_inputs),
        output:
            predictions=f"{RESULTS}/repeats/r{{repeat}}/{{level}}/predictions.csv",
            card=f"{RESULTS}/repeats/r{{repeat}}/{{level}}/models/model_card.json",
        params:
            fit=model_config(),
            level=level_config,
            variables=clinical_variables(),
            results=results_root,
        log:
            f"{LOGS}/repeats/r{{repeat}}/fit_level/{{level}}.log",
        benchmark:
            f"{BENCH}/repeats/r{{repeat}}/fit_level/{{level}}.tsv"
        threads: 2 if DESIGN.has_images else 1
        resources:
            mem_mb=4000 if DESIGN.has_images else 2000,
            runtime=60 if DESIGN.has_images else 10,
        conda:
            ENV
        script:
            script_path("fit_level.py")

    rule repeated_splits:
        input:
            expand(
                f"{RESULTS}/repeats/r{{repeat}}/{{level}}/predictions.csv",
                repeat=REPEATS,
                level=LEVELS,
            ),
        output:
            table=report(
                f"{RESULTS}/tables/repeated_splits.csv",
                caption="../report/repeated_splits.rst",
                category="Tables",
            ),
            markdown=f"{RESULTS}/tables/repeated_splits.md",
            aucs=f"{RESULTS}/repeats/test_aucs.csv",
        params:
            title=TABLES["repeated_splits"].title,
        log:
            f"{LOGS}/repeated_splits.log",
        benchmark:
            f"{BENCH}/repeated_splits.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("repeated_splits.py")

    rule repeated_splits_figure:
        input:
            aucs=rules.repeated_splits.output.aucs,
            table=rules.repeated_splits.output.table,
        output:
            png=report(FIGURE_PNG["repeated_splits"], **FIGURE_REPORT["repeated_splits"]),
            pdf=FIGURE_PDF["repeated_splits"],
        params:
            level_label=level_label,
        log:
            f"{LOGS}/repeated_splits_figure/{{level}}.log",
        benchmark:
            f"{BENCH}/repeated_splits_figure/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("repeated_splits_figure.py")
