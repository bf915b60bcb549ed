# Radiomics stage: sharded pyradiomics extraction (intratumoral + peritumoral rings) and
# segmentation-robustness ICC on perturbed masks of training patients.


rule extract_shard:
    input:
        cohort=rules.validate_cohort.output.cohort,
        params=config_path(config["radiomics"]["params"]),
    output:
        f"{RESULTS}/features/shards/{{shard}}.parquet",
    params:
        n_shards=N_SHARDS,
        peritumoral_mm=config["radiomics"]["peritumoral_mm"],
        components=config["radiomics"]["components"],
        fast_glcm=config["radiomics"]["fast_glcm"],
    log:
        f"{LOGS}/extract_shard/{{shard}}.log",
    benchmark:
        f"{BENCH}/extract_shard/{{shard}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        ENV
    script:
        script_path("extract_shard.py")


rule merge_features:
    input:
        expand(f"{RESULTS}/features/shards/{{shard}}.parquet", shard=SHARDS),
    output:
        parquet=f"{RESULTS}/features/radiomics.parquet",
        csv=f"{RESULTS}/features/radiomics.csv",
    log:
        f"{LOGS}/merge_features.log",
    benchmark:
        f"{BENCH}/merge_features.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("merge_features.py")


rule robustness_shard:
    input:
        cohort=rules.validate_cohort.output.cohort,
        split=rules.split_cohort.output.split,
        params=config_path(config["radiomics"]["params"]),
    output:
        f"{RESULTS}/features/robustness/{{shard}}.parquet",
    params:
        n_shards=N_SHARDS,
        peritumoral_mm=config["radiomics"]["peritumoral_mm"],
        components=config["radiomics"]["components"],
        fast_glcm=config["radiomics"]["fast_glcm"],
        robustness=config["radiomics"]["robustness"],
    log:
        f"{LOGS}/robustness_shard/{{shard}}.log",
    benchmark:
        f"{BENCH}/robustness_shard/{{shard}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        ENV
    script:
        script_path("robustness_shard.py")


rule icc:
    input:
        expand(f"{RESULTS}/features/robustness/{{shard}}.parquet", shard=SHARDS),
    output:
        icc=report(
            f"{RESULTS}/features/icc.csv",
            caption="../report/icc.rst",
            category="Radiomics",
        ),
    params:
        robustness=config["radiomics"]["robustness"],
    log:
        f"{LOGS}/icc.log",
    benchmark:
        f"{BENCH}/icc.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        script_path("icc.py")
