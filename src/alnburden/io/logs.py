"""Routing the package's and pyradiomics' logging into a rule's log file."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path


class RepeatedMessageFilter(logging.Filter):
    """Let through the first record of each distinct message of a library's loggers.

    pyradiomics warns once per region and image type about the same thing (e.g. "GLCM is
    symmetrical, therefore Sum Average = 2 * Joint Average": over a thousand identical lines
    per extraction shard); the first occurrence says all there is to say.

    Parameters
    ----------
    prefix
        Logger-name prefix whose records are de-duplicated (``"radiomics"`` covers
        ``radiomics.glcm`` and the other feature classes); other records always pass.
    """

    def __init__(self, prefix: str = "radiomics"):
        super().__init__()
        self.prefix = prefix
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != self.prefix and not record.name.startswith(self.prefix + "."):
            return True
        key = (record.name, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        record.msg, record.args = f"{key[1]} (logged once; identical repeats suppressed)", ()
        return True


def setup_logging(log_path: str | Path | None = None, level: int = logging.INFO) -> logging.Logger:
    """Route the package's logging to ``log_path`` (a Snakemake ``log:`` file) or stderr.

    pyradiomics sets its logger to INFO and adds a stderr handler when it is first
    imported; it is imported here, first, so that this set-up can be undone: its messages
    go to the same destination at WARNING and above, each distinct message once.
    """
    import radiomics  # noqa: F401  (import-time logging set-up, undone below)

    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_path, mode="w")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatedMessageFilter("radiomics"))
    root.addHandler(handler)
    root.setLevel(level)
    # pyradiomics logs every feature class of every image at INFO: keep its warnings only,
    # so the log shows the project's own progress lines.
    radiomics_logger = logging.getLogger("radiomics")
    for h in list(radiomics_logger.handlers):
        radiomics_logger.removeHandler(h)
    radiomics_logger.setLevel(logging.WARNING)
    radiomics_logger.propagate = True
    logging.getLogger("pykwalify").setLevel(logging.WARNING)  # "validation.valid" per load
    logging.captureWarnings(True)
    return logging.getLogger("alnburden")


@contextlib.contextmanager
def quiet_logger(name: str, level: int = logging.ERROR):
    """Raise logger ``name``'s level to ``level`` while the block runs (e.g. the per-fit
    warnings of hundreds of resamples, which the caller counts), then restore it."""
    lg = logging.getLogger(name)
    before = lg.level
    lg.setLevel(level)
    try:
        yield lg
    finally:
        lg.setLevel(before)
