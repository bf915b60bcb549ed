# Evaluation stage: reads results/predictions.csv and nothing else; writes every table
# (CSV + Markdown) and the summary (which lists what the design skipped, and why). The figures are drawn by figures.smk. Which evaluation
# tables a study has, and their report captions, come from alnburden.evaluation.registry.


rule merge_predictions:
    input:
        level_predictions(),
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
        **bootstrap_inputs(),
    output:
        **{
            name: report(
                f"{RESULTS}/tables/{name}.csv",
                caption=f"../report/{TABLES[name].caption}.rst",
                category="Tables",
            )
            for name in table_names(DESIGN)
        },
        markdown=expand(f"{RESULTS}/tables/{{name}}.md", name=table_names(DESIGN)),
    params:
        tables=table_names(DESIGN),
        subgroup_models=list(DESIGN.subgroup_models),
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


if DESIGN.has_cascade:

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
        params:
            levels=LEVELS[:2],
            model=DESIGN.cascade_model,
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
        simulated=DESIGN.simulated,
        manifest=config["cohort"].get("manifest"),
        study=config["study"],
        level_labels={name: DESIGN.level_label(name) for name in LEVELS},
        cascade_model=DESIGN.cascade_model,
        skipped=skipped_parts(),
        nested=DESIGN.has_nested,
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
