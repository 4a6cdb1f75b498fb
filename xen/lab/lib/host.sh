# shellcheck shell=bash disable=SC2034  # globals used by the other lib/*.sh
# Host side of the lab: settings, logging and the Debian package list.
# Sourced by lab.sh; every other lib/*.sh on the host side relies on it.

LAB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # xen/lab
LAB_REPO=$(cd "$LAB_HOME/../.." && pwd)                    # the vpio checkout
LAB_CACHE=${LAB_CACHE:-/tmp/vpio-xenlab}
XEN_SERIES=4.17

# Exactly what the lab needs, by role (installed with --no-install-recommends):
#   emulator and hypervisor        qemu-system-x86 xen-hypervisor-4.17-amd64
#   dom0 toolstack                 xen-utils-4.17 xenstore-utils
#   dom0 and domU kernel, modules  linux-image-amd64
#   the C grant/evtchn tool        gcc libc6-dev libxen-dev
#   guest and dom0 userland        busybox-static bash iproute2 iperf3
#   image building                 cpio kmod xz-utils binutils
LAB_DEBIAN_PACKAGES=(
  qemu-system-x86 xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
  linux-image-amd64 gcc libc6-dev libxen-dev
  busybox-static bash iproute2 iperf3 cpio kmod xz-utils binutils
)

lab_log() { printf '[xenlab %s] %s\n' "$(date +%T)" "$*" >&2; }
lab_die() { lab_log "error: $*"; exit 2; }
# seconds since $1 (a `date +%s.%N` value), one decimal
lab_since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }

lab_missing_packages() {
  local p
  for p in "${LAB_DEBIAN_PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || echo "$p"
  done
}

# deps: install what is missing; nothing to do (and no root needed) when all is there.
lab_deps() {
  local missing
  missing=$(lab_missing_packages | tr '\n' ' ')
  if [ -z "${missing// /}" ]; then
    lab_log "deps: all ${#LAB_DEBIAN_PACKAGES[@]} Debian packages are installed"
    return 0
  fi
  local cmd="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"
  if [ "$(id -u)" != 0 ]; then
    lab_log "deps: missing Debian packages: $missing"
    lab_die "installing them needs root; run as root: apt-get update && $cmd"
  fi
  lab_log "deps: installing $missing"
  local t0; t0=$(date +%s.%N)
  # another apt-get may hold the dpkg lock (shared machines): wait for it, bounded
  apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null
  # shellcheck disable=SC2086  # $missing is a word list
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing </dev/null
  missing=$(lab_missing_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] || lab_die "deps: still missing after apt-get: $missing"
  lab_log "deps: done in $(lab_since "$t0")s"
}

lab_check_deps() {
  local missing
  missing=$(lab_missing_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] || lab_die "missing Debian packages: $missing (run: bash $LAB_HOME/lab.sh deps, as root)"
}
