#!/usr/bin/env bash
# Build the e2e test fleet: N lab hosts hv-1..hv-N (default 3), each a network + mount + UTS namespace with its
# own OpenSSH sshd (own host key, key-only auth), its own libvirtd (QEMU/TCG, private /etc/libvirt,
# /var/lib/libvirt, /run/libvirt, /var/log/libvirt, /var/cache/libvirt, distinct host_uuid), its own dpkg/apt
# database with the lab package installed at 1.0, its own /root (the lab's host-to-host key) and its own boot id.
# The hosts hang off a bridge in the lab namespace ($HVLAB_PREFIX-lab, $HVLAB_NET.1), where the controller
# (hvroll) runs. Writes $HVLAB_DIR/env (addresses, key and known_hosts paths). Undo with teardown.sh.
# Needs root, iproute2, util-linux, openssh-server, libvirt-daemon(+driver-qemu), libvirt-clients, qemu-system-x86, dpkg-dev.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-3}

[[ $(id -u) == 0 ]] || die "must run as root (network and mount namespaces)"
for bin in ip nsenter unshare /usr/sbin/sshd /usr/sbin/libvirtd virsh virt-ssh-helper qemu-system-x86_64 ssh-keygen dpkg-deb dpkg-scanpackages; do
  command -v "$bin" >/dev/null || die "missing $bin — install: apt-get install -y iproute2 util-linux openssh-server openssh-client libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 dpkg-dev"
done
[[ -e "$HVLAB_DIR" ]] && die "$HVLAB_DIR exists: a lab is already set up (or was not torn down): run test/fleet/teardown.sh first"
ip netns list | grep -q "^$HVLAB_PREFIX-" && die "namespaces $HVLAB_PREFIX-* exist: run test/fleet/teardown.sh first"

mkdir -p "$HVLAB_DIR"/{hosts,repo,keys}
# Persistent namespace files must sit on a mount with private propagation.
mount --bind "$HVLAB_DIR" "$HVLAB_DIR"
mount --make-private "$HVLAB_DIR"
echo "$N" >"$HVLAB_DIR/size"

# --- network: bridge in the lab namespace, one veth per host; no default route anywhere, no forwarding
ip netns add "$LAB_NS"
ip -n "$LAB_NS" link set lo up
ip -n "$LAB_NS" link add br0 type bridge
ip -n "$LAB_NS" addr add "$HVLAB_NET.1/24" dev br0
ip -n "$LAB_NS" link set br0 up

# --- keys: the controller's key (hvroll → hosts) and the lab key (host → host, used by qemu+ssh migration)
ssh-keygen -q -t ed25519 -N '' -C hvroll-controller -f "$HVLAB_DIR/keys/controller"
ssh-keygen -q -t ed25519 -N '' -C hvroll-lab-hosts -f "$HVLAB_DIR/keys/lab"

# --- the package whose version marks a host as upgraded, 1.0 and 1.1, in a local apt repository
for v in 1.0 1.1; do
  d=$(mktemp -d); mkdir -p "$d/DEBIAN" "$d/opt/hvlab"
  printf 'Package: hvlab-hypervisor\nVersion: %s\nArchitecture: all\nMaintainer: hvroll tests <tests@hvroll.invalid>\nDescription: hvroll e2e lab: the package a campaign upgrades\n' "$v" >"$d/DEBIAN/control"
  echo "$v" >"$d/opt/hvlab/hypervisor-version"
  # A host where /opt/hvlab/fail-postinst exists fails the configure step, as a broken maintainer script does:
  # apt-get exits 100 and dpkg leaves the new version unpacked but half-configured (status iF). A host where
  # /opt/hvlab/hold-postinst exists waits in the configure step until the test removes it (hold.sh).
  cat >"$d/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
[ "\$1" != configure ] || "$FLEET_SRC/hold.sh" postinst
if [ "\$1" = configure ] && [ -e /opt/hvlab/fail-postinst ]; then
  echo "hvlab-hypervisor: postinst fails on purpose (/opt/hvlab/fail-postinst exists on this lab host)" >&2
  exit 1
fi
POSTINST
  chmod 755 "$d/DEBIAN/postinst"
  dpkg-deb -Zgzip --root-owner-group -b "$d" "$HVLAB_DIR/repo/hvlab-hypervisor_${v}_all.deb" >/dev/null
  rm -rf "$d"
done
(cd "$HVLAB_DIR/repo" && dpkg-scanpackages -m . /dev/null 2>/dev/null >Packages)
chmod -R a+rX "$HVLAB_DIR/repo"

# Shared mount points the per-host bind mounts need (empty directories on the machine; nothing else is touched).
mkdir -p /run/libvirt /var/lib/libvirt /etc/libvirt /var/log/libvirt /var/cache/libvirt /var/lib/hvroll /opt/hvlab

: >"$HVLAB_DIR/known_hosts"
for i in $(seq 1 "$N"); do
  h="hv-$i"; H=$(host_dir "$h"); A=$(host_addr "$h"); NS=$(host_ns "$h")
  mkdir -p "$H"/{ns,pids,log,bin,ssh,root/.ssh,boot,etc-libvirt/qemu,lib-libvirt,run-libvirt,log-libvirt/qemu,cache-libvirt,hvroll,opt,dpkg/{info,updates,triggers},etc-apt/{apt.conf.d,sources.list.d,preferences.d,trusted.gpg.d},apt-lists/partial,apt-cache/archives/partial}
  cat /proc/sys/kernel/random/uuid >"$H/boot_id"

  # network
  ip netns add "$NS"
  ip link add "hvl$i" netns "$LAB_NS" type veth peer name eth0 netns "$NS"
  ip -n "$LAB_NS" link set "hvl$i" master br0 up
  ip -n "$NS" link set lo up
  ip -n "$NS" addr add "$A/24" dev eth0
  ip -n "$NS" link set eth0 up

  # sshd: own host key, key-only, root by key, PATH starting with the host's wrappers (systemctl)
  ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$H/ssh/ssh_host_ed25519_key"
  cat "$HVLAB_DIR/keys/controller.pub" "$HVLAB_DIR/keys/lab.pub" >"$H/ssh/authorized_keys"
  cat >"$H/ssh/sshd_config" <<CONF
ListenAddress $A
Port 22
HostKey $H/ssh/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile $H/ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
MaxStartups 50:30:100
MaxSessions 50
SetEnv PATH=$H/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CONF
  echo "$A $(cut -d' ' -f1-2 "$H/ssh/ssh_host_ed25519_key.pub")" >>"$HVLAB_DIR/known_hosts"

  # systemctl on this host: there is no systemd in the lab; reboot and is-active are what the runbook needs
  cat >"$H/bin/systemctl" <<WRAP
#!/bin/sh
# hvroll lab host $h: no systemd here. 'systemctl reboot' restarts this host's sshd and libvirtd with a new
# boot id (test/fleet/hostd.sh); 'systemctl is-active libvirtd' tells whether its libvirtd runs.
# sshd passes only PATH to sessions: the lab's location is written in here, so a lab moved with
# HVLAB_DIR/HVLAB_PREFIX/HVLAB_NET reboots its own hosts, never the default lab's.
export HVLAB_DIR='$HVLAB_DIR' HVLAB_PREFIX='$HVLAB_PREFIX' HVLAB_NET='$HVLAB_NET'
case "\$*" in
  reboot) exec "$FLEET_SRC/hostd.sh" "$h" reboot ;;
  "is-active libvirtd") exec "$FLEET_SRC/hostd.sh" "$h" is-active ;;
  *) echo "systemctl on lab host $h: '\$*' is not supported" >&2; exit 1 ;;
esac
WRAP
  chmod +x "$H/bin/systemctl"

  # The lab's hypervisor daemon is the machine's libvirtd, whose own version never changes. A real upgrade
  # changes what the restarted daemon reports; here the daemon "runs" the hvlab-hypervisor version that was
  # installed when hostd.sh last started it (<host dir>/daemon-version), and `virsh version --daemon` reports
  # that instead of libvirt's. `virsh migrate` waits first while /opt/hvlab/hold-migrate exists (hold.sh).
  # Every other virsh command is the real one.
  cat >"$H/bin/virsh" <<WRAP
#!/bin/sh
# hvroll lab host $h: virsh, with the daemon version of the lab's hypervisor package (test/fleet/setup.sh).
[ "\$1" != migrate ] || "$FLEET_SRC/hold.sh" migrate
if [ "\$*" = "version --daemon" ]; then
  out=\$(/usr/bin/virsh version --daemon) || exit \$?
  printf '%s\n' "\$out" | sed "s/^Running against daemon: .*/Running against daemon: \$(cat '$H/daemon-version' 2>/dev/null || echo unknown)/"
  exit 0
fi
exec /usr/bin/virsh "\$@"
WRAP
  chmod +x "$H/bin/virsh"

  # libvirt: distinct host_uuid; QEMU as root, no cgroups, no security driver, no per-domain /dev namespace;
  # the address the migration data goes to is this host's lab address
  cat >"$H/etc-libvirt/libvirtd.conf" <<CONF
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
  cat >"$H/etc-libvirt/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
cgroup_controllers = [ ]
security_driver = "none"
namespaces = [ ]
stdio_handler = "file"
migration_address = "$A"
migration_host = "$A"
CONF
  : >"$H/etc-libvirt/libvirt.conf"
  # libvirtd resolves its built-in default user and group (libvirt-qemu) and kvm before reading qemu.conf: the host
  # gets its own /etc/passwd and /etc/group with them (the machine's files are not changed)
  cp /etc/passwd "$H/passwd"; cp /etc/group "$H/group"
  getent group kvm >/dev/null || echo "kvm:x:64990:" >>"$H/group"
  getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64991:" >>"$H/group"
  getent passwd libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64991:64991:hvroll lab:/var/lib/libvirt:/usr/sbin/nologin" >>"$H/passwd"

  # apt and dpkg: private database, the lab repository as the only source
  : >"$H/dpkg/status"; : >"$H/dpkg/available"
  echo "deb [trusted=yes] file:$HVLAB_DIR/repo ./" >"$H/etc-apt/sources.list"
  printf 'APT::Sandbox::User "root";\nAcquire::Languages "none";\n' >"$H/etc-apt/apt.conf.d/00hvlab"

  # root's home: the lab key and the other hosts' keys, for qemu+ssh between hosts
  cp "$HVLAB_DIR/keys/lab" "$H/root/.ssh/id_ed25519"; cp "$HVLAB_DIR/keys/lab.pub" "$H/root/.ssh/id_ed25519.pub"
  chmod 700 "$H/root/.ssh"; chmod 600 "$H/root/.ssh/id_ed25519"

  # mount + UTS namespaces, kept by bind mounts on $H/ns/
  touch "$H/ns/mnt" "$H/ns/uts"
  unshare --mount="$H/ns/mnt" --uts="$H/ns/uts" --propagation private bash -euc '
    H=$1; h=$2
    hostname "$h"
    mount --bind "$H/etc-libvirt" /etc/libvirt
    mount --bind "$H/lib-libvirt" /var/lib/libvirt
    mount --bind "$H/run-libvirt" /run/libvirt
    mount --bind "$H/log-libvirt" /var/log/libvirt
    mount --bind "$H/cache-libvirt" /var/cache/libvirt
    mount --bind "$H/hvroll" /var/lib/hvroll
    mount --bind "$H/opt" /opt/hvlab
    mount --bind "$H/dpkg" /var/lib/dpkg
    mount --bind "$H/etc-apt" /etc/apt
    mount --bind "$H/apt-lists" /var/lib/apt/lists
    mount --bind "$H/apt-cache" /var/cache/apt
    mount --bind "$H/root" /root
    mount --bind "$H/passwd" /etc/passwd
    mount --bind "$H/group" /etc/group
    mount --bind "$H/boot_id" /proc/sys/kernel/random/boot_id
  ' _ "$H" "$h"
done
# every host knows every other host (and itself) for qemu+ssh
for i in $(seq 1 "$N"); do cp "$HVLAB_DIR/known_hosts" "$(host_dir "hv-$i")/root/.ssh/known_hosts"; done

# --- start: install the package at 1.0 with apt, then libvirtd and sshd (hosts in parallel)
pids=()
for i in $(seq 1 "$N"); do
  h="hv-$i"
  ( on_host "$h" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$(host_dir "$h")/log/setup-apt.log" 2>&1 &&
    on_host "$h" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hvlab-hypervisor=1.0 >>"$(host_dir "$h")/log/setup-apt.log" 2>&1 ||
      { cat "$(host_dir "$h")/log/setup-apt.log" >&2; die "$h: installing hvlab-hypervisor 1.0 failed"; }
    on_host "$h" "$FLEET_SRC/hostd.sh" "$h" start ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "a host failed to start (logs under $HVLAB_DIR/hosts/*/log)"; done

cat >"$HVLAB_DIR/env" <<ENV
HVLAB_DIR=$HVLAB_DIR
HVLAB_PREFIX=$HVLAB_PREFIX
HVLAB_LAB_NS=$LAB_NS
HVLAB_CONTROLLER_ADDRESS=$HVLAB_NET.1
HVLAB_HOSTS="$(for i in $(seq 1 "$N"); do printf 'hv-%s=%s ' "$i" "$(host_addr "hv-$i")"; done)"
HVLAB_KNOWN_HOSTS=$HVLAB_DIR/known_hosts
HVLAB_IDENTITY=$HVLAB_DIR/keys/controller
ENV
echo "hvroll test fleet: $N hosts up ($HVLAB_NET.11-$((10 + N))), controller namespace $LAB_NS; see $HVLAB_DIR/env"
