# Shared settings of the e2e test fleet (sourced by the other scripts in test/fleet/).
# Everything the lab creates lives under $HVLAB_DIR; every namespace it creates is named $HVLAB_PREFIX-*.
# The subnet is private to the lab namespace: no host namespace has a default route, nothing is forwarded.
HVLAB_DIR=${HVLAB_DIR:-/run/hvroll-lab}
HVLAB_PREFIX=${HVLAB_PREFIX:-hvlab}
HVLAB_NET=${HVLAB_NET:-10.231.7}          # /24: .1 is the controller (lab namespace), .11.. the hosts
LAB_NS="$HVLAB_PREFIX-lab"
FLEET_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "hvroll test fleet: $*" >&2; exit 1; }
host_dir() { echo "$HVLAB_DIR/hosts/$1"; }
host_ns() { echo "$HVLAB_PREFIX-$1"; }
host_index() { echo "${1#hv-}"; }
host_addr() { echo "$HVLAB_NET.$((10 + $(host_index "$1")))"; }

# Run a command inside host $1: its network, mount and UTS namespaces (sshd, libvirtd, dpkg, boot id).
on_host() {
  local h=$1; shift
  nsenter --net="/run/netns/$(host_ns "$h")" --mount="$(host_dir "$h")/ns/mnt" --uts="$(host_dir "$h")/ns/uts" -- "$@"
}

# A recorded PID is killed only if it is still the program we started (PIDs are reused).
pid_is() { # pid exe-basename
  local exe; exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}
  [[ "$(basename "$exe")" == "$2" ]]
}

# Descendants of a PID (depth-first), from /proc.
descendants() {
  local p=$1 c
  for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do descendants "$c"; echo "$c"; done
}
