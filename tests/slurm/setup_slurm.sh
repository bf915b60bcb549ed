#!/usr/bin/env bash
# Install and start a private single-node SLURM (with accounting) for the SLURM test.
#
#   tests/slurm/setup_slurm.sh STATE_DIR
#
# Installs Debian's slurm-wlm, munge, slurmdbd and mariadb-server (only when missing), writes
# slurm.conf + slurmdbd.conf into STATE_DIR/etc, and starts, in this order:
#   munged -> mariadbd (private datadir) -> slurmdbd -> slurmctld -> slurmd -N localhost
# Each daemon started here writes its pid file into STATE_DIR/run/<daemon>.pid; a daemon that
# was already running (e.g. a system munged) is reused and gets no pid file, so
# tests/slurm/teardown_slurm.sh STATE_DIR stops exactly what this script started.
#
# Accounting (slurmdbd + MariaDB) is on, as on a real cluster: the executor plugin's default
# `sacct` status path and its account check (`sacctmgr`) are exercised. The account `ci` and
# partition `debug` exist, so the CI run passes
#   --default-resources slurm_account=ci slurm_partition=debug
# on top of config/profiles/slurm.
#
# Needs root and apt-get (Debian/Ubuntu). Nothing is written outside STATE_DIR except the
# installed packages, /run/munge (munged's socket, pid file and log: munged.alnburden.*),
# the symlink /etc/slurm/slurm.conf ->
# STATE_DIR/etc/slurm.conf (removed by teardown; the script refuses to run on a host that
# already has a slurm.conf) and, only while apt-get runs and only if it did not exist,
# /usr/sbin/policy-rc.d (so the packages' postinst does not start the system daemons, which
# nobody would stop). Ports: override with ALNBURDEN_SLURM_PORT_BASE
# (default 6817: slurmctld, +1 slurmd, +2 slurmdbd, +3 MariaDB).
set -euo pipefail

STATE=${1:?"usage: $0 STATE_DIR (an empty or new directory)"}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
PORT_BASE=${ALNBURDEN_SLURM_PORT_BASE:-6817}
CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
DB_PORT=$((PORT_BASE + 3))
ACCOUNT=ci
PARTITION=debug
CLUSTER=alnburden

t0=$(date +%s%N)
say() { local ds=$(( ($(date +%s%N) - t0) / 100000000 )); echo "[setup_slurm $((ds / 10)).$((ds % 10))s] $*"; }
die() { echo "setup_slurm: $*" >&2; exit 1; }
trap 'echo "setup_slurm: failed at line $LINENO: $BASH_COMMAND (logs: $STATE/log)" >&2' ERR

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons); run it in CI or a throw-away VM"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu only"

# ---------------------------------------------------------------- install (only what is missing)
need=()
for pair in slurmctld:slurmctld slurmd:slurmd slurmdbd:slurmdbd sbatch:slurm-client \
            munged:munge mariadbd:mariadb-server; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  need+=(slurm-wlm)
  say "installing ${need[*]}"
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  install_pkgs() { apt-get install -y -qq --no-install-recommends "${need[@]}" > "$STATE/apt.log" 2>&1; }
  if ! install_pkgs; then
    say "apt-get install failed; running apt-get update and retrying"
    apt-get update -qq >> "$STATE/apt.log" 2>&1
    install_pkgs || { [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -20 "$STATE/apt.log" >&2; die "apt-get install ${need[*]} failed (log: $STATE/apt.log)"; }
  fi
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  say "installed"
else
  say "slurm, munge, slurmdbd and mariadb already installed"
fi

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "$what did not come up within ${limit}s (logs: $STATE/log)"
    sleep 0.2
  done
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $CTLD_PORT $SLURMD_PORT $DBD_PORT $DB_PORT; do
  port_free "$p" || die "port $p is in use (another SLURM or MariaDB?); set ALNBURDEN_SLURM_PORT_BASE to a free range"
done

# ---------------------------------------------------------------- layout + config
mkdir -p "$STATE"/{etc,run,log,state/ctld,state/d,mysql}
HOST=$(hostname -s)
CPUS=$(nproc)
# Declare at least 16 CPUs (slurmd accepts it with config_overrides) so that the real profile's
# set-threads are schedulable on a small CI machine; oversubscription only slows a tiny run.
NODE_CPUS=$(( CPUS > 16 ? CPUS : 16 ))
# Likewise at least 16000 MB, so the profile's memory requests fit on a small CI machine (no
# cgroups: SLURM schedules by the requests but does not enforce them).
MEM_MB=$(awk '/MemTotal/ {m = int($2 / 1024 - 512); print (m > 16000 ? m : 16000)}' /proc/meminfo)

cat > "$STATE/etc/slurm.conf" <<EOF
# Written by tests/slurm/setup_slurm.sh: a private single-node cluster for the SLURM test.
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$STATE/state/ctld
SlurmdSpoolDir=$STATE/state/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# No cgroups needed (containers / VMs without a delegated cgroup tree).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# As on a real cluster: a job must name an account that exists (the plugin checks it too).
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
AccountingStoreFlags=job_comment
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=5
InactiveLimit=0
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

cat > "$STATE/etc/slurmdbd.conf" <<EOF
# Written by tests/slurm/setup_slurm.sh
AuthType=auth/munge
DbdHost=$HOST
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
chmod 600 "$STATE/etc/slurmdbd.conf"
# The daemons (and slurmdbd, which reads slurmdbd.conf next to it) use SLURM_CONF, but the
# clients must find slurm.conf at the default path: inside a job, the executor's jobstep plugin
# (snakemake-executor-plugin-slurm-jobstep 0.6.1) drops every SLURM_* variable, SLURM_CONF
# included, before it calls srun. So /etc/slurm/slurm.conf becomes a symlink to ours; an
# existing slurm.conf (a real SLURM host) is never touched: the script stops instead.
export SLURM_CONF=$STATE/etc/slurm.conf
if [ -e /etc/slurm/slurm.conf ] || [ -L /etc/slurm/slurm.conf ]; then
  [ "$(readlink /etc/slurm/slurm.conf)" = "$SLURM_CONF" ] \
    || die "/etc/slurm/slurm.conf already exists (a configured SLURM host?); this script only sets up a private cluster on a machine without one"
else
  mkdir -p /etc/slurm && ln -s "$SLURM_CONF" /etc/slurm/slurm.conf
  echo /etc/slurm/slurm.conf > "$STATE/run/created_files"
fi

# ---------------------------------------------------------------- munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running: reusing it (not started here, so not stopped by teardown)"
else
  # munged runs as user munge, which cannot enter STATE_DIR (pytest makes it 0700): its pid
  # file and log go to /run/munge (its usual home) and the pid is copied into STATE_DIR/run.
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  fi
  rm -f /run/munge/munged.alnburden.pid
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.alnburden.pid \
    --log-file=/run/munge/munged.alnburden.log </dev/null >/dev/null 2>&1 \
    || die "munged did not start (log: /run/munge/munged.alnburden.log)"
  wait_for 10 munged sh -c 'munge -n | unmunge'
  wait_for 5 "munged pid file" test -s /run/munge/munged.alnburden.pid
  cp /run/munge/munged.alnburden.pid "$STATE/run/munged.pid"
  say "munged started (pid $(cat "$STATE/run/munged.pid"))"
fi

# ---------------------------------------------------------------- mariadb (private instance)
mariadb-install-db --no-defaults --user=root --datadir="$STATE/mysql" --skip-test-db \
  --auth-root-authentication-method=socket > "$STATE/log/mariadb-install.log" 2>&1 \
  || die "mariadb-install-db failed (log: $STATE/log/mariadb-install.log)"
setsid mariadbd --no-defaults --user=root --datadir="$STATE/mysql" \
  --socket="$STATE/run/mysqld.sock" --pid-file="$STATE/run/mariadbd.pid" \
  --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin \
  --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \
  --log-error="$STATE/log/mariadb.log" </dev/null >/dev/null 2>&1 &
wait_for 30 mariadbd mariadb --no-defaults --socket="$STATE/run/mysqld.sock" -u root -e 'select 1'
wait_for 5 "mariadbd pid file" test -s "$STATE/run/mariadbd.pid"
mariadb --no-defaults --socket="$STATE/run/mysqld.sock" -u root -e "
  CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
say "mariadbd started (pid $(cat "$STATE/run/mariadbd.pid"))"

# ---------------------------------------------------------------- slurmdbd, slurmctld, slurmd
slurmdbd </dev/null >>"$STATE/log/slurmdbd.out" 2>&1 || die "slurmdbd did not start (log: $STATE/log/slurmdbd.log)"
wait_for 30 slurmdbd sacctmgr -n list cluster
say "slurmdbd started (pid $(cat "$STATE/run/slurmdbd.pid"))"
sacctmgr -i add cluster "$CLUSTER" >/dev/null
sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="alnburden CI" Organization=alnburden >/dev/null
sacctmgr -i add user root Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null

slurmctld -f "$SLURM_CONF" </dev/null >>"$STATE/log/slurmctld.out" 2>&1 || die "slurmctld did not start (log: $STATE/log/slurmctld.log)"
wait_for 30 slurmctld scontrol ping
say "slurmctld started (pid $(cat "$STATE/run/slurmctld.pid"))"

slurmd -f "$SLURM_CONF" -N localhost </dev/null >>"$STATE/log/slurmd.out" 2>&1 || die "slurmd did not start (log: $STATE/log/slurmd.log)"
node_idle() { sinfo -h -N -n localhost -o %T | grep -qx idle; }
wait_for 30 "slurmd (node 'localhost' idle)" node_idle
say "slurmd started (pid $(cat "$STATE/run/slurmd.pid")); node localhost idle with $NODE_CPUS CPUs, ${MEM_MB} MB"

# ---------------------------------------------------------------- smoke test
jid=$(sbatch --parsable -A "$ACCOUNT" -p "$PARTITION" -t 1 --mem 10 -o /dev/null --wrap true)
end=$(( $(date +%s) + 30 ))
until [ "$(sacct -n -X -P -j "$jid" -o State 2>/dev/null | head -1)" = COMPLETED ]; do
  [ "$(date +%s)" -lt "$end" ] || die "smoke job $jid did not reach COMPLETED in sacct within 30s (logs: $STATE/log)"
  sleep 0.2
done
say "ready: smoke job $jid COMPLETED in sacct (config: /etc/slurm/slurm.conf -> $SLURM_CONF)"
