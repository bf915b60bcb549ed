"""The inputs every refit of a level reads (the nested CV's outer folds, the whole-fit
bootstrap's resamples), from the files a rule names."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from alnburden.extraction.shards import read_features
from alnburden.io import read_table

__all__ = ["ROBUSTNESS_SOURCES", "read_refit_inputs"]

#: The robustness stage's merged long tables a refit may recompute the ICC from.
ROBUSTNESS_SOURCES = ("perturbation", "readers")


def read_refit_inputs(inputs: Mapping[str, str]
                      ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None,
                                 dict[str, pd.DataFrame] | None]:
    """``cohort``, ``split``, the radiomics table and the perturbation tables by source.

    ``inputs`` maps names to paths (a rule's ``snakemake.input``): ``cohort``, ``split``,
    and for a study with images ``features`` plus any of :data:`ROBUSTNESS_SOURCES`.
    Without images the features and perturbations are None.
    """
    names = set(inputs.keys())
    has_images = "features" in names
    features = read_features(inputs["features"])[0] if has_images else None
    perturbations = ({source: read_features(inputs[source])[0]
                      for source in ROBUSTNESS_SOURCES if source in names}
                     if has_images else None)
    return read_table(inputs["cohort"]), read_table(inputs["split"]), features, perturbations
