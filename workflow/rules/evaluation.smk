# Evaluation stage: reads results/predictions.csv (and the saved combined models for the
# nomograms) and nothing else; writes every table (CSV + Markdown) and figure (PDF + PNG).


rule merge_predictions:
    input:
        expand(f"{RESULTS}/{{level}}/predictions.csv", level=LEVELS),
    output:
        f"{RESULTS}/predictions.csv",
    log:
        f"{LOGS}/merge_predictions.log",
    benchmark:
        f"{BENCH}/merge_predictions.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("merge_predictions.py")


rule evaluation_tables:
    input:
        predictions=rules.merge_predictions.output[0],
    output:
        **{
            name: report(
                f"{RESULTS}/tables/{name}.csv",
                caption=f"../report/{TABLE_CAPTIONS.get(name, name)}.rst",
                category="Tables",
            )
            for name in EVAL_TABLES
        },
        markdown=expand(f"{RESULTS}/tables/{{name}}.md", name=EVAL_TABLES),
    params:
        evaluation=config["evaluation"],
        seed=config["seed"],
    log:
        f"{LOGS}/evaluation_tables.log",
    benchmark:
        f"{BENCH}/evaluation_tables.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("evaluation_tables.py")


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
        model=nomogram_model(),
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


rule cascade:
    input:
        predictions=rules.merge_predictions.output[0],
    output:
        confusion=report(
            f"{RESULTS}/tables/cascade_confusion.csv",
            caption="../report/cascade_table.rst",
            category="Cascade",
        ),
        metrics=f"{RESULTS}/tables/cascade_metrics.csv",
        png=report(
            f"{RESULTS}/figures/cascade.png", caption="../report/cascade.rst", category="Cascade"
        ),
        pdf=f"{RESULTS}/figures/cascade.pdf",
    params:
        levels=LEVELS[:2],
        model=nomogram_model(),
        cutoff=config["evaluation"]["cutoff"],
    log:
        f"{LOGS}/cascade.log",
    benchmark:
        f"{BENCH}/cascade.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("cascade.py")


rule summary:
    input:
        unpack(summary_inputs),
    output:
        report(f"{RESULTS}/summary.md", caption="../report/summary.rst", category="Summary"),
    params:
        published=config["published"],
        simulated=not config["cohort"].get("manifest"),
        manifest=config["cohort"].get("manifest"),
        study=config["study"],
    log:
        f"{LOGS}/summary.log",
    benchmark:
        f"{BENCH}/summary.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("summary.py")
