#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying (and testing) `noisekd study ... --plan` job arrays:
#   tools/slurm/local-cluster.sh start    munged, slurmctld and slurmd on localhost; prints `export SLURM_CONF=...`
#   tools/slurm/local-cluster.sh stop [--remove]   stops what start started (--remove: and deletes its folder)
# Needs root and Debian 12's packages: apt-get install slurmctld slurmd slurm-client munge (Slurm 22.05).
# The configuration is the smallest that runs jobs in a container: processes tracked through /proc
# (proctrack/linuxproc, no cgroups), no task binding (task/none), consumable cores and memory (select/cons_tres),
# no accounting, daemons and jobs as root. Everything lives under $NOISEKD_SLURM_DIR (default /tmp/noisekd-slurm);
# nothing is written to /etc. Ports: $NOISEKD_SLURM_PORT (slurmctld) and the next one (slurmd), default 6817.
set -euo pipefail
state="${NOISEKD_SLURM_DIR:-/tmp/noisekd-slurm}"
port="${NOISEKD_SLURM_PORT:-6817}"
conf="$state/slurm.conf"
export SLURM_CONF="$conf"

fail() { echo "local-cluster: $*" >&2; exit 1; }

start() {
  [ "$(id -u)" = 0 ] || fail "needs root (munged, slurmctld and slurmd run as root here)"
  for tool in munged slurmctld slurmd sbatch sinfo; do
    command -v "$tool" >/dev/null || fail "$tool is missing; install Debian's slurmctld slurmd slurm-client munge"
  done
  mkdir -p "$state/ctld" "$state/d" "$state/munge"
  # munge: a key of our own and a munged of our own on its own socket, so a system munged (if any) is left alone.
  [ -s "$state/munge/munge.key" ] || { dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none; }
  chmod 700 "$state/munge"; chmod 400 "$state/munge/munge.key"
  socket="$state/munge/munge.socket"
  if ! [ -S "$socket" ] || ! munge -n -S "$socket" >/dev/null 2>&1; then
    munged --force --key-file="$state/munge/munge.key" --socket="$socket" --pid-file="$state/munge/munged.pid" \
           --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed" || fail "munged did not start (see $state/munge/munged.log)"
  fi
  host="$(hostname -s)"
  cpus="$(nproc)"
  memory=$(( $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) * 9 / 10 ))
  cat >"$conf" <<CONF
ClusterName=noisekd
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld -c -f "$conf" || fail "slurmctld did not start (see $state/slurmctld.log)"
  slurmd -f "$conf" || fail "slurmd did not start (see $state/slurmd.log)"
  for _ in $(seq 1 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.5
  done
  fail "the node did not come up within 30 s (sinfo: $(sinfo -h -o %T 2>&1 | head -1); logs in $state)"
}

stop() {
  for daemon in slurmd slurmctld munge/munged; do
    pidfile="$state/$daemon.pid"
    if [ -s "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      rm -f "$pidfile"
    fi
  done
  if [ "${1:-}" = --remove ]; then rm -rf "$state"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start|stop [--remove]" >&2; exit 2 ;;
esac
