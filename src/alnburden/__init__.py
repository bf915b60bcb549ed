"""alnburden: ultrasound radiomics of axillary lymph node burden in breast cancer.

The package holds every piece of logic of the Snakemake workflow (``workflow/``);
the scripts under ``scripts/`` only connect Snakemake's inputs and outputs to it.
"""

__version__ = "0.1.0"
