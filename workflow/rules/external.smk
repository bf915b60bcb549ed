# External validation (config/external.yaml; docs/external_validation.md): a study's
# bundle.zip applied, frozen, to each external cohort of config external.cohorts. Nothing is
# refitted; the run refuses before prediction when the cohort or its features break the
# bundle's contract (alnburden.external.contract). Outputs: results/external/<name>/.
include: "external_common.smk"


rule unpack_bundle:
    input:
        EXTERNAL["bundle"],
    output:
        directory(f"{EXT}/bundle"),
    log:
        f"{LOGS}/external/unpack_bundle.log",
    benchmark:
        f"{BENCH}/external/unpack_bundle.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("unpack_bundle.py")


rule external_cohort:
    input:
        unpack(ext_params),
        manifest=ext_manifest,
    output:
        cohort=f"{EXT}/{{cohort}}/cohort.csv",
        contract=f"{EXT}/{{cohort}}/contract.json",
    params:
        allow_mismatch=EXTERNAL["allow_mismatch"],
        validation=config["validation"],
        report=f"{EXT}/{{cohort}}/validation_report.csv",
    log:
        f"{LOGS}/external/{{cohort}}/external_cohort.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_cohort.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("external_cohort.py")


rule external_features:
    input:
        unpack(ext_params),
        cohort=f"{EXT}/{{cohort}}/cohort.csv",
    output:
        f"{EXT}/{{cohort}}/features.parquet",
    params:
        extraction=(BUNDLE_META.get("radiomics") or {}).get("extraction", {}),
    log:
        f"{LOGS}/external/{{cohort}}/external_features.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_features.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=120,
    conda:
        ENV
    script:
        script_path("external_features.py")


rule external_predict:
    input:
        unpack(ext_predict_inputs),
    output:
        predictions=f"{EXT}/{{cohort}}/predictions.csv",
        check=f"{EXT}/{{cohort}}/features_check.json",
    params:
        allow_mismatch=EXTERNAL["allow_mismatch"],
    log:
        f"{LOGS}/external/{{cohort}}/external_predict.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_predict.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("external_predict.py")


rule external_tables:
    input:
        bundle=f"{EXT}/bundle",
        predictions=f"{EXT}/{{cohort}}/predictions.csv",
    output:
        **{t: f"{EXT}/{{cohort}}/tables/{t}.csv" for t in EXT_TABLES},
    log:
        f"{LOGS}/external/{{cohort}}/external_tables.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_tables.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("external_tables.py")


rule external_figures:
    input:
        bundle=f"{EXT}/bundle",
        predictions=f"{EXT}/{{cohort}}/predictions.csv",
        dca=f"{EXT}/{{cohort}}/tables/dca.csv",
    output:
        expand(f"{EXT}/{{{{cohort}}}}/figures/{{kind}}_{{level}}.{{ext}}",
               kind=("roc", "calibration", "dca"), level=EXT_LEVELS, ext=("pdf", "png")),
    params:
        n_boot=BUNDLE_META["evaluation"].get("bootstrap", 1000),
        seed=config["seed"],
    log:
        f"{LOGS}/external/{{cohort}}/external_figures.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_figures.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("external_figures.py")


if EXT_COHORT_FIGURES:

    rule external_cohort_figures:
        input:
            **{t: f"{EXT}/{{cohort}}/tables/{t}.csv"
               for f in EXT_COHORT_FIGURES for t in COHORT_FIGURES[f]},
        output:
            expand(f"{EXT}/{{{{cohort}}}}/figures/{{fig}}.{{ext}}", fig=EXT_COHORT_FIGURES,
                   ext=("pdf", "png")),
        params:
            level_labels={lv["name"]: lv.get("description") or lv["name"]
                          for lv in BUNDLE_META["levels"]},
        log:
            f"{LOGS}/external/{{cohort}}/external_cohort_figures.log",
        benchmark:
            f"{BENCH}/external/{{cohort}}/external_cohort_figures.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("external_cohort_figures.py")


rule external_drift:
    input:
        unpack(ext_predict_inputs),
    output:
        csv=f"{EXT}/{{cohort}}/drift.csv",
        figure=f"{EXT}/{{cohort}}/figures/drift.png",
    params:
        drift=EXTERNAL["drift"],
    log:
        f"{LOGS}/external/{{cohort}}/external_drift.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_drift.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("external_drift.py")


rule external_summary:
    input:
        unpack(ext_summary_inputs),
    output:
        f"{EXT}/{{cohort}}/summary.md",
    params:
        manifest=ext_manifest,
        drift=EXTERNAL["drift"],
    log:
        f"{LOGS}/external/{{cohort}}/external_summary.log",
    benchmark:
        f"{BENCH}/external/{{cohort}}/external_summary.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("external_summary.py")
