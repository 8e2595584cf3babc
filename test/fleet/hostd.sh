#!/usr/bin/env bash
# The "machine" side of one lab host; always runs inside that host's namespaces (on_host, or from its sshd).
#   hostd.sh <host> start       start libvirtd, wait until it answers, then sshd; PIDs go to <host dir>/pids/
#   hostd.sh <host> stop        stop sshd (listener and every session) and libvirtd
#   hostd.sh <host> stop-sshd | stop-libvirtd     stop only one of them (the e2e failure tests)
#   hostd.sh <host> reboot      what `systemctl reboot` does on a lab host: drop every SSH session, stop libvirtd,
#                               kill any QEMU still running (a real reboot would), write a new boot id, start again
#   hostd.sh <host> is-active   exit 0 and print "active" when this host's libvirtd runs, else "inactive", exit 3
set -uo pipefail
source "$(dirname "$0")/lib.sh"
h=$1; cmd=$2
H=$(host_dir "$h")

alive() { [[ -f "$H/pids/$1.pid" ]] && pid_is "$(cat "$H/pids/$1.pid")" "$1"; }

start_libvirtd() {
  alive libvirtd && return 0
  setsid /usr/sbin/libvirtd --config /etc/libvirt/libvirtd.conf --pid-file /run/libvirt/libvirtd.pid >>"$H/log/libvirtd.out" 2>&1 </dev/null &
  echo $! >"$H/pids/libvirtd.pid"
  for _ in $(seq 1 300); do
    if virsh -c qemu:///system version >/dev/null 2>&1; then
      # What this daemon reports as its version until its next start (the lab's virsh wrapper reads it).
      cat /opt/hvlab/hypervisor-version >"$H/daemon-version" 2>/dev/null || echo none >"$H/daemon-version"
      return 0
    fi
    kill -0 "$(cat "$H/pids/libvirtd.pid")" 2>/dev/null || { tail -20 "$H/log/libvirtd.out" >&2; die "$h: libvirtd exited at start"; }
    sleep 0.1
  done
  die "$h: libvirtd did not answer within 30 s (see $H/log/libvirtd.out)"
}

start_sshd() {
  alive sshd && return 0
  mkdir -p /run/sshd
  setsid /usr/sbin/sshd -D -f "$H/ssh/sshd_config" -E "$H/log/sshd.log" </dev/null >>"$H/log/sshd.out" 2>&1 &
  echo $! >"$H/pids/sshd.pid"
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$(host_addr "$h")/22") 2>/dev/null && return 0
    kill -0 "$(cat "$H/pids/sshd.pid")" 2>/dev/null || { tail -20 "$H/log/sshd.log" >&2; die "$h: sshd exited at start"; }
    sleep 0.1
  done
  die "$h: sshd did not listen within 10 s (see $H/log/sshd.log)"
}

stop_one() { # name
  alive "$1" || return 0
  local pid; pid=$(cat "$H/pids/$1.pid")
  local kids; kids=$(descendants "$pid" | grep -vx "$$")
  kill -TERM "$pid" $kids 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" $kids 2>/dev/null
  return 0
}

kill_guests() {
  local f pid
  for f in /run/libvirt/qemu/*.pid; do
    [[ -f "$f" ]] || continue
    pid=$(cat "$f"); pid_is "$pid" qemu-system-x86_64 && kill -KILL "$pid"
  done
  return 0
}

case "$cmd" in
  start) start_libvirtd && start_sshd ;;
  stop) stop_one sshd; stop_one libvirtd ;;
  stop-sshd) stop_one sshd ;;
  stop-libvirtd) stop_one libvirtd ;;
  reboot)
    # Detached from the SSH session that asked for it, which this kills, as a reboot would.
    if [[ "${HVLAB_DETACHED:-}" != 1 ]]; then
      HVLAB_DETACHED=1 setsid "$0" "$h" reboot >>"$H/log/reboot.log" 2>&1 </dev/null &
      exit 0
    fi
    sleep 0.3
    echo "$(date -Is) $h: rebooting"
    stop_one sshd; stop_one libvirtd; kill_guests
    cat /proc/sys/kernel/random/uuid >"$H/boot_id"   # in place: the file is bind-mounted over the boot_id
    sleep 1
    start_libvirtd && start_sshd
    echo "$(date -Is) $h: up, boot id $(cat "$H/boot_id")"
    ;;
  is-active)
    if alive libvirtd; then echo active; exit 0; else echo inactive; exit 3; fi ;;
  *) die "hostd.sh: unknown command $cmd" ;;
esac
