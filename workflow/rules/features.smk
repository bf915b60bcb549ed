# Radiomics stage: sharded pyradiomics extraction (intratumoral + peritumoral rings), the
# grey levels each image type's discretisation gives, and feature robustness: ICC over
# perturbed images of training patients and/or over a second reader's masks.


rule extract_shard:
    input:
        cohort=rules.validate_cohort.output.cohort,
        params=config_path(config["radiomics"]["params"]),
    output:
        features=f"{RESULTS}/features/shards/{{shard}}.parquet",
        grey_levels=f"{RESULTS}/features/shards/{{shard}}.grey_levels.csv",
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


rule discretisation:
    input:
        grey_levels=expand(f"{RESULTS}/features/shards/{{shard}}.grey_levels.csv", shard=SHARDS),
        split=rules.split_cohort.output.split,
    output:
        table=report(
            f"{RESULTS}/features/discretisation.csv",
            caption="../report/discretisation.rst",
            category="Radiomics",
        ),
    log:
        f"{LOGS}/discretisation.log",
    benchmark:
        f"{BENCH}/discretisation.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("discretisation.py")


rule robustness_shard:
    input:
        cohort=rules.validate_cohort.output.cohort,
        split=rules.split_cohort.output.split,
        params=config_path(config["radiomics"]["params"]),
    output:
        features=f"{RESULTS}/features/robustness/{{shard}}.parquet",
        perturbations=f"{RESULTS}/features/robustness/{{shard}}.perturbations.csv",
    params:
        n_shards=N_SHARDS,
        peritumoral_mm=config["radiomics"]["peritumoral_mm"],
        components=config["radiomics"]["components"],
        fast_glcm=config["radiomics"]["fast_glcm"],
        robustness=robustness_settings(ROBUSTNESS),
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


rule readers_shard:
    input:
        cohort=rules.validate_cohort.output.cohort,
        split=rules.split_cohort.output.split,
        params=config_path(config["radiomics"]["params"]),
    output:
        features=f"{RESULTS}/features/readers/{{shard}}.parquet",
        dice=f"{RESULTS}/features/readers/{{shard}}.dice.csv",
    params:
        n_shards=N_SHARDS,
        peritumoral_mm=config["radiomics"]["peritumoral_mm"],
        components=config["radiomics"]["components"],
        fast_glcm=config["radiomics"]["fast_glcm"],
    log:
        f"{LOGS}/readers_shard/{{shard}}.log",
    benchmark:
        f"{BENCH}/readers_shard/{{shard}}.tsv"
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
        unpack(icc_inputs),
    output:
        **icc_outputs(),
    params:
        source=ROBUSTNESS_SOURCE,
        icc=ROBUSTNESS["icc"],
        keep_on=ROBUSTNESS["keep_on"],
        threshold=ROBUSTNESS["threshold"],
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
