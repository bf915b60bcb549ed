# Bundle stage: the frozen models of every level, their cutoffs, the clinical coding, the
# extraction contract (params file + sha256, pyradiomics version, feature columns) and the
# training summaries, in results/bundle/ and results/bundle.zip: all another centre needs
# (alnburden.external.bundle; the external run is workflow/rules/external.smk).


rule bundle:
    input:
        unpack(bundle_inputs),
    output:
        folder=directory(f"{RESULTS}/bundle"),
        zip=f"{RESULTS}/bundle.zip",
    params:
        study=config["study"],
        levels=LEVEL_CONFIGS,
        variables=clinical_variables(),
        radiomics={k: config["radiomics"][k] for k in ("peritumoral_mm", "components", "fast_glcm")},
        evaluation=config["evaluation"],
        harmonization=config.get("harmonization"),
    log:
        f"{LOGS}/bundle.log",
    benchmark:
        f"{BENCH}/bundle.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("write_bundle.py")
