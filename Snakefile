# alnburden: ultrasound radiomics of axillary lymph node burden (see README.md).
from snakemake.utils import min_version
from snakemake.logging import logger

min_version("9.0")


configfile: f"{workflow.basedir}/config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/validation.smk"
include: "workflow/rules/explain.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/repeats.smk"
include: "workflow/rules/reporting.smk"
include: "workflow/rules/bundle.smk"


if config["external"].get("bundle"):  # an external-validation run (config/external.yaml)

    include: "workflow/rules/external.smk"


onsuccess:
    if not config["external"].get("bundle"):
        if study_complete():
            make_report()
        else:
            logger.info(
                "report.html not written: this run built only some targets; it is written "
                "by a run of the whole study (or `snakemake --report results/report.html`)"
            )


rule all:
    default_target: True
    input:
        external_outputs() if config["external"].get("bundle") else final_outputs(),
