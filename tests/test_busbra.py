"""Extraction on real breast-ultrasound images (BUS-BRA, Gomez-Flores et al., Med Phys 2024).

Skipped when ``../shared/data/busbra`` is absent (a fresh clone does not have it). BUS-BRA
records no pixel spacing (cropped scanner exports); we assume 0.1 mm per pixel, a typical
value for a 4-5 cm linear-probe field of view on images ~350 pixels wide. The assumption
only sets the physical scale (areas, LoG sigmas in mm); it does not affect whether the
extraction runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alnburden.datasets.busbra import ASSUMED_SPACING_MM
from alnburden.extraction.extractor import RadiomicsExtractor
from alnburden.extraction.robustness import extract_perturbed

BUSBRA = Path(__file__).resolve().parents[2] / "shared" / "data" / "busbra"
PARAMS = Path(__file__).parents[1] / "config" / "radiomics.yaml"
CASES = ["0001-l", "0058-l", "0080-r"]  # a medium, a large and a small lesion

pytestmark = [
    pytest.mark.busbra,
    pytest.mark.skipif(not BUSBRA.is_dir(), reason=f"BUS-BRA not found at {BUSBRA}"),
]


def test_busbra_extraction_runs_on_real_images():
    ex = RadiomicsExtractor(PARAMS, peritumoral_mm=(3,))
    rows = []
    for case in CASES:
        f = ex.extract_patient(BUSBRA / "Images" / f"bus_{case}.png",
                               BUSBRA / "Masks" / f"mask_{case}.png",
                               spacing_mm=ASSUMED_SPACING_MM, patient_id=case)
        assert len(f) == 2 * 745
        assert np.isfinite(list(f.values())).all()
        rows.append(f)
    # the lesions are hypoechoic: darker than their 3 mm surroundings on the normalised scale
    assert all(r["intra_original_firstorder_Mean"] < r["peri3mm_original_firstorder_Mean"] for r in rows)
    areas = [r["intra_original_shape2D_PixelSurface"] for r in rows]
    assert areas[2] < areas[0] < areas[1]


def test_busbra_perturbations():
    ex = RadiomicsExtractor(PARAMS, peritumoral_mm=(3,))
    long, perturbations = extract_perturbed(ex, BUSBRA / "Images" / "bus_0001-l.png",
                                            BUSBRA / "Masks" / "mask_0001-l.png",
                                            ASSUMED_SPACING_MM, 3, 0, patient_id="0001-l")
    assert list(long["rater"]) == [0, 1, 2, 3]
    assert np.isfinite(long.drop(columns="patient_id").to_numpy(float)).all()
    # each perturbation is a plausible second contour of a real lesion, not a copy of it
    assert list(perturbations["perturbation"]) == [1, 2, 3]
    assert perturbations["dice"].between(0.6, 0.999).all()
