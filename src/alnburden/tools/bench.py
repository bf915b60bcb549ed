"""Benchmarks: radiomics extraction, the study end to end, and scaling with cohort size.

One command runs them all (34 min on an idle 2-core machine) and writes ``results/benchmarks/``::

    python -m alnburden.tools.bench all --cores 2

or one at a time:

``python -m alnburden.tools.bench extraction --source insilico|busbra --n 40 --cores 2``
    times, on the same ``n`` images and with the same number of worker processes, the
    workload of the radiomics stage for one patient -- lesion + peritumoral ring for the
    original mask and for ``--n-perturbations`` perturbed masks (the robustness ICC step) --
    done three ways:

    ``shared``
        :func:`alnburden.extraction.robustness.extract_perturbed`, as the workflow runs it: the image
        is read, normalised, resampled and filtered once; every region of every mask is
        measured on it, GLCM through :class:`alnburden.extraction.glcm.FastGLCM`.
    ``shared_stock_glcm``
        the same with stock pyradiomics GLCM (``fast_glcm=False``): what sharing alone gives.
    ``plain``
        a serial pyradiomics loop: one ``RadiomicsFeatureExtractor(params).execute(image,
        region)`` per image, region and mask (the textbook way).

    All run in a ``ProcessPoolExecutor`` of ``--cores`` workers (one image per task), in
    ``--repeats`` rotating rounds (median kept). Writes ``extraction_<source>.csv`` with
    images/s, the speed-up and the largest relative feature difference from ``plain`` on
    the first image. ``--source insilico`` uses the simulator; ``--source busbra`` the first
    ``n`` BUS-BRA images (no spacing recorded: 0.1 mm assumed).
``python -m alnburden.tools.bench study --cores 2``
    the default study (583 patients) from scratch in ``<out>/study/``: wall time, its stages
    (cohort / extraction / after extraction) and the per-rule breakdown -> ``study.csv``,
    ``study/results/benchmarks/rules.csv``.
``python -m alnburden.tools.bench scaling --sizes 150 300 600 1200 --cores 2``
    the study at each size -> ``scaling.csv`` and ``scaling.pdf/png`` (time per patient by
    stage: flat means linear scaling).
``python -m alnburden.tools.bench rules --results results``
    the per-rule breakdown of any finished run.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from alnburden.datasets.busbra import ASSUMED_SPACING_MM
from alnburden.extraction.extractor import RadiomicsExtractor, params_sha256
from alnburden.extraction.regions import region_masks
from alnburden.extraction.robustness import extract_perturbed, patient_rng, perturbed_pairs
from alnburden.io import write_table
from alnburden.simulate.image import render_patient
from alnburden.tools.runs import ROOT, rule_breakdown
from alnburden.tools.scaling import bench_scaling, time_study

logger = logging.getLogger(__name__)

BUSBRA_DEFAULT = ROOT.parent / "shared" / "data" / "busbra"
SEED = 2026


# -- images ----------------------------------------------------------------------------------
def _write_png(path: Path, arr: np.ndarray) -> str:
    sitk.WriteImage(sitk.GetImageFromArray(np.asarray(arr, dtype=np.uint8)), str(path))
    return str(path)


def make_images(source: str, n: int, folder: Path, busbra: Path = BUSBRA_DEFAULT) -> pd.DataFrame:
    """``n`` (image, mask, spacing) rows of ``source`` (files written to ``folder`` if needed)."""
    rows = []
    if source == "busbra":
        images = sorted((busbra / "Images").glob("bus_*.png"))[:n]
        if len(images) < n:
            raise FileNotFoundError(f"only {len(images)} BUS-BRA images under {busbra}; need {n}")
        for p in images:
            mask = busbra / "Masks" / p.name.replace("bus_", "mask_")
            rows.append({"patient_id": p.stem, "image": str(p), "mask": str(mask),
                         "pixel_spacing_mm": ASSUMED_SPACING_MM})
        return pd.DataFrame(rows)
    if source != "insilico":
        raise ValueError(f"source {source!r} is unknown; use insilico or busbra")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for i in range(n):
        pid = f"S{i:04d}"
        r = render_patient(SEED, i, float(rng.normal()), float(rng.uniform(10, 35)))
        rows.append({"patient_id": pid, "image": _write_png(folder / f"{pid}.png", r.image),
                     "mask": _write_png(folder / f"{pid}_mask.png", np.asarray(r.mask) * 255),
                     "pixel_spacing_mm": r.spacing_mm})
    return pd.DataFrame(rows)


# -- workers ---------------------------------------------------------------------------------
_STATE: dict = {}


def _init(params: str, peritumoral: tuple, n_perturbations: int) -> None:
    import radiomics

    radiomics.setVerbosity(logging.ERROR)
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    from radiomics import featureextractor

    _STATE.update(peritumoral=peritumoral, n=n_perturbations,
                  shared=RadiomicsExtractor(params, peritumoral),
                  shared_stock=RadiomicsExtractor(params, peritumoral, fast_glcm=False),
                  plain=featureextractor.RadiomicsFeatureExtractor(params))


def _shared_task(row: dict, extractor: str = "shared") -> dict:
    long, _ = extract_perturbed(_STATE[extractor], row["image"], row["mask"],
                                row["pixel_spacing_mm"], _STATE["n"],
                                patient_rng(SEED, row["patient_id"]), patient_id=row["patient_id"])
    return long.iloc[0].drop(["patient_id", "rater"]).to_dict()


def _shared_stock_task(row: dict) -> dict:
    return _shared_task(row, "shared_stock")


def _plain_task(row: dict) -> dict:
    ex, extractor = _STATE["plain"], _STATE["shared"]
    image, mask, _ = extractor.load_patient(row["image"], row["mask"], row["pixel_spacing_mm"])
    pairs = [(image, mask, None)] + perturbed_pairs(image, mask, _STATE["n"],
                                                    patient_rng(SEED, row["patient_id"]))
    first = {}
    for rater, (im, m, _) in enumerate(pairs):
        for name, region in region_masks(m, _STATE["peritumoral"]).items():
            out = ex.execute(im, region)
            if rater == 0:
                first.update({f"{name}_{k}": float(v) for k, v in out.items()
                              if not k.startswith("diagnostics_")})
    return first


def _run(task, rows: list[dict], cores: int, initargs: tuple) -> tuple[float, list[dict]]:
    with ProcessPoolExecutor(max_workers=cores, initializer=_init, initargs=initargs) as pool:
        list(pool.map(_noop, range(cores)))  # start the workers before timing
        t0 = time.perf_counter()
        results = list(pool.map(task, rows, chunksize=1))
        return time.perf_counter() - t0, results


def _noop(_):
    return None


METHODS = {"shared": _shared_task, "shared_stock_glcm": _shared_stock_task, "plain": _plain_task}


def _max_rel_diff(a: dict, b: dict) -> float:
    if set(a) != set(b):
        return float("inf")
    x = np.array([a[k] for k in sorted(a)], dtype=float)
    y = np.array([b[k] for k in sorted(a)], dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(y), np.finfo(float).tiny)))


def bench_extraction(source: str, n: int, cores: int, params: str | Path,
                     peritumoral_mm: tuple = (3.0,), n_perturbations: int = 3,
                     out_dir: str | Path = "results/benchmarks",
                     busbra: Path = BUSBRA_DEFAULT, repeats: int = 1) -> pd.DataFrame:
    """Time the shared and the plain extraction on the same images; write the CSV.

    The methods run one after the other, ``repeats`` rounds in rotating order (so a change
    of machine load does not favour one method); each method's time is its median round.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``source, method, n_images, cores, repeats, masks_per_image,
        regions_per_image, wall_s, images_per_s, core_s_per_image, speedup_vs_plain,
        max_rel_diff_vs_plain`` (over every feature of the first image; 0 = bit-identical),
        ``pyradiomics_version, params_sha256``.
    """
    import radiomics

    params = str(params)
    names = list(METHODS)
    times: dict[str, list[float]] = {m: [] for m in names}
    first: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="alnburden-bench-") as tmp:
        cohort = make_images(source, n, Path(tmp), busbra)
        rows = cohort.to_dict("records")
        initargs = (params, tuple(peritumoral_mm), n_perturbations)
        for r in range(int(repeats)):
            for method in names[r % len(names):] + names[:r % len(names)]:
                wall, results = _run(METHODS[method], rows, cores, initargs)
                times[method].append(wall)
                first.setdefault(method, results[0])
                logger.info("round %d %s: %.1f s", r + 1, method, wall)
    masks = 1 + n_perturbations
    regions = masks * (1 + len(peritumoral_mm))
    wall = {m: float(np.median(t)) for m, t in times.items()}
    out = pd.DataFrame([
        {"source": source, "method": method, "n_images": n, "cores": cores,
         "repeats": int(repeats), "masks_per_image": masks, "regions_per_image": regions,
         "wall_s": wall[method], "images_per_s": n / wall[method],
         "core_s_per_image": wall[method] * cores / n,
         "speedup_vs_plain": wall["plain"] / wall[method],
         "max_rel_diff_vs_plain": _max_rel_diff(first[method], first["plain"]),
         "pyradiomics_version": radiomics.__version__,
         "params_sha256": params_sha256(params)[:12]}
        for method in names])
    out_dir = Path(out_dir)
    write_table(out, out_dir / f"extraction_{source}.csv",
                title=f"Radiomics extraction benchmark ({source})")
    return out


def _print(table: pd.DataFrame, floatfmt: str = ".2f") -> None:
    print(table.to_markdown(index=False, floatfmt=floatfmt), flush=True)


def _extraction(args) -> None:
    table = bench_extraction(args.source, args.n, args.cores, args.params,
                             tuple(args.peritumoral_mm), args.n_perturbations, args.out,
                             Path(args.busbra), args.repeats)
    _print(table.drop(columns=["pyradiomics_version", "params_sha256"]), ".3g")
    s = table.set_index("method")
    print(f"{args.source}: shared {s.loc['shared', 'images_per_s']:.2f} images/s, plain "
          f"{s.loc['plain', 'images_per_s']:.2f} images/s: {s.loc['shared', 'speedup_vs_plain']:.2f}x "
          f"(sharing alone {s.loc['shared_stock_glcm', 'speedup_vs_plain']:.2f}x); "
          f"{int(s.loc['shared', 'regions_per_image'])} regions per image, {args.cores} cores",
          flush=True)


def _study(args) -> None:
    row, rules = time_study(args.patients, Path(args.out) / "study", args.cores)
    table = pd.DataFrame([row])
    write_table(table, Path(args.out) / "study.csv", float_format="%.1f",
                title=f"Default study end to end ({args.cores} cores)")
    _print(table, ".1f")
    _print(rules, ".1f")


def _scaling(args) -> None:
    _print(bench_scaling(args.sizes, args.cores, args.out), ".3f")


def _rules(args) -> None:
    table = rule_breakdown(args.results)
    write_table(table, Path(args.results) / "benchmarks" / "rules.csv", float_format="%.1f",
                title="Per-rule time (sum over jobs) and peak memory")
    _print(table, ".1f")


def _parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m alnburden.tools.bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "extraction": sub.add_parser("extraction", help="shared vs plain pyradiomics extraction"),
        "study": sub.add_parser("study", help="the default study end to end, per-rule breakdown"),
        "scaling": sub.add_parser("scaling", help="the study at several cohort sizes"),
        "all": sub.add_parser("all", help="extraction (in-silico, and BUS-BRA when present), "
                              "study and scaling, one after the other"),
    }
    for name, p in commands.items():
        p.add_argument("--cores", type=int, default=2, help="cores (worker processes) for every method")
        p.add_argument("--out", default="results/benchmarks", help="output folder")
        if name in ("extraction", "all"):
            p.add_argument("--n", type=int, default=40, help="number of images")
            p.add_argument("--repeats", type=int, default=2,
                           help="rounds per method, in rotating order; the median is kept")
            p.add_argument("--params", default=str(ROOT / "config" / "radiomics.yaml"),
                           help="pyradiomics params file")
            p.add_argument("--peritumoral-mm", type=float, nargs="*", default=[3.0])
            p.add_argument("--n-perturbations", type=int, default=3)
            p.add_argument("--busbra", default=str(BUSBRA_DEFAULT), help="BUS-BRA folder")
        if name == "extraction":
            p.add_argument("--source", choices=["insilico", "busbra"], default="insilico")
        if name in ("study", "all"):
            p.add_argument("--patients", type=int, default=583, help="cohort size of the study run")
        if name in ("scaling", "all"):
            p.add_argument("--sizes", type=int, nargs="+", default=[150, 300, 600, 1200])
    r = sub.add_parser("rules", help="per-rule time and memory of a finished run (benchmark files)")
    r.add_argument("--results", default="results", help="the run's results folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (``python -m alnburden.tools.bench``); returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("radiomics").setLevel(logging.ERROR)  # per-image chatter
    logging.getLogger("pykwalify").setLevel(logging.WARNING)  # "validation.valid" per params load
    if args.command == "rules":
        _rules(args)
    elif args.command == "extraction":
        _extraction(args)
    elif args.command == "study":
        _study(args)
    elif args.command == "scaling":
        _scaling(args)
    else:
        for source in ("insilico", "busbra"):
            if source == "busbra" and not Path(args.busbra).is_dir():
                print(f"BUS-BRA not found at {args.busbra}: its extraction benchmark is skipped")
                continue
            args.source = source
            _extraction(args)
        _study(args)
        _scaling(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
