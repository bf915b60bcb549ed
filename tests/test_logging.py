"""Rule logs: the package's progress lines, pyradiomics' warnings once each, nothing on stderr."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from alnburden.io import RepeatedMessageFilter, setup_logging

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def restore_logging():
    """setup_logging reconfigures the root and pyradiomics loggers: put them back after."""
    import radiomics  # noqa: F401

    root, rad = logging.getLogger(), logging.getLogger("radiomics")
    saved = (list(root.handlers), root.level, list(rad.handlers), rad.level, rad.propagate)
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in list(rad.handlers):
        rad.removeHandler(h)
    root.handlers[:], root.level = saved[0], saved[1]
    rad.handlers[:], rad.level, rad.propagate = saved[2], saved[3], saved[4]


def test_pyradiomics_goes_to_the_log_once_per_message_and_not_to_stderr(tmp_path, capfd,
                                                                         restore_logging):
    log_path = tmp_path / "logs/rule.log"
    log = setup_logging(log_path)
    glcm = logging.getLogger("radiomics.glcm")
    for _ in range(500):
        glcm.warning("GLCM is symmetrical, therefore Sum Average = 2 * Joint Average")
    glcm.warning("another pyradiomics warning")
    logging.getLogger("radiomics.featureextractor").info("Loading parameter file x.yaml")
    for i in range(3):
        log.info("patient %d of 3", i + 1)
    for h in logging.getLogger().handlers:
        h.flush()

    text = log_path.read_text()
    assert text.count("Sum Average") == 1
    assert "identical repeats suppressed" in text
    assert "another pyradiomics warning" in text
    assert "Loading parameter file" not in text  # pyradiomics INFO chatter is dropped
    assert [f"patient {i} of 3" in text for i in (1, 2, 3)] == [True] * 3  # ours never folded
    out, err = capfd.readouterr()
    assert "Sum Average" not in err and "Sum Average" not in out


def test_repeated_message_filter_only_folds_its_prefix():
    filt = RepeatedMessageFilter("radiomics")

    def record(name, msg):
        return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, (), None)

    assert filt.filter(record("radiomics.glcm", "same"))
    assert not filt.filter(record("radiomics.glcm", "same"))
    assert filt.filter(record("radiomics.glrlm", "same"))  # another logger: its own first
    assert filt.filter(record("radiomicsx", "same")) and filt.filter(record("radiomicsx", "same"))
    assert filt.filter(record("alnburden", "same")) and filt.filter(record("alnburden", "same"))


def test_a_fresh_script_sends_pyradiomics_to_its_log_not_stderr(tmp_path):
    """As a rule's script does: set up logging first, import pyradiomics later (lazily, when
    the extractor is built). pyradiomics' import-time stderr handler and INFO level must
    not come back."""
    log_path = tmp_path / "rule.log"
    code = (
        "import logging\n"
        "from alnburden.io import setup_logging\n"
        f"log = setup_logging({str(log_path)!r})\n"
        "from alnburden.extraction.extractor import build_pyradiomics_extractor\n"
        f"build_pyradiomics_extractor({str(ROOT / 'config/radiomics.yaml')!r})\n"
        "for _ in range(50):\n"
        "    logging.getLogger('radiomics.glcm').warning('GLCM is symmetrical')\n"
        "log.info('shard done')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    text = log_path.read_text()
    assert text.count("GLCM is symmetrical") == 1 and "shard done" in text
    assert "Loading parameter file" not in text  # pyradiomics' INFO line of every extractor
