"""The workflow on a real SLURM, through config/profiles/slurm (issue 6).

Opt-in, because it installs Debian packages and starts daemons as root: it runs only when
``CI=true`` or ``ALNBURDEN_SLURM_TEST=1`` is set AND the user is root AND apt-get exists;
otherwise every SLURM test is skipped with the reason. A workstation never gets packages
installed behind its back.

``tests/slurm/setup_slurm.sh`` installs slurm-wlm, munge, slurmdbd and mariadb-server and
starts a private single-node cluster with accounting (node ``localhost``, partition ``debug``,
account ``ci``); ``tests/slurm/teardown_slurm.sh`` stops exactly those daemons, by pid file,
when the session ends (also after a failure). The workflow runs with the real profile plus the
minimum CI overrides (``CI_OVERRIDES``): the same command README gives for a cluster.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tests" / "data" / "ci_config.yaml"
PROFILE = ROOT / "config" / "profiles" / "slurm"
SLURM_DIR = ROOT / "tests" / "slurm"

# What the CI run adds to `--profile config/profiles/slurm`: the account and partition that
# setup_slurm.sh created (they replace the profile's placeholders), and a 2 s first status
# check (the plugin's 40 s default would make every wave of this tiny run wait 40 s).
CI_OVERRIDES = [
    "--default-resources", "slurm_account=ci", "slurm_partition=debug",
    "--slurm-init-seconds-before-status-checks", "2",
]

# The targets of both runs (SLURM and local). [] = the workflow's default target (rule all),
# i.e. the whole study on the CI cohort (tests/data/ci_config.yaml).
TARGETS: list[str] = []

# Result tables compared between the SLURM run and the local run: "bytes" = byte for byte
# (after replacing the run directory, which cohort.csv holds in its absolute image paths),
# "frame" = pandas equality (parquet). A file that neither run produced (not among TARGETS'
# outputs) is not compared; cohort.csv and split.csv always are.
COMPARED = {
    "results/cohort/cohort.csv": "bytes",
    "results/cohort/split.csv": "bytes",
    "results/tables/table1_baseline.csv": "bytes",
    "results/features/radiomics.parquet": "frame",
    "results/features/icc.csv": "bytes",
    "results/predictions.csv": "bytes",
    "results/tables/performance.csv": "bytes",
    "results/tables/auc_delong.csv": "bytes",
    "results/tables/calibration.csv": "bytes",
    "results/tables/dca.csv": "bytes",
    "results/tables/subgroups.csv": "bytes",
}

# The local reference run. None: this module makes its own (TARGETS, --cores 2), concurrently
# with the SLURM runs. Or the name of a session fixture (tests/conftest.py) returning the
# directory of a finished local run of the same TARGETS and config, e.g. one shared with
# tests/test_workflow.py, which saves a whole local run of CPU time.
LOCAL_RUN_FIXTURE: str | None = "e2e_run"

RUN_TIMEOUT_S = 1800  # a hung status loop must not hang CI

pytestmark = pytest.mark.workflow


def _skip_reason() -> str | None:
    opted_in = (os.environ.get("CI", "").lower() in ("true", "1")
                or os.environ.get("ALNBURDEN_SLURM_TEST") == "1")
    if not opted_in:
        return ("SLURM test is opt-in: it installs slurm-wlm, munge, slurmdbd and mariadb-server "
                "with apt-get and starts daemons as root. Set CI=true or ALNBURDEN_SLURM_TEST=1 "
                "(as root, on a throw-away machine) to run it")
    if os.geteuid() != 0:
        return "SLURM test needs root (it installs packages and starts daemons); run it as root in CI"
    if shutil.which("apt-get") is None:
        return "SLURM test needs apt-get (Debian/Ubuntu) to install slurm-wlm and munge"
    return None


def _report(config: pytest.Config, line: str) -> None:
    """Print a line to the terminal even when output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


class Run:
    """A command started in the background, in its own process group, output to a file.

    The SLURM run, the local reference run and the failing-job run start together: the SLURM
    runs spend most of their time waiting for status checks, so the three overlap well.
    """

    def __init__(self, cmd: list[str], cwd: Path, log_name: str = "snakemake.out"):
        self.cmd, self.cwd = cmd, cwd
        self.log = cwd / log_name
        self.start = time.perf_counter()
        self.seconds: float | None = None  # wall time, set when the command ends
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._timer = threading.Thread(target=self._time, daemon=True)
        self._timer.start()

    def _time(self) -> None:
        self.proc.wait()
        self.seconds = time.perf_counter() - self.start

    def wait(self, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
        """Wait (at most `timeout` s after the start); kill the process group on timeout."""
        try:
            self.proc.wait(timeout=max(1.0, timeout - (time.perf_counter() - self.start)))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait()
            pytest.fail(f"{' '.join(self.cmd[:8])} ... did not finish within {timeout} s in "
                        f"{self.cwd}:\n{self.log.read_text(errors='replace')[-6000:]}")
        self._timer.join()
        return subprocess.CompletedProcess(self.cmd, self.proc.returncode,
                                           self.log.read_text(errors="replace"), "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait()
        self._timer.join()


def snakemake_cmd(*args: str, snakefile: Path = ROOT / "Snakefile", targets: list[str] = ()) -> list[str]:
    # targets first: options like --configfile and --default-resources take several values
    return [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), *targets, *args]


def slurm_snakemake_cmd(*args: str, snakefile: Path = ROOT / "Snakefile", targets: list[str] = ()) -> list[str]:
    """The README's cluster command (the real profile) plus CI_OVERRIDES."""
    return snakemake_cmd("--profile", str(PROFILE), *CI_OVERRIDES, *args, snakefile=snakefile,
                         targets=targets)


def sacct(run_id: str) -> pd.DataFrame:
    """One row per SLURM job of a Snakemake run (its jobs are named after the run id)."""
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--starttime", "now-1days", "--name", run_id,
         "-o", "JobIDRaw,JobName,Comment,State,ExitCode,Account,Partition"],
        capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=["jobid", "name", "comment", "state", "exit_code",
                                       "account", "partition"])


def slurm_run_id(output: str) -> str:
    match = re.search(r"SLURM run ID: (\S+)", output)
    assert match, f"no 'SLURM run ID' in Snakemake's output: did it use the slurm executor?\n{output[-3000:]}"
    return match.group(1)


def submitted_jobids(output: str) -> set[str]:
    return set(re.findall(r"submitted with SLURM jobid (\d+)", output))


def job_stats(output: str) -> dict[str, int]:
    """The 'Job stats' table Snakemake prints before running: rule -> number of jobs."""
    block = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.M)}


def slurm_jobs_by_rule(output: str) -> dict[str, set[str]]:
    """Rule -> ids of the SLURM jobs that ran it, from Snakemake's log.

    A rule block names its Snakemake jobid; "Job <jobid> has been submitted with SLURM jobid
    <id>" maps it to SLURM; a "Group job <name>" header lists the rule blocks of a group job,
    which is submitted (under the group's own id) right after them.
    """
    rule_of = {}
    for m in re.finditer(r"^[ \t]*rule (\w+):\n((?:[ \t]+\S.*\n)*)", output, re.M):
        jobid = re.search(r"^\s+jobid: (\d+)$", m.group(2), re.M)
        if jobid:
            rule_of[jobid.group(1)] = m.group(1)
    by_rule: dict[str, set[str]] = {}
    for m in re.finditer(r"^Job (\d+) has been submitted with SLURM jobid (\d+)", output, re.M):
        by_rule.setdefault(rule_of[m.group(1)], set()).add(m.group(2))
    groups = re.finditer(r"Group job (\w+) \(jobs in lexicogr\. order\):\n(.*?)"
                         r"^Job (\S+) has been submitted with SLURM jobid (\d+)", output, re.M | re.S)
    for m in groups:
        for rule in re.findall(r"^[ \t]*rule (\w+):", m.group(2), re.M):
            by_rule.setdefault(rule, set()).add(m.group(4))
    return by_rule


def _failure(proc: subprocess.CompletedProcess, work: Path) -> str:
    logs = "\n".join(f"== {p}\n{p.read_text(errors='replace')[-2000:]}"
                     for p in sorted(work.glob("results/logs/**/*.log")))
    slurm_logs = "\n".join(f"== {p}\n{p.read_text(errors='replace')[-2000:]}"
                           for p in sorted(work.glob(".snakemake/slurm_logs/**/*.log")))
    return f"{proc.stdout[-8000:]}\n{logs[-6000:]}\n{slurm_logs[-6000:]}"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory, request):
    """A running private SLURM; stopped (by pid file) when the session ends, whatever happened."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    setup = Run(["bash", str(SLURM_DIR / "setup_slurm.sh"), str(state)], cwd=state, log_name="setup.out")
    try:
        done = setup.wait(timeout=600)
        timings["setup (install + start)"] = setup.seconds
        if done.returncode != 0:
            logs = "\n".join(f"== {p}\n{p.read_text(errors='replace')[-2000:]}"
                             for p in sorted((state / "log").glob("*")))
            pytest.fail(f"setup_slurm.sh failed (exit {done.returncode}):\n{done.stdout}\n{logs}")
        _report(request.config, done.stdout.strip().splitlines()[-1])
        yield {"state": state, "timings": timings}
    finally:
        setup.kill()
        down = subprocess.run(["bash", str(SLURM_DIR / "teardown_slurm.sh"), str(state)],
                              capture_output=True, text=True)
        total = time.perf_counter() - start
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        _report(request.config, f"SLURM test timings: {parts}; total {total:.0f} s")
        if down.returncode != 0:
            _report(request.config, f"teardown_slurm.sh: {down.stdout}{down.stderr}")


@pytest.fixture(scope="module")
def runs(slurm_cluster, tmp_path_factory):
    """Start the SLURM e2e run, the failing-job run and (unless shared) the local run at once."""
    names = ["slurm_e2e", "slurm_fail"] + (["local_e2e"] if LOCAL_RUN_FIXTURE is None else [])
    dirs = {name: tmp_path_factory.mktemp(name) for name in names}
    started = {
        "slurm_e2e": Run(slurm_snakemake_cmd("--configfile", str(CONFIG), targets=TARGETS),
                         dirs["slurm_e2e"]),
        "slurm_fail": Run(slurm_snakemake_cmd(snakefile=SLURM_DIR / "Snakefile_fail"),
                          dirs["slurm_fail"]),
    }
    if LOCAL_RUN_FIXTURE is None:
        started["local_e2e"] = Run(snakemake_cmd("--configfile", str(CONFIG), "--cores", "2",
                                                 targets=TARGETS), dirs["local_e2e"])
    yield started
    for name, run in started.items():
        run.kill()  # only if a test failed before waiting for it
        if run.seconds is not None:
            slurm_cluster["timings"][f"{name} run"] = run.seconds


@pytest.fixture(scope="module")
def local_run(runs, request):
    if LOCAL_RUN_FIXTURE is not None:
        return Path(request.getfixturevalue(LOCAL_RUN_FIXTURE))
    proc = runs["local_e2e"].wait()
    work = runs["local_e2e"].cwd
    if proc.returncode != 0:
        pytest.fail(f"local reference run failed (exit {proc.returncode}):\n{_failure(proc, work)}")
    return work


@pytest.fixture(scope="module")
def slurm_run(runs, local_run):
    # local_run first: a shared local run is then computed while the SLURM run goes on
    proc = runs["slurm_e2e"].wait()
    work = runs["slurm_e2e"].cwd
    if proc.returncode != 0:
        pytest.fail(f"workflow failed on SLURM (exit {proc.returncode}):\n{_failure(proc, work)}")
    return work, proc.stdout


# --------------------------------------------------------------------------- tests

def test_profile_names_only_existing_rules(tmp_path):
    """A renamed rule would silently lose its threads/resources/group: Snakemake ignores
    unknown rule names in set-threads, set-resources and groups."""
    profile = yaml.safe_load((PROFILE / "profile.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert {"slurm_account", "slurm_partition"} <= set(profile["default-resources"])
    proc = subprocess.run(snakemake_cmd("--configfile", str(CONFIG), "--list-rules"), cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rules = set(proc.stdout.split())
    named = (set(profile.get("set-threads", {})) | set(profile.get("set-resources", {}))
             | set(profile.get("groups", {})))
    assert named <= rules, f"profile names rules the workflow does not have: {sorted(named - rules)}"
    groups = set(profile.get("groups", {}).values())
    assert set(profile.get("group-components", {})) <= groups


def test_every_job_ran_as_a_completed_slurm_job(slurm_run):
    work, output = slurm_run
    run_id = slurm_run_id(output)
    jobs = sacct(run_id)
    logged = submitted_jobids(output)
    assert logged, "Snakemake submitted no SLURM job"
    assert set(jobs["jobid"]) == logged, (
        f"sacct jobs of run {run_id} {sorted(jobs['jobid'])} != jobs Snakemake logged {sorted(logged)}")
    assert (jobs["state"] == "COMPLETED").all(), jobs.to_string()
    assert (jobs["exit_code"] == "0:0").all(), jobs.to_string()
    assert (jobs["account"] == "ci").all() and (jobs["partition"] == "debug").all(), jobs.to_string()

    # Every rule that ran (all but the target rule `all`) ran in one of these SLURM jobs,
    # alone or in its profile group, and grouping made fewer SLURM jobs than rule jobs.
    stats = job_stats(output)
    ran = {rule for rule in stats if rule != "all"}
    by_rule = slurm_jobs_by_rule(output)
    assert ran <= set(by_rule), f"rules with no SLURM job: {sorted(ran - set(by_rule))}"
    assert set().union(*by_rule.values()) <= logged
    groups = yaml.safe_load((PROFILE / "profile.yaml").read_text()).get("groups", {})
    n_rule_jobs = sum(n for rule, n in stats.items() if rule != "all")
    if ran & set(groups):
        assert len(jobs) < n_rule_jobs, f"groups did not merge jobs: {len(jobs)} SLURM jobs for {stats}"


def test_results_equal_a_local_run(slurm_run, local_run):
    slurm_dir, _ = slurm_run
    compared = []
    for rel, how in COMPARED.items():
        a, b = slurm_dir / rel, local_run / rel
        if not a.exists() and not b.exists():
            continue
        assert a.exists() and b.exists(), f"{rel}: produced by only one run (SLURM {a.exists()}, local {b.exists()})"
        if how == "bytes":
            norm_a = a.read_bytes().replace(str(slurm_dir).encode(), b"<run>")
            norm_b = b.read_bytes().replace(str(local_run).encode(), b"<run>")
            assert norm_a == norm_b, f"{rel} differs between the SLURM and the local run"
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=True)
        compared.append(rel)
    assert {"results/cohort/cohort.csv", "results/cohort/split.csv"} <= set(compared)


def test_failing_job_is_reported_failed(runs):
    """tests/slurm/Snakefile_fail through the same profile: rule `fail` exits 1."""
    proc = runs["slurm_fail"].wait()
    tmp_path = runs["slurm_fail"].cwd
    assert proc.returncode != 0, proc.stdout[-3000:]
    jobs = sacct(slurm_run_id(proc.stdout))
    fail = jobs[jobs["comment"] == "rule_fail"]
    ok = jobs[jobs["comment"] == "rule_ok"]
    retries = int(yaml.safe_load((PROFILE / "profile.yaml").read_text()).get("retries", 0))
    assert len(fail) == 1 + retries, jobs.to_string()  # the profile's retries, each a SLURM job
    assert (fail["state"] == "FAILED").all() and (fail["exit_code"] == "1:0").all(), jobs.to_string()
    assert list(ok["state"]) == ["COMPLETED"], jobs.to_string()  # keep-going: the other branch ran
    for jobid in fail["jobid"]:
        assert f"SLURM-job '{jobid}' failed, SLURM status is: 'FAILED'" in proc.stdout
    assert "deliberate failure in SLURM job" in proc.stdout  # show-failed-logs prints the rule log
    assert (tmp_path / "ok.txt").exists() and not (tmp_path / "fail.txt").exists()
