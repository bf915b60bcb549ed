# Cohort stage: simulate (default) or take the user's manifest, validate, split, Table 1.


rule simulate_cohort:
    output:
        manifest=f"{RESULTS}/cohort/insilico/manifest.csv",
        truth=f"{RESULTS}/cohort/insilico/truth.csv",
        images=directory(f"{RESULTS}/cohort/insilico/images"),
        masks=directory(f"{RESULTS}/cohort/insilico/masks"),
    params:
        simulate=config["cohort"]["simulate"],
    log:
        f"{LOGS}/simulate_cohort.log",
    benchmark:
        f"{BENCH}/simulate_cohort.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("simulate_cohort.py")


rule validate_cohort:
    input:
        manifest=manifest_path(),
        schema=f"{workflow.basedir}/workflow/schemas/manifest.schema.yaml",
    output:
        cohort=f"{RESULTS}/cohort/cohort.csv",
    params:
        variables=clinical_variables(),
        levels=LEVEL_CONFIGS,
        validation=config["validation"],
        # the columns of a user-given (split.column) or grouped (split.group) split
        split_columns={
            "split_column": config["split"].get("column"),
            "split_group": config["split"].get("group"),
        },
        # Written on success and on failure (not a declared output, so a failed run keeps it).
        report=f"{RESULTS}/cohort/validation_report.csv",
    log:
        f"{LOGS}/validate_cohort.log",
    benchmark:
        f"{BENCH}/validate_cohort.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("validate_cohort.py")


rule split_cohort:
    input:
        cohort=rules.validate_cohort.output.cohort,
    output:
        split=f"{RESULTS}/cohort/split.csv",
    params:
        split=split_config(),
        levels=LEVELS,
    log:
        f"{LOGS}/split_cohort.log",
    benchmark:
        f"{BENCH}/split_cohort.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("split_cohort.py")


rule table1:
    input:
        cohort=rules.validate_cohort.output.cohort,
        split=rules.split_cohort.output.split,
    output:
        csv=report(
            f"{RESULTS}/tables/table1_baseline.csv",
            caption="../report/table1.rst",
            category="Cohort",
        ),
        md=f"{RESULTS}/tables/table1_baseline.md",
    params:
        variables=clinical_variables(),
        levels=LEVEL_CONFIGS,
    log:
        f"{LOGS}/table1.log",
    benchmark:
        f"{BENCH}/table1.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("table1.py")
