"""The contract between a bundle and an external cohort, checked before anything is predicted.

Three checks, each naming every cause and its fix:

* :func:`validate_external_manifest`: the manifest against the bundle's clinical variables,
  their coding (an unknown category, a value out of range, a missing predictor column) and
  level rules, with the study's own row-by-row validation
  (:func:`alnburden.cohort.manifest.validate_manifest`); a manifest without the columns the
  label rules read is an unlabelled cohort (predictions only);
* :func:`check_extraction`: before extraction, the params file (sha256) and the installed
  pyradiomics version against the bundle's;
* :func:`check_features`: after extraction, the provenance and the feature columns the frozen
  radiomics models read.

A mismatch of the extraction is accepted only when ``external.allow_mismatch`` names it
(:data:`MISMATCHES`); an accepted mismatch is logged and reported in the summary.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from alnburden.cohort.manifest import validate_manifest
from alnburden.cohort.manifest_file import manifest_header
from alnburden.external.bundle import Bundle, sha256_of
from alnburden.levels import levels_from_config, rule_columns

logger = logging.getLogger(__name__)

__all__ = ["MISMATCHES", "ContractError", "check_allowed", "manifest_is_labelled",
           "predictor_problems", "validate_external_manifest", "check_extraction",
           "check_features", "manifest_is_labelled_meta", "prepare_external_cohort"]

#: What ``external.allow_mismatch`` may accept.
MISMATCHES = ("params", "pyradiomics_version", "feature_columns")


class ContractError(ValueError):
    """An external cohort or its features break the bundle's contract."""


def check_allowed(allow_mismatch: Iterable[str]) -> set[str]:
    """``allow_mismatch`` as a set, refusing names outside :data:`MISMATCHES`."""
    allowed = set(allow_mismatch or ())
    unknown = sorted(allowed - set(MISMATCHES))
    if unknown:
        raise ContractError(f"external.allow_mismatch names {unknown}; it accepts only "
                            f"{list(MISMATCHES)}")
    return allowed


def manifest_is_labelled_meta(columns: Sequence[str], meta: dict) -> bool:
    """Whether a manifest with these columns carries the labels (every column the level
    rules of the bundle whose ``bundle.json`` is ``meta`` read); without them the cohort gets
    predictions only."""
    needed = rule_columns(levels_from_config({"levels": meta["levels"]}))
    return all(c in columns for c in needed)


def manifest_is_labelled(columns: Sequence[str], bundle: Bundle) -> bool:
    """:func:`manifest_is_labelled_meta` of an unpacked bundle."""
    return manifest_is_labelled_meta(columns, bundle.meta)


def predictor_problems(columns: Sequence[str], bundle: Bundle) -> list[str]:
    """A sentence per clinical predictor of a frozen model absent from the manifest."""
    out = []
    for level, m in bundle.meta["models"].items():
        missing = [p for p in m.get("predictors", []) if p not in columns]
        if missing:
            users = ", ".join(sorted(set(m["files"]) & {"clinical", "combined"}))
            out.append(f"clinical variable(s) {missing} are predictors of the frozen {users} "
                       f"model(s) of {level} but the manifest has no such column; add the "
                       "column(s), coded as in the bundle's bundle.json clinical_variables")
    return out


def validate_external_manifest(manifest_path: str | Path, bundle: Bundle,
                               report_path: str | Path | None = None,
                               min_lesion_pixels: int = 64,
                               allow_border_contact: bool = False) -> tuple[pd.DataFrame, bool]:
    """Validate an external manifest against the bundle.

    Parameters
    ----------
    manifest_path
        The external cohort's manifest (same format as a study's).
    bundle
        The unpacked bundle.
    report_path
        Where the row-by-row validation report is written (CSV + Markdown).
    min_lesion_pixels, allow_border_contact
        As in :func:`alnburden.cohort.manifest.validate_manifest`.

    Returns
    -------
    cohort : pandas.DataFrame
        The typed cohort (level label columns when labelled).
    labelled : bool
        False when the manifest lacks the label columns (predictions only).

    Raises
    ------
    ContractError
        A predictor column of a frozen model is absent.
    alnburden.cohort.report.CohortValidationError
        Any row-level problem (unknown category, out of range, missing file, ...), every
        bad row named.
    """
    header = list(manifest_header(manifest_path)[0])
    problems = predictor_problems(header, bundle)
    if bundle.has_images and not {"image", "mask"} <= set(header):
        problems.append("the bundle's models read radiomic features but the manifest has no "
                        "image/mask columns")
    harm = bundle.meta.get("harmonization") or {}
    if harm.get("method", "none") != "none" and harm.get("batch") not in header:
        problems.append(f"the bundle's models harmonise features by {harm.get('batch')!r} "
                        f"({harm['method']}) but the manifest has no such column; add each "
                        "patient's scanner or centre there")
    if problems:
        raise ContractError(f"manifest {manifest_path} breaks the bundle's contract: "
                            + "; ".join(problems))
    labelled = manifest_is_labelled(header, bundle)
    if not labelled:
        logger.warning("manifest %s has no label column (%s): predictions only", manifest_path,
                       rule_columns(levels_from_config({"levels": bundle.levels})))
    cohort = validate_manifest(manifest_path, bundle.variables,
                               bundle.levels if labelled else [],
                               min_lesion_pixels=min_lesion_pixels,
                               allow_border_contact=allow_border_contact,
                               report_path=report_path)
    return cohort, labelled


def _installed_pyradiomics() -> str:
    """The installed pyradiomics version as the extractor records it (``radiomics.__version__``)."""
    try:
        import radiomics
    except ImportError:
        return "not installed"
    return str(radiomics.__version__)


def check_extraction(params_path: str | Path, bundle: Bundle, allow_mismatch: Iterable[str] = (),
                     pyradiomics_version: str | None = None) -> list[str]:
    """Check, before extraction, the params file and pyradiomics version against the bundle.

    Parameters
    ----------
    params_path
        The params file the external extraction will use (the bundle's own by default).
    bundle
        The unpacked bundle.
    allow_mismatch
        Names of :data:`MISMATCHES` to accept.
    pyradiomics_version
        The version that will extract (default: the installed one).

    Returns
    -------
    list[str]
        The accepted mismatches (empty when everything agrees).

    Raises
    ------
    ContractError
        A mismatch that ``allow_mismatch`` does not name.
    """
    allowed = check_allowed(allow_mismatch)
    rad = bundle.meta.get("radiomics")
    if rad is None:
        return []
    found = []
    digest = sha256_of(Path(params_path))
    if digest != rad["params_sha256"]:
        found.append(("params", f"params file {params_path} has sha256 {digest[:12]}..., the "
                      f"bundle's models were trained on features extracted with sha256 "
                      f"{rad['params_sha256'][:12]}... (the bundle's {rad['params_file']}); "
                      "extract with the bundle's params file"))
    have = pyradiomics_version or _installed_pyradiomics()
    if rad.get("pyradiomics_version") and have != rad["pyradiomics_version"]:
        found.append(("pyradiomics_version",
                      f"pyradiomics {have} is installed, the bundle's features were extracted "
                      f"with pyradiomics {rad['pyradiomics_version']}; install that version"))
    return _refuse_or_accept(found, allowed, "extraction")


def check_features(columns: Sequence[str], provenance: dict, bundle: Bundle,
                   allow_mismatch: Iterable[str] = ()) -> list[str]:
    """Check the external features (columns and provenance) against the bundle.

    Returns
    -------
    list[str]
        The accepted mismatches.

    Raises
    ------
    ContractError
        A feature column the frozen models read is absent, or the features were extracted
        with another params file or pyradiomics version, unless ``allow_mismatch`` names it.
    """
    allowed = check_allowed(allow_mismatch)
    rad = bundle.meta.get("radiomics")
    if rad is None:
        return []
    found = []
    missing = [c for c in rad["feature_columns"] if c not in set(columns)]
    if missing:
        found.append(("feature_columns",
                      f"{len(missing)} feature column(s) the frozen radiomics models read are "
                      f"absent from the external features: {missing[:5]}"
                      f"{' ...' if len(missing) > 5 else ''}; extract with the bundle's params "
                      "file and radiomics settings"))
    ref = rad.get("extracted_params_sha256") or rad["params_sha256"]
    if provenance.get("params_sha256") not in (None, ref):
        found.append(("params", f"the external features were extracted with params sha256 "
                      f"{str(provenance['params_sha256'])[:12]}..., the bundle's with "
                      f"{ref[:12]}..."))
    have = provenance.get("pyradiomics_version")
    if have and rad.get("pyradiomics_version") and have != rad["pyradiomics_version"]:
        found.append(("pyradiomics_version", f"the external features were extracted with "
                      f"pyradiomics {have}, the bundle's with {rad['pyradiomics_version']}"))
    return _refuse_or_accept(found, allowed, "features")


def _refuse_or_accept(found: list[tuple[str, str]], allowed: set[str], what: str) -> list[str]:
    refused = [f"{msg} [{kind}]" for kind, msg in found if kind not in allowed]
    if refused:
        raise ContractError(f"external {what} refused before prediction: " + "; ".join(refused)
                            + ". To accept a mismatch knowingly, list its name in "
                            "external.allow_mismatch")
    accepted = [f"{msg} [{kind}; accepted by external.allow_mismatch]" for kind, msg in found]
    for line in accepted:
        logger.warning("%s", line)
    return accepted


def prepare_external_cohort(manifest_path: str | Path, bundle_dir: str | Path,
                            params_path: str | Path | None, allow_mismatch: Iterable[str] = (),
                            report_path: str | Path | None = None,
                            validation: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Every check that can run before extraction, for the ``external_cohort`` rule.

    Parameters
    ----------
    manifest_path
        The external manifest.
    bundle_dir
        The unpacked bundle (verified again here).
    params_path
        The params file the extraction will use; None: the bundle's own.
    allow_mismatch
        ``external.allow_mismatch``.
    report_path
        Where the row-by-row validation report goes.
    validation
        The config's ``validation`` section (``min_lesion_pixels``, ``allow_border_contact``).

    Returns
    -------
    cohort : pandas.DataFrame
        The validated cohort.
    contract : dict
        ``labelled``, ``accepted`` (mismatches accepted by ``allow_mismatch``),
        ``params_sha256`` of the params file used, ``n_patients``.
    """
    bundle = Bundle.open(bundle_dir)
    params_path = params_path or bundle.params_path
    cohort, labelled = validate_external_manifest(manifest_path, bundle, report_path,
                                                  **(validation or {}))
    accepted = (check_extraction(params_path, bundle, allow_mismatch)
                if bundle.has_images else [])
    return cohort, {"labelled": labelled, "accepted": accepted, "n_patients": len(cohort),
                    "params_sha256": sha256_of(Path(params_path)) if bundle.has_images else None}
