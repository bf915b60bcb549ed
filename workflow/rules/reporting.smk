# Reporting stage: what a run hands to authors and clinicians, built from its own files:
# the TRIPOD+AI and CLEAR checklists (alnburden.reporting.checklists) and, for a design with
# a logistic model (combined, or clinical without images), one risk calculator per level
# (alnburden.reporting.calculator). Nothing here fits anything.
from alnburden.reporting.checklists import CHECKLISTS

CALCULATOR_MODEL = DESIGN.nomogram_model
REPORTING_TARGETS = [f"{RESULTS}/checklists/{name}.md" for name in CHECKLISTS] + (
    [f"{RESULTS}/calculator/{level}.html" for level in LEVELS] if CALCULATOR_MODEL else []
)


if CALCULATOR_MODEL:

    rule calculator:
        input:
            card=f"{RESULTS}/{{level}}/models/model_card.json",
            performance=f"{RESULTS}/tables/performance.csv",
        output:
            report(
                f"{RESULTS}/calculator/{{level}}.html",
                caption="../report/calculator.rst",
                category="{level}",
                subcategory="Risk calculator",
            ),
        params:
            model=CALCULATOR_MODEL,
            variables=clinical_variables(),
            level_label=level_label,
            label_rule=level_rule,
            simulated=DESIGN.simulated,
        log:
            f"{LOGS}/calculator/{{level}}.log",
        benchmark:
            f"{BENCH}/calculator/{{level}}.tsv"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        script:
            script_path("calculator.py")


rule checklists:
    input:
        unpack(checklist_inputs),
    output:
        **{
            f"checklist_{name}": report(
                f"{RESULTS}/checklists/{name}.md",
                caption=f"../report/checklist_{name}.rst",
                category="Checklists",
            )
            for name in CHECKLISTS
        },
    params:
        config=reporting_config(),
    log:
        f"{LOGS}/checklists.log",
    benchmark:
        f"{BENCH}/checklists.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        script_path("checklists.py")
