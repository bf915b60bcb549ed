"""Benchmarks of the radiomics stage.

``python -m alnburden.bench extraction --source insilico|busbra --n 40 --cores 2``

times, on the same ``n`` images and with the same number of worker processes, the workload
of the radiomics stage for one patient -- lesion + peritumoral ring for the original mask
and for ``--n-perturbations`` perturbed masks (the robustness ICC step) -- done two ways:

``shared``
    :func:`alnburden.robustness.extract_perturbed`: the image is read, normalised,
    resampled and filtered once; every region of every mask is measured on it.
``plain``
    a serial pyradiomics loop: one ``RadiomicsFeatureExtractor(params).execute(image,
    region)`` per image, region and mask (the textbook way).

Both run in a ``ProcessPoolExecutor`` of ``--cores`` workers (one image per task). The
script checks that both give identical features on the first image, prints images/s and the
ratio, and writes ``<out>/extraction_<source>.csv`` (+ ``.md``).

``--source insilico`` uses the simulator (:func:`alnburden.simulate.image.render_patient`)
when it is importable, and otherwise synthetic lesions (speckle-like noise with an
irregular dark blob). ``--source busbra`` uses the first ``n`` BUS-BRA images (no spacing
recorded: 0.1 mm assumed).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from alnburden.features import RadiomicsExtractor
from alnburden.io import write_table
from alnburden.regions import region_masks
from alnburden.robustness import extract_perturbed, patient_rng, perturb_masks

logger = logging.getLogger(__name__)

BUSBRA_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "busbra"
BUSBRA_SPACING_MM = 0.1
SEED = 2026


# -- images ----------------------------------------------------------------------------------
def _write_png(path: Path, arr: np.ndarray) -> str:
    sitk.WriteImage(sitk.GetImageFromArray(np.asarray(arr, dtype=np.uint8)), str(path))
    return str(path)


def synthetic_lesion(rng: np.random.Generator, shape=(288, 360)) -> tuple[np.ndarray, np.ndarray]:
    """Speckle-like background with an irregular hypoechoic blob (uint8 image, bool mask)."""
    from scipy import ndimage

    h, w = shape
    rr, cc = np.mgrid[:h, :w]
    cy, cx = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w
    theta = np.arctan2(rr - cy, cc - cx)
    radius = rng.uniform(25, 60) * (1 + sum(rng.uniform(0, 0.12) * np.cos(k * theta + rng.uniform(0, 6.3))
                                            for k in range(2, 7)))
    mask = np.hypot(rr - cy, cc - cx) <= radius
    speckle = np.abs(ndimage.gaussian_filter(rng.normal(size=shape), 1.0)
                     + 1j * ndimage.gaussian_filter(rng.normal(size=shape), 1.0))
    tissue = 0.6 + 0.4 * ndimage.gaussian_filter(rng.normal(size=shape), 12) * 8
    img = speckle * np.clip(tissue, 0.2, None) * np.where(mask, 0.35, 1.0)
    img = 255 * np.log1p(20 * img / img.max()) / np.log1p(20)
    return np.clip(img, 0, 255).astype(np.uint8), mask


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
                         "pixel_spacing_mm": BUSBRA_SPACING_MM})
        return pd.DataFrame(rows)
    if source != "insilico":
        raise ValueError(f"source {source!r} is unknown; use insilico or busbra")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    try:
        from alnburden.simulate.image import render_patient
    except ImportError:  # simulator not available: synthetic lesions
        render_patient = None
    for i in range(n):
        pid = f"S{i:04d}"
        if render_patient is not None:
            r = render_patient(SEED, i, float(rng.normal()), float(rng.uniform(10, 35)))
            img, mask, spacing = r.image, r.mask, r.spacing_mm
        else:
            img, mask = synthetic_lesion(rng)
            spacing = 0.15
        rows.append({"patient_id": pid, "image": _write_png(folder / f"{pid}.png", img),
                     "mask": _write_png(folder / f"{pid}_mask.png", np.asarray(mask) * 255),
                     "pixel_spacing_mm": spacing})
    return pd.DataFrame(rows)


# -- workers ---------------------------------------------------------------------------------
_STATE: dict = {}


def _init(params: str, peritumoral: tuple, n_perturbations: int) -> None:
    import radiomics

    radiomics.setVerbosity(logging.ERROR)
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    from radiomics import featureextractor

    _STATE.update(params=params, peritumoral=peritumoral, n=n_perturbations,
                  shared=RadiomicsExtractor(params, peritumoral),
                  plain=featureextractor.RadiomicsFeatureExtractor(params))


def _shared_task(row: dict) -> dict:
    long = extract_perturbed(_STATE["shared"], row["image"], row["mask"], row["pixel_spacing_mm"],
                             _STATE["n"], patient_rng(SEED, row["patient_id"]),
                             patient_id=row["patient_id"])
    return long.iloc[0].drop(["patient_id", "rater"]).to_dict()


def _plain_task(row: dict) -> dict:
    ex, extractor = _STATE["plain"], _STATE["shared"]
    image, mask, _ = extractor.load_patient(row["image"], row["mask"], row["pixel_spacing_mm"])
    masks = [mask] + perturb_masks(mask, _STATE["n"], patient_rng(SEED, row["patient_id"]))
    first = {}
    for rater, m in enumerate(masks):
        for name, region in region_masks(m, _STATE["peritumoral"]).items():
            out = ex.execute(image, region)
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


def bench_extraction(source: str, n: int, cores: int, params: str | Path,
                     peritumoral_mm: tuple = (3.0,), n_perturbations: int = 3,
                     out_dir: str | Path = "results/benchmarks",
                     busbra: Path = BUSBRA_DEFAULT) -> pd.DataFrame:
    """Time the shared and the plain extraction on the same images; write the CSV.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``source, method, n_images, cores, masks_per_image,
        regions_per_image, wall_s, images_per_s, core_s_per_image, speedup_vs_plain,
        identical_first_image, pyradiomics_version, params_sha256``.
    """
    import radiomics

    params = str(params)
    with tempfile.TemporaryDirectory(prefix="alnburden-bench-") as tmp:
        cohort = make_images(source, n, Path(tmp), busbra)
        rows = cohort.to_dict("records")
        initargs = (params, tuple(peritumoral_mm), n_perturbations)
        t_shared, res_shared = _run(_shared_task, rows, cores, initargs)
        t_plain, res_plain = _run(_plain_task, rows, cores, initargs)
    a, b = res_shared[0], res_plain[0]
    identical = set(a) == set(b) and all(a[k] == b[k] for k in a)
    masks = 1 + n_perturbations
    regions = masks * (1 + len(peritumoral_mm))
    out = pd.DataFrame([
        {"source": source, "method": method, "n_images": n, "cores": cores,
         "masks_per_image": masks, "regions_per_image": regions, "wall_s": wall,
         "images_per_s": n / wall, "core_s_per_image": wall * cores / n,
         "speedup_vs_plain": t_plain / wall, "identical_first_image": identical,
         "pyradiomics_version": radiomics.__version__,
         "params_sha256": hashlib.sha256(Path(params).read_bytes()).hexdigest()[:12]}
        for method, wall in (("shared", t_shared), ("plain", t_plain))])
    out_dir = Path(out_dir)
    write_table(out, out_dir / f"extraction_{source}.csv",
                title=f"Radiomics extraction benchmark ({source})")
    return out


def rule_breakdown(results: str | Path = "results") -> pd.DataFrame:
    """Per-rule wall and CPU time of a finished run, from Snakemake's ``benchmark:`` files
    (``results/benchmarks/<rule>.tsv`` or ``<rule>/<wildcards>.tsv``)."""
    bench = Path(results) / "benchmarks"
    rows = []
    for tsv in sorted(bench.rglob("*.tsv")):
        rule = tsv.parent.name if tsv.parent != bench else tsv.stem
        t = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": rule, "wall_s": float(t["s"].iloc[-1]),
                     "cpu_s": float(t["cpu_time"].iloc[-1]), "max_rss_mb": float(t["max_rss"].iloc[-1])})
    if not rows:
        raise FileNotFoundError(f"no benchmark files under {bench}: run the workflow first")
    df = pd.DataFrame(rows)
    out = df.groupby("rule", sort=False).agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"),
                                             cpu_s=("cpu_s", "sum"), max_rss_mb=("max_rss_mb", "max"))
    out = out.sort_values("cpu_s", ascending=False).reset_index()
    out.loc[len(out)] = {"rule": "total", "jobs": int(out["jobs"].sum()), "wall_s": out["wall_s"].sum(),
                         "cpu_s": out["cpu_s"].sum(), "max_rss_mb": out["max_rss_mb"].max()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alnburden.bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extraction", help="shared vs plain pyradiomics extraction")
    p.add_argument("--source", choices=["insilico", "busbra"], default="insilico")
    p.add_argument("--n", type=int, default=40, help="number of images")
    p.add_argument("--cores", type=int, default=2, help="worker processes for both methods")
    p.add_argument("--params", default="config/radiomics.yaml", help="pyradiomics params file")
    p.add_argument("--peritumoral-mm", type=float, nargs="*", default=[3.0])
    p.add_argument("--n-perturbations", type=int, default=3)
    p.add_argument("--out", default="results/benchmarks", help="output folder")
    p.add_argument("--busbra", default=str(BUSBRA_DEFAULT), help="BUS-BRA folder")
    r = sub.add_parser("rules", help="per-rule time and memory of a finished run (benchmark files)")
    r.add_argument("--results", default="results", help="the run's results folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.command == "rules":
        table = rule_breakdown(args.results)
        write_table(table, Path(args.results) / "benchmarks" / "rules.csv", float_format="%.1f",
                    title="Per-rule time (sum over jobs) and peak memory")
        print(table.to_markdown(index=False, floatfmt=".1f"))
        return 0
    table = bench_extraction(args.source, args.n, args.cores, args.params, tuple(args.peritumoral_mm),
                             args.n_perturbations, args.out, Path(args.busbra))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns=["pyradiomics_version", "params_sha256"]).to_string(index=False))
    s, pl = table.set_index("method").loc["shared"], table.set_index("method").loc["plain"]
    print(f"shared {s.images_per_s:.2f} images/s, plain {pl.images_per_s:.2f} images/s, "
          f"ratio {s.speedup_vs_plain:.2f}x ({int(s.regions_per_image)} regions per image, "
          f"{args.cores} cores); identical features: {bool(s.identical_first_image)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
