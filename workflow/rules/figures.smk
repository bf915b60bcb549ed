# Figures: every figure of the study (PDF + 300 dpi PNG), drawn from the tables and models
# that the earlier stages wrote; no rule here fits or resamples anything.


rule cohort_examples:
    input:
        cohort=rules.validate_cohort.output.cohort,
    output:
        report(
            f"{RESULTS}/figures/cohort_examples.png",
            caption="../report/cohort_examples.rst",
            category="Cohort",
        ),
        pdf=f"{RESULTS}/figures/cohort_examples.pdf",
    params:
        levels=LEVELS,
        simulated=not config["cohort"].get("manifest"),
    log:
        f"{LOGS}/cohort_examples.log",
    benchmark:
        f"{BENCH}/cohort_examples.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("cohort_examples.py")


rule level_figures:
    input:
        predictions=rules.merge_predictions.output[0],
        dca=rules.evaluation_tables.output.dca,
    output:
        **{
            kind: report(
                f"{RESULTS}/figures/{{level}}_{kind}.png",
                caption=f"../report/{kind}.rst",
                category="{level}",
                subcategory=FIGURE_TITLES[kind],
            )
            for kind in level_figure_kinds()
        },
        pdf=expand(f"{RESULTS}/figures/{{{{level}}}}_{{kind}}.pdf", kind=level_figure_kinds()),
    params:
        evaluation=config["evaluation"],
        level_label=level_label,
        seed=config["seed"],
    log:
        f"{LOGS}/level_figures/{{level}}.log",
    benchmark:
        f"{BENCH}/level_figures/{{level}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("level_figures.py")


rule nomogram:
    input:
        predictions=rules.merge_predictions.output[0],
        card=f"{RESULTS}/{{level}}/models/model_card.json",
    output:
        png=report(
            f"{RESULTS}/figures/{{level}}_nomogram.png",
            caption="../report/nomogram.rst",
            category="{level}",
            subcategory="Nomogram",
        ),
        pdf=f"{RESULTS}/figures/{{level}}_nomogram.pdf",
        points=f"{RESULTS}/tables/{{level}}_nomogram_points.csv",
    params:
        model=DESIGN.nomogram_model,
        level_label=level_label,
    log:
        f"{LOGS}/nomogram/{{level}}.log",
    benchmark:
        f"{BENCH}/nomogram/{{level}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("nomogram.py")


if HAS_KI67:

    rule subgroups_forest:
        input:
            subgroups=f"{RESULTS}/tables/subgroups.csv",
        output:
            png=report(
                f"{RESULTS}/figures/subgroups_forest.png",
                caption="../report/subgroups_forest.rst",
                category="Subgroups",
            ),
            pdf=f"{RESULTS}/figures/subgroups_forest.pdf",
        log:
            f"{LOGS}/subgroups_forest.log",
        benchmark:
            f"{BENCH}/subgroups_forest.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("subgroups_forest.py")


rule cascade_figure:
    input:
        confusion=rules.cascade.output.confusion,
        metrics=rules.cascade.output.metrics,
    output:
        png=report(
            f"{RESULTS}/figures/cascade.png", caption="../report/cascade.rst", category="Cascade"
        ),
        pdf=f"{RESULTS}/figures/cascade.pdf",
    log:
        f"{LOGS}/cascade_figure.log",
    benchmark:
        f"{BENCH}/cascade_figure.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("cascade_figure.py")
