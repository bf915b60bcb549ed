# Figures: every figure of the study (PDF + 300 dpi PNG), drawn from the tables and models
# that the earlier stages wrote; no rule here fits or resamples anything (feature_maps runs
# pyradiomics voxel-based on a few test patients: a measurement, not a fit). Which figures exist,
# their report titles and captions come from one registry, alnburden.figures.registry.FIGURES.
from alnburden.figures.registry import FIGURES, LEVEL_FIGURES_RULE, figure_files, figure_kinds

# The PNG and PDF of each figure ({level} stays a wildcard) and the PNG's report entry.
FIGURE_PNG = {kind: f"{RESULTS}/{fig.file_stem()}.png" for kind, fig in FIGURES.items()}
FIGURE_PDF = {kind: f"{RESULTS}/{fig.file_stem()}.pdf" for kind, fig in FIGURES.items()}
FIGURE_REPORT = {
    kind: dict(
        caption=f"../report/{fig.caption}.rst",
        category=fig.category or "{level}",
        subcategory=fig.title,
    )
    for kind, fig in FIGURES.items()
}
# Every figure file (PNG and PDF) of this run's study design: targets of `rule all`.
FIGURE_TARGETS = [f"{RESULTS}/{name}" for name in figure_files(DESIGN)]
LEVEL_FIGURE_KINDS = [fig.name for fig in figure_kinds(DESIGN, LEVEL_FIGURES_RULE)]
LEVEL_LABELS = {name: DESIGN.level_label(name) for name in LEVELS}


if FIGURES["cohort_examples"].applies(DESIGN):

    rule cohort_examples:
        input:
            cohort=rules.validate_cohort.output.cohort,
        output:
            png=report(FIGURE_PNG["cohort_examples"], **FIGURE_REPORT["cohort_examples"]),
            pdf=FIGURE_PDF["cohort_examples"],
        params:
            levels=LEVELS,
            level_label=LEVEL_LABELS[LEVELS[0]],
            simulated=DESIGN.simulated,
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
            kind: report(FIGURE_PNG[kind], **FIGURE_REPORT[kind])
            for kind in LEVEL_FIGURE_KINDS
        },
        pdf=[FIGURE_PDF[kind] for kind in LEVEL_FIGURE_KINDS],
    params:
        cutoff=config["evaluation"]["cutoff"],
        n_boot=config["evaluation"]["bootstrap"],
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


if FIGURES["lasso_path"].applies(DESIGN):

    rule selection_figures:
        input:
            model=rules.fit_level.output.radiomics_model,
        output:
            lasso_path=report(FIGURE_PNG["lasso_path"], **FIGURE_REPORT["lasso_path"]),
            lasso_path_pdf=FIGURE_PDF["lasso_path"],
            lasso_cv=report(FIGURE_PNG["lasso_cv"], **FIGURE_REPORT["lasso_cv"]),
            lasso_cv_pdf=FIGURE_PDF["lasso_cv"],
        log:
            f"{LOGS}/selection_figures/{{level}}.log",
        benchmark:
            f"{BENCH}/selection_figures/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("selection_figures.py")


if FIGURES["nomogram"].applies(DESIGN):

    rule nomogram:
        input:
            predictions=rules.merge_predictions.output[0],
            card=f"{RESULTS}/{{level}}/models/model_card.json",
        output:
            png=report(FIGURE_PNG["nomogram"], **FIGURE_REPORT["nomogram"]),
            pdf=FIGURE_PDF["nomogram"],
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


if FIGURES["subgroups_forest"].applies(DESIGN):

    rule subgroups_forest:
        input:
            subgroups=f"{RESULTS}/tables/subgroups.csv",
        output:
            png=report(FIGURE_PNG["subgroups_forest"], **FIGURE_REPORT["subgroups_forest"]),
            pdf=FIGURE_PDF["subgroups_forest"],
        params:
            level_labels=LEVEL_LABELS,
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


if FIGURES["cascade"].applies(DESIGN):

    rule cascade_figure:
        input:
            confusion=rules.cascade.output.confusion,
            metrics=rules.cascade.output.metrics,
        output:
            png=report(FIGURE_PNG["cascade"], **FIGURE_REPORT["cascade"]),
            pdf=FIGURE_PDF["cascade"],
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


if FIGURES["shap_beeswarm"].applies(DESIGN):

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


if FIGURES["icc_distribution"].applies(DESIGN):

    rule icc_figure:
        input:
            icc=rules.icc.output.icc,
        output:
            png=report(FIGURE_PNG["icc_distribution"], **FIGURE_REPORT["icc_distribution"]),
            pdf=FIGURE_PDF["icc_distribution"],
        params:
            threshold=config["radiomics"]["robustness"]["threshold"],
            keep_on=config["radiomics"]["robustness"]["keep_on"],
            icc=config["radiomics"]["robustness"]["icc"],
        log:
            f"{LOGS}/icc_figure.log",
        benchmark:
            f"{BENCH}/icc_figure.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("icc_figure.py")
