#!/usr/bin/env bash
# Stop exactly the daemons tests/slurm/setup_slurm.sh started, by their pid files.
#
#   tests/slurm/teardown_slurm.sh STATE_DIR
#
# Order: cancel this cluster's jobs, then slurmd, slurmctld, slurmdbd, mariadbd, munged.
# A pid is signalled only if that process still runs the expected program (guards against a
# recycled pid). SIGTERM, wait up to 15 s, then SIGKILL. Safe to run twice, or after a setup
# that failed half-way (missing pid files are skipped). Installed packages are left in place.
set -uo pipefail

STATE=${1:?"usage: $0 STATE_DIR (the directory given to setup_slurm.sh)"}
[ -d "$STATE" ] || { echo "teardown_slurm: $STATE does not exist: nothing to stop"; exit 0; }
STATE=$(cd "$STATE" && pwd)
rc=0

if [ -s "$STATE/run/slurmctld.pid" ] && [ -f "$STATE/etc/slurm.conf" ]; then
  SLURM_CONF=$STATE/etc/slurm.conf timeout 10 scancel --user root >/dev/null 2>&1 || true
  sleep 1
fi

stop() {  # stop NAME EXPECTED_COMM
  local name=$1 comm=$2 pidfile=$STATE/run/$1.pid pid
  [ -s "$pidfile" ] || return 0
  pid=$(tr -dc '0-9' < "$pidfile")
  if [ -z "$pid" ] || [ ! -r "/proc/$pid/comm" ] || [ "$(cat "/proc/$pid/comm")" != "$comm" ]; then
    echo "teardown_slurm: $name (pid ${pid:-?}) is not running"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 150); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    echo "teardown_slurm: $name (pid $pid) ignored SIGTERM for 15 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
    rc=1
  fi
  echo "teardown_slurm: stopped $name (pid $pid)"
  rm -f "$pidfile"
}

stop slurmd slurmd
stop slurmctld slurmctld
stop slurmdbd slurmdbd
stop mariadbd mariadbd
if [ -s "$STATE/run/munged.pid" ]; then
  stop munged munged
  rm -f /run/munge/munged.alnburden.log /run/munge/munged.alnburden.pid
fi

# Files outside STATE_DIR that setup created (the /etc/slurm/slurm.conf symlink), removed only
# if they still point into STATE_DIR.
if [ -f "$STATE/run/created_files" ]; then
  while read -r f; do
    if [ -L "$f" ] && [ "$(readlink "$f")" = "${STATE}/etc/$(basename "$f")" ]; then
      rm -f "$f" && echo "teardown_slurm: removed $f"
    fi
  done < "$STATE/run/created_files"
  rm -f "$STATE/run/created_files"
fi
exit $rc
