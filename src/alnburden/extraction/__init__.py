"""Radiomics stage (``workflow/rules/features.smk``): sharded pyradiomics extraction of the
lesion and its peritumoral rings, feature robustness (ICC) and discretisation.

Modules: :mod:`~alnburden.extraction.regions` (lesion and rings in mm),
:mod:`~alnburden.extraction.extractor` (pyradiomics, sharing the image work between regions),
:mod:`~alnburden.extraction.shards` (shards of a cohort, feature files),
:mod:`~alnburden.extraction.glcm` (pyradiomics' GLCM with its O(Ng^3) steps in O(Ng^2)),
:mod:`~alnburden.extraction.perturbation` (perturbation chains in mm and degrees),
:mod:`~alnburden.extraction.robustness` (perturbed and second-reader extraction, ICC table),
:mod:`~alnburden.extraction.discretisation` (grey levels per image type and region).
Images and masks are read by :mod:`alnburden.io.images`, the one reader of the workflow.
"""
