"""The GBSG2 node-positive breast cancer table (shipped inside ``lifelines``) as a
clinical-only manifest: a real-data check of the level-2 (1-2 vs >= 3 nodes) clinical model.

GBSG2 (German Breast Cancer Study Group 2; Schumacher et al. 1994) holds 686 node-positive
patients with the positive-node count, age, tumour size, grade and receptor levels. It has
no images and no ALN ultrasound class, so the radiomics arm is skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

#: Receptor positivity threshold (fmol/mg), the usual cut-off for estrec/progrec in GBSG2.
RECEPTOR_POSITIVE_FMOL = 10

#: Clinical variables of the manifest, in the config's format.
VARIABLES = [
    {"name": "age", "type": "continuous", "min": 18, "max": 100, "unit": "years"},
    {"name": "tumor_size_mm", "type": "continuous", "min": 1, "max": 200, "unit": "mm"},
    {"name": "grade", "type": "ordinal", "levels": [1, 2, 3]},
    {"name": "er", "type": "binary"},
    {"name": "pr", "type": "binary"},
    {"name": "postmenopausal", "type": "binary"},
    {"name": "hormone_therapy", "type": "binary"},
]


def gbsg2_manifest(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """GBSG2 in the manifest format (clinical-only: no ``image``/``mask`` columns).

    Parameters
    ----------
    table
        The raw table; default ``lifelines.datasets.load_gbsg2()``.
    """
    if table is None:
        from lifelines.datasets import load_gbsg2

        table = load_gbsg2()
    grade = table["tgrade"].map({"I": 1, "II": 2, "III": 3})
    return pd.DataFrame({
        "patient_id": [f"GBSG{i + 1:04d}" for i in range(len(table))],
        "n_positive_nodes": table["pnodes"].astype(int),
        "age": table["age"].astype(int),
        "tumor_size_mm": table["tsize"].astype(int),
        "grade": grade.astype(int),
        "er": (table["estrec"] >= RECEPTOR_POSITIVE_FMOL).astype(int),
        "pr": (table["progrec"] >= RECEPTOR_POSITIVE_FMOL).astype(int),
        "postmenopausal": (table["menostat"] == "Post").astype(int),
        "hormone_therapy": (table["horTh"] == "yes").astype(int),
    })


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="manifest CSV to write")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    gbsg2_manifest().to_csv(args.out, index=False, lineterminator="\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
