"""Write a whole in-silico cohort: manifest, images, masks, truth and settings."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy.special import expit

from alnburden.levels import nodal_class
from alnburden.simulate import clinical as clin
from alnburden.simulate.effects import EffectSizes
from alnburden.simulate.image import IMAGE_SHAPE, MIN_LESION_PIXELS, render_patient

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = [
    "patient_id", "image", "mask", "pixel_spacing_mm", "n_positive_nodes", "age",
    "tumor_size_mm", "er", "pr", "her2", "ki67", "grade", "subtype", "aln_us_class",
]
_MAX_ATTEMPTS = 500


def _patient_ids(n: int) -> list[str]:
    width = max(4, len(str(n)))
    return [f"P{i + 1:0{width}d}" for i in range(n)]


def _write_png(array: np.ndarray, path: Path) -> None:
    """8-bit grey PNG without metadata (no timestamps: same pixels -> same bytes)."""
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8), mode="L").save(
        path, format="PNG", optimize=False, compress_level=6)


def sample_clinical(n_patients: int, seed: int, eff: EffectSizes,
                    node_positive_only: bool = False) -> pd.DataFrame:
    """Latent and clinical variables of every patient (per-patient random streams).

    With ``node_positive_only`` each patient is redrawn (new attempt of its own stream)
    until the hurdle's first part says N+: a sample of the N+ population, with its
    shifted latent distribution.
    """
    draws = np.stack([clin.clinical_draws(seed, i) for i in range(n_patients)]) \
        if n_patients else np.zeros((0, 9))
    df = clin.clinical_from_draws(draws, eff)
    if not node_positive_only:
        return df
    lin1, _ = clin.node_logits(df["latent"], df["ki67"], eff)
    pending = np.nonzero(df["u_pos"].to_numpy() >= expit(lin1))[0]
    for attempt in range(1, _MAX_ATTEMPTS):
        if len(pending) == 0:
            break
        new = clin.clinical_from_draws(
            np.stack([clin.clinical_draws(seed, i, attempt) for i in pending]), eff)
        new.index = pending
        lin1, _ = clin.node_logits(new["latent"], new["ki67"], eff)
        ok = new["u_pos"].to_numpy() < expit(lin1)
        df.loc[pending[ok], :] = new.loc[pending[ok], df.columns].to_numpy()
        pending = pending[~ok]
    if len(pending):  # pragma: no cover - needs absurd effect sizes
        raise RuntimeError(
            f"{len(pending)} patients stayed N0 after {_MAX_ATTEMPTS} redraws; the effect "
            "sizes make N+ nearly impossible: raise EffectSizes.pos_intercept")
    return df.astype({"age": int, "ki67": int, "grade": int, "er": int, "pr": int,
                      "her2": int, "latent": float, "tumor_size_mm": float, "u_pos": float})


def simulate_tables(n_patients: int = 583, seed: int = 2026,
                    effects: EffectSizes | None = None, node_positive_only: bool = False,
                    high_burden_fraction: float | None = None) -> pd.DataFrame:
    """Clinical table and truth of a cohort, without rendering images (fast).

    The rows are exactly those :func:`simulate_cohort` writes for the same arguments
    (images depend on ``latent`` and ``tumor_size_mm`` only), which makes this the tool
    of calibration scripts: prevalences and oracle AUCs of thousands of patients in
    seconds.

    Returns
    -------
    DataFrame
        ``patient_id``, the manifest's clinical columns (``n_positive_nodes``, ``age``,
        ``tumor_size_mm``, ``er``, ``pr``, ``her2``, ``ki67``, ``grade``, ``subtype``,
        ``aln_us_class``), then ``latent``, ``nodal_class``, ``high_burden`` and the true
        probabilities of :func:`alnburden.simulate.clinical.truth_probabilities`.
        ``attrs["high_burden_shift"]`` holds the threshold shift of a forced fraction.
    """
    if int(n_patients) < 1:
        raise ValueError(f"n_patients={n_patients!r}; ask for at least 1 patient")
    if high_burden_fraction is not None and not 0.0 <= float(high_burden_fraction) <= 1.0:
        raise ValueError(f"high_burden_fraction={high_burden_fraction!r} is not a fraction; "
                         "give a number in [0, 1] (e.g. 52/131) or None")
    eff = effects or EffectSizes()
    n = int(n_patients)
    df = sample_clinical(n, seed, eff, node_positive_only)
    ndraws = np.stack([clin.node_draws(seed, i) for i in range(n)])
    nodes, high, shift = clin.sample_nodes(
        df["latent"].to_numpy(), df["ki67"].to_numpy(), df["u_pos"].to_numpy(), ndraws, eff,
        node_positive_only=node_positive_only, high_burden_fraction=high_burden_fraction)
    e_aln = np.array([clin.aln_draws(seed, i) for i in range(n)])
    aln = clin.aln_class(nodes, e_aln, eff)
    probs = clin.truth_probabilities(df["latent"].to_numpy(), df["ki67"].to_numpy(), aln,
                                     eff, node_positive_only, shift)
    out = pd.concat([
        pd.DataFrame({"patient_id": _patient_ids(n), "n_positive_nodes": nodes}),
        df[["age", "tumor_size_mm", "er", "pr", "her2", "ki67", "grade", "subtype"]],
        pd.DataFrame({"aln_us_class": aln, "latent": df["latent"].to_numpy(),
                      "nodal_class": nodal_class(nodes), "high_burden": high}),
        probs,
    ], axis=1)
    out.attrs["high_burden_shift"] = shift
    return out


def simulate_cohort(out_dir: str | Path, n_patients: int = 583, seed: int = 2026,
                    effects: EffectSizes | None = None, node_positive_only: bool = False,
                    high_burden_fraction: float | None = None, n_jobs: int = 1) -> Path:
    """Simulate an in-silico cohort in the user-manifest format.

    Writes into ``out_dir``: ``manifest.csv`` (the contract's columns; image and mask
    paths relative to ``out_dir``), ``images/<id>.png`` (8-bit grey B-mode),
    ``masks/<id>.png`` (0/255 tumour mask, halo excluded), ``truth.csv`` (latent,
    true label probabilities, image traits; never read by the workflow) and
    ``simulation.json`` (the settings and effect sizes).

    Parameters
    ----------
    out_dir
        Output folder (created; existing files with the same names are overwritten).
    n_patients
        Number of patients (>= 1).
    seed
        Cohort seed. Patient ``i`` depends only on ``(seed, i)``, not on ``n_patients``
        (except, with ``high_burden_fraction``, whether it has >= 3 nodes).
    effects
        Effect sizes; ``EffectSizes()`` by default.
    node_positive_only
        Sample node-positive patients only (the burden study, Wang et al. 2025): each
        patient is redrawn from its own stream until N+.
    high_burden_fraction
        When given (in [0, 1]), exactly ``round(fraction * n_N+)`` N+ patients have
        >= 3 positive nodes, chosen by the same model's latent score (Wang et al.:
        52 / 131).
    n_jobs
        Processes rendering images (joblib); results do not depend on it.

    Returns
    -------
    Path
        The manifest's path.

    Examples
    --------
    >>> simulate_cohort("data/sim", n_patients=583, seed=2026)  # doctest: +SKIP
    """
    eff = effects or EffectSizes()
    tab = simulate_tables(n_patients, seed, eff, node_positive_only, high_burden_fraction)
    n = len(tab)
    ids = tab["patient_id"].tolist()
    out = Path(out_dir)
    rendered = _render_images(out, tab, seed, eff, n_jobs)

    manifest = tab.assign(
        image=[f"images/{p}.png" for p in ids], mask=[f"masks/{p}.png" for p in ids],
        pixel_spacing_mm=[r[0] for r in rendered])[MANIFEST_COLUMNS]
    manifest_path = out / "manifest.csv"
    manifest.to_csv(manifest_path, index=False, lineterminator="\n", float_format="%.6g")

    truth = pd.concat([
        tab[["patient_id", "latent", "nodal_class", "high_burden"]],
        tab[[c for c in tab.columns if c.startswith("p_")]],
        pd.DataFrame([r[2] for r in rendered]).add_prefix("img_"),
        pd.DataFrame({"lesion_area_mm2": [r[1] for r in rendered]}),
    ], axis=1)
    truth.to_csv(out / "truth.csv", index=False, lineterminator="\n", float_format="%.6g")

    settings = {"generator": "alnburden.simulate", "n_patients": n, "seed": int(seed),
                "node_positive_only": bool(node_positive_only),
                "high_burden_fraction": high_burden_fraction,
                "high_burden_shift": tab.attrs["high_burden_shift"],
                "image_shape": list(IMAGE_SHAPE), "effects": eff.to_dict()}
    (out / "simulation.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    nodes = tab["n_positive_nodes"].to_numpy()
    pos = nodes > 0
    logger.info("cohort: %d patients, N+ %.1f %%, N>=3 among N+ %.1f %%", n,
                100 * pos.mean(), 100 * (nodes[pos] >= 3).mean() if pos.any() else float("nan"))
    return manifest_path


def _render_images(out: Path, tab: pd.DataFrame, seed: int, eff: EffectSizes,
                   n_jobs: int) -> list[tuple[float, float, dict]]:
    """Render every patient of ``tab`` into ``out/images`` and ``out/masks`` (PNG).

    Returns
    -------
    list of (float, float, dict)
        Per patient, in ``tab``'s order: pixel spacing (mm), lesion area (mm2), traits.
    """
    ids = tab["patient_id"].tolist()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)

    def render(i: int):
        r = render_patient(seed, i, float(tab["latent"].iat[i]),
                           float(tab["tumor_size_mm"].iat[i]), eff, IMAGE_SHAPE)
        _check_mask(r.mask, ids[i])
        _write_png(r.image, out / "images" / f"{ids[i]}.png")
        _write_png(r.mask.astype(np.uint8) * 255, out / "masks" / f"{ids[i]}.png")
        return r.spacing_mm, r.lesion_area_mm2, r.traits.to_dict()

    logger.info("rendering %d images into %s (n_jobs=%d)", len(ids), out, n_jobs)
    if n_jobs == 1:
        return [render(i) for i in range(len(ids))]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(delayed(render)(i) for i in range(len(ids)))


def _check_mask(mask: np.ndarray, pid: str) -> None:
    """The contract's mask checks (never expected to fail: a failure is a generator bug)."""
    if mask.sum() < MIN_LESION_PIXELS:
        raise RuntimeError(f"{pid}: simulated lesion has {int(mask.sum())} pixels "
                           f"(< {MIN_LESION_PIXELS}); this is a generator bug, please report")
    if mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any():
        raise RuntimeError(f"{pid}: simulated lesion touches the image border; this is a "
                           "generator bug, please report")
