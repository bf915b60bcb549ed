"""The in-silico cohort: a seeded, deterministic stand-in for the private cohorts.

It writes B-mode-like breast ultrasound images, tumour masks and a clinical table in
exactly the user-manifest format, plus ``truth.csv`` (each patient's latent
aggressiveness and true label probabilities), which the workflow never reads.
Results obtained on it are a simulation, not clinical evidence.

Modules
-------
effects
    :class:`EffectSizes`, every tunable number of the model, documented.
clinical
    Latent factor, clinical variables, node count (hurdle model), ALN class, truth.
anatomy
    Background tissue layers, speckle formation and display (log compression).
lesion
    Tumour traits, outline (the mask) and spicules.
image
    :func:`render_patient`: one image + mask.
cohort
    :func:`simulate_cohort`, :func:`simulate_tables` (no images, for calibration).
The example figure of a cohort (simulated or not) is :mod:`alnburden.figures.cohort_examples`.

Command line::

    python -m alnburden.simulate OUT_DIR --n 583 --seed 2026
"""

from __future__ import annotations

import argparse
import logging

import importlib

from alnburden.simulate.effects import EffectSizes, parse_effect_overrides

__all__ = ["EffectSizes", "MANIFEST_COLUMNS", "main", "parse_effect_overrides",
           "render_patient", "simulate_cohort", "simulate_tables"]

# The renderer pulls in scipy.ndimage, PIL and joblib: loaded on first use, so that the
# workflow can check cohort.simulate.effects at parse time (every job, on a cluster too)
# without paying for it.
_LAZY = {"MANIFEST_COLUMNS": "cohort",
         "simulate_cohort": "cohort", "simulate_tables": "cohort", "render_patient": "image"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"alnburden.simulate.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: simulate a cohort."""
    p = argparse.ArgumentParser(
        prog="python -m alnburden.simulate",
        description="Write the in-silico ALN-burden cohort (manifest.csv, images/, masks/, "
                    "truth.csv). A simulation, not clinical data.")
    p.add_argument("out_dir", help="output folder")
    p.add_argument("--n", type=int, default=583, help="number of patients (default 583)")
    p.add_argument("--seed", type=int, default=2026, help="cohort seed (default 2026)")
    p.add_argument("--node-positive-only", action="store_true",
                   help="N+ patients only (burden study)")
    p.add_argument("--high-burden-fraction", type=float, default=None,
                   help="force this fraction of N+ patients to have >= 3 nodes")
    p.add_argument("--jobs", type=int, default=1, help="rendering processes (default 1)")
    p.add_argument("--effect", action="append", default=[], metavar="NAME=VALUE",
                   help="override one EffectSizes attribute (repeatable), e.g. "
                        "--effect image_signal=0 for images that carry no signal")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        effects = EffectSizes().replace(**parse_effect_overrides(args.effect))
    except (TypeError, ValueError) as err:
        p.error(str(err))
    from alnburden.simulate.cohort import simulate_cohort

    manifest = simulate_cohort(args.out_dir, n_patients=args.n, seed=args.seed,
                               effects=effects,
                               node_positive_only=args.node_positive_only,
                               high_burden_fraction=args.high_burden_fraction,
                               n_jobs=args.jobs)
    print(manifest)
    return 0
