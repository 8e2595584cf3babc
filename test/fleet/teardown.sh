#!/usr/bin/env bash
# Undo setup.sh: kill the processes the lab started — by the PIDs it recorded (sshd, libvirtd, each with its
# descendants) and the QEMU PIDs its libvirtds recorded — then remove its namespaces, mounts and $HVLAB_DIR.
# Safe to run twice, and after a half-finished setup. Never kills anything by name.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || die "must run as root"

kill_recorded() { # pidfile exe
  [[ -f "$1" ]] || return 0
  local pid; pid=$(cat "$1")
  pid_is "$pid" "$2" || return 0
  local kids; kids=$(descendants "$pid")
  kill -KILL "$pid" $kids 2>/dev/null
  return 0
}

if [[ -d "$HVLAB_DIR/hosts" ]]; then
  for H in "$HVLAB_DIR"/hosts/*/; do
    kill_recorded "$H/pids/sshd.pid" sshd
    kill_recorded "$H/pids/libvirtd.pid" libvirtd
    for f in "$H"/run-libvirt/qemu/*.pid; do kill_recorded "$f" qemu-system-x86_64; done
    for f in "$H"/pids/extra-*.pid; do [[ -f "$f" ]] && kill_recorded "$f" "$(basename "$f" .pid | sed 's/^extra-[0-9]*-//')"; done
  done
  sleep 0.2
  # memory cgroups the out-of-memory test created (emptied by the kills above)
  if [[ -f "$HVLAB_DIR/cgroups" ]]; then
    while read -r cg; do [[ "$cg" == /sys/fs/cgroup/* && "$(basename "$cg")" == hvlab-oom-* && -d "$cg" ]] && rmdir "$cg" 2>/dev/null; done <"$HVLAB_DIR/cgroups"
  fi
  for H in "$HVLAB_DIR"/hosts/*/; do
    umount "$H/ns/mnt" 2>/dev/null; umount "$H/ns/uts" 2>/dev/null
    ip netns del "$(host_ns "$(basename "$H")")" 2>/dev/null
  done
fi
ip netns del "$LAB_NS" 2>/dev/null
if [[ -d "$HVLAB_DIR" ]]; then
  umount "$HVLAB_DIR" 2>/dev/null
  rm -rf "$HVLAB_DIR"
fi
left=$(ip netns list | grep "^$HVLAB_PREFIX-" || true)
[[ -z "$left" ]] || die "namespaces left behind: $left"
echo "hvroll test fleet: torn down"
