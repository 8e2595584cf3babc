#!/usr/bin/env bash
# on-host.sh <host> <command...>: run a command inside a lab host's network, mount and UTS namespaces, as that
# host's root (its libvirtd, dpkg database, /root and boot id). E.g. test/fleet/on-host.sh hv-1 virsh list --all
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ $# -ge 2 ]] || die "usage: on-host.sh <host> <command...>"
[[ -e "$(host_dir "$1")/ns/mnt" ]] || die "no lab host $1 (run test/fleet/setup.sh)"
on_host "$@"
