"""Radiomics stage (``workflow/rules/features.smk``): sharded pyradiomics extraction of the
lesion and its peritumoral rings, and segmentation robustness (ICC).

Modules: :mod:`~alnburden.extraction.regions` (lesion and rings in mm),
:mod:`~alnburden.extraction.extractor` (pyradiomics, sharing the image work between regions),
:mod:`~alnburden.extraction.shards` (shards of a cohort, feature files),
:mod:`~alnburden.extraction.glcm` (pyradiomics' GLCM with its O(Ng^3) steps in O(Ng^2)),
:mod:`~alnburden.extraction.robustness` (perturbed masks, ICC table).
Images and masks are read by :mod:`alnburden.io.images`, the one reader of the workflow.
"""
