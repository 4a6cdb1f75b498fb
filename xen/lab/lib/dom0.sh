# shellcheck shell=bash
# Helpers for dom0 test scripts. Source it first thing:
#
#   . /lab/lib/dom0.sh
#   lab_toolstack_up                       # xenstored, xen-init-dom0, xenconsoled
#   id=$(lab_domu_create g1 --job /vpio/path/to/job.sh)
#   lab_domu_wait g1 done 60 && lab_pass g1-done || lab_fail g1-done "status $(lab_domu_read g1 data/status)"
#   lab_domu_destroy g1
#   lab_summary                            # "N passed, N failed"; status 1 if any failed
#
# Everything prints on dom0's console, which the host streams and parses:
#   LAB PASS name | LAB FAIL name: why | LAB TIME name seconds | LAB INFO text
# Functions return 0 on success and 1 on failure (after saying why on stderr)
# unless noted; none exits the script. Timeouts are in seconds.
#
# Paths: /vpio is the repository (read-only), /results the caller's results
# dir (read-write; empty when the caller passed none), /lab/domu/{vmlinux,initrd}
# the default domU kernel and initramfs, /tmp/lab our scratch dir.

LAB_PASSED=0
LAB_FAILED=0
LAB_TMP=/tmp/lab
mkdir -p "$LAB_TMP"

# Time and sleep without starting processes: under TCG every fork+exec in a PV
# domain costs tens of milliseconds of the CPU the guests need, and the wait
# loops below poll.
_lab_cs() { local u _; read -r u _ </proc/uptime; LAB_CS=$((10#${u/./})); }   # LAB_CS: centiseconds since boot
lab_now() { _lab_cs; printf '%d.%02d\n' $((LAB_CS / 100)) $((LAB_CS % 100)); }   # seconds since dom0 boot
lab_elapsed() { # seconds since T0 (a lab_now value), 2 decimals
  local t0=$1; _lab_cs
  t0=$((10#${t0%.*} * 100 + 10#${t0#*.})); t0=$((LAB_CS - t0))
  printf '%d.%02d\n' $((t0 / 100)) $((t0 % 100))
}
mkfifo "$LAB_TMP/.sleep" 2>/dev/null
exec {LAB_SLEEP_FD}<>"$LAB_TMP/.sleep"
lab_sleep() { read -r -t "$1" -u "$LAB_SLEEP_FD" _; return 0; }   # SECONDS (decimals ok)
lab_info() { echo "LAB INFO $*"; }
lab_time() { echo "LAB TIME $1 $2"; }                          # name seconds
lab_err() { echo "lab: $*" >&2; }

lab_pass() { LAB_PASSED=$((LAB_PASSED + 1)); echo "LAB PASS $1${2:+ ($2)}"; }
lab_fail() { LAB_FAILED=$((LAB_FAILED + 1)); echo "LAB FAIL $1: ${2:-failed}"; return 1; }

# lab_check NAME CMD [ARG...]: runs CMD; PASS when it exits 0, else FAIL with
# its status and the last line it printed. Returns CMD's success.
lab_check() {
  local name=$1 out rc; shift
  out=$("$@" 2>&1); rc=$?
  # its output indented under the name; LAB lines (e.g. LAB TIME) stay as they are
  [ -n "$out" ] && printf '%s\n' "$out" | awk -v n="$name" '/^LAB / { print; next } { print "  [" n "] " $0 }'
  if [ $rc = 0 ]; then lab_pass "$name"; else lab_fail "$name" "exit $rc: $(printf '%s\n' "$out" | tail -n 1)"; fi
}

# Prints "LAB SUMMARY ..." and the plain "N passed, N failed" line; returns 1 if anything failed.
lab_summary() {
  echo "LAB SUMMARY passed=$LAB_PASSED failed=$LAB_FAILED"
  echo "$LAB_PASSED passed, $LAB_FAILED failed"
  [ "$LAB_FAILED" = 0 ]
}

# --- waiting ------------------------------------------------------------------------

# lab_wait_key PATH [VALUE] [TIMEOUT]: waits until xenstore PATH exists (and
# equals VALUE when given and not empty); prints its value. Default 30 s.
lab_wait_key() {
  local path=$1 want=${2:-} timeout=${3:-30} v deadline
  _lab_cs; deadline=$((LAB_CS + timeout * 100))
  while :; do
    if v=$(xenstore-read "$path" 2>/dev/null) && { [ -z "$want" ] || [ "$v" = "$want" ]; }; then
      printf '%s\n' "$v"; return 0
    fi
    _lab_cs; [ "$LAB_CS" -ge "$deadline" ] && break
    lab_sleep 0.25
  done
  lab_err "timeout (${timeout}s) waiting for $path${want:+ = $want} (now: ${v:-absent})"
  return 1
}

# lab_wait_for TIMEOUT CMD [ARG...]: retries CMD every 0.2 s until it succeeds.
lab_wait_for() {
  local timeout=$1 deadline; shift
  _lab_cs; deadline=$((LAB_CS + timeout * 100))
  until "$@" >/dev/null 2>&1; do
    _lab_cs; [ "$LAB_CS" -ge "$deadline" ] && { lab_err "timeout (${timeout}s): $*"; return 1; }
    lab_sleep 0.25
  done
}

# --- toolstack ----------------------------------------------------------------------

# lab_toolstack_up [--no-xenstored] [--no-xenconsoled]
#   Starts Xen's C xenstored, waits until it answers, runs xen-init-dom0 (dom0's
#   own xenstore nodes) and xenconsoled --log=guest. With --no-xenstored it
#   starts nothing: every xenstore client in dom0 (xl, xenconsoled,
#   xenstore-read -s) blocks forever until some daemon answers, so start yours,
#   then call lab_toolstack_finish.
lab_toolstack_up() {
  local xenstored=1 consoled=1 t0
  while [ $# -gt 0 ]; do
    case $1 in
      --no-xenstored) xenstored=0 ;;
      --no-xenconsoled) consoled=0 ;;
      *) lab_err "lab_toolstack_up: unknown option $1"; return 1 ;;
    esac
    shift
  done
  [ $xenstored = 1 ] || { lab_info "toolstack: not starting xenstored (bring your own, then lab_toolstack_finish)"; return 0; }
  t0=$(lab_now)
  # shellcheck disable=SC2086  # LAB_XENSTORED_ARGS: extra words for xenstored
  XENSTORED_ROOTDIR=/run/xenstored xenstored --pid-file /run/xenstored.pid ${LAB_XENSTORED_ARGS:-} ||
    { lab_err "xenstored failed to start"; return 1; }
  LAB_CONSOLED=$consoled lab_toolstack_finish || return 1
  lab_time toolstack-up "$(lab_elapsed "$t0")"
}

# lab_toolstack_finish: after a xenstored (any) listens on /run/xenstored/socket.
lab_toolstack_finish() {
  lab_wait_for 30 test -S /run/xenstored/socket || return 1
  lab_wait_for 30 xenstore-read -s / || return 1
  xen-init-dom0 >"$LAB_TMP/xen-init-dom0.log" 2>&1 || { lab_err "xen-init-dom0: $(tail -n 1 "$LAB_TMP/xen-init-dom0.log")"; return 1; }
  if [ "${LAB_CONSOLED:-1}" = 1 ]; then
    xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
      { lab_err "xenconsoled failed to start"; return 1; }
  fi
  echo "LAB TOOLSTACK-UP uptime=$(lab_now)"
}

# lab_bridge_up [BRIDGE] [CIDR]: a dom0 bridge for vif= guests (for comparisons
# with the kernel's netback; vpio's own netback needs none). Default xenbr0,
# 169.254.100.1/24: link-local, and inside the emulated machine anyway.
lab_bridge_up() {
  local br=${1:-xenbr0} cidr=${2:-169.254.100.1/24}
  ip link show "$br" >/dev/null 2>&1 && return 0
  modprobe bridge && modprobe xen-netback || return 1
  ip link set lo up
  ip link add "$br" type bridge stp_state 0 forward_delay 0 &&
    ip addr add "$cidr" dev "$br" && ip link set "$br" up
}

# --- domUs --------------------------------------------------------------------------

# lab_domid NAME: prints the domain id of NAME.
lab_domid() { xl domid "$1" 2>/dev/null; }

# lab_domu_read NAME KEY: xenstore-read /local/domain/<id>/KEY.
lab_domu_read() {
  local id; id=$(lab_domid "$1") || return 1
  xenstore-read "/local/domain/$id/$2" 2>/dev/null
}

# lab_domu_create NAME [options]: writes $LAB_TMP/NAME.cfg, runs `xl create`,
# prints the domain id. Options:
#   --mem MIB          memory (128)            --vcpus N      vcpus (1)
#   --extra 'k=v ...'  kernel command-line words; the guest's /init (and job)
#                      get them as environment variables (names without dots)
#   --job FILE         a dom0 file (e.g. under /vpio) run as the guest's job
#   --job-cmd 'CMD'    the job as one shell command line
#   --file SRC[:DST]   put a dom0 file or dir into this guest (repeatable);
#                      ELF files bring the libraries they need (from dom0)
#   --vif BRIDGE       one kernel-netback vif on BRIDGE (lab_bridge_up first),
#                      and xen-netfront in the guest; default: no vif at all
#   --addr CIDR        the guest's eth0 address (with --vif)
#   --kernel PATH      another PV kernel (e.g. a unikernel); --ramdisk PATH|none
#   --cfg 'key = val'  one more raw xl.cfg line (repeatable)
# --job, --job-cmd and --file make a per-guest initramfs: the lab's one with a
# small cpio of these files appended (the kernel unpacks both), in $LAB_TMP.
lab_domu_create() {
  local name=$1 mem=128 vcpus=1 extra='' job='' jobcmd='' vif='' addr='' kernel=/lab/domu/vmlinux ramdisk=/lab/domu/initrd
  local files=() cfg=() t0 id
  shift || { lab_err "lab_domu_create NAME [options]"; return 1; }
  while [ $# -gt 0 ]; do
    case $1 in
      --mem) mem=$2; shift ;;
      --vcpus) vcpus=$2; shift ;;
      --extra) extra="$extra $2"; shift ;;
      --job) job=$2; shift ;;
      --job-cmd) jobcmd=$2; shift ;;
      --file) files+=("$2"); shift ;;
      --vif) vif=$2; shift ;;
      --addr) addr=$2; shift ;;
      --kernel) kernel=$2; shift ;;
      --ramdisk) ramdisk=$2; shift ;;
      --cfg) cfg+=("$2"); shift ;;
      *) lab_err "lab_domu_create: unknown option $1"; return 1 ;;
    esac
    shift
  done
  if [ -n "$job" ] || [ -n "$jobcmd" ] || [ ${#files[@]} -gt 0 ]; then
    ramdisk=$(lab_domu_initrd "$name" "$ramdisk" "$job" "$jobcmd" "${files[@]}") || return 1
  fi
  [ -n "$vif" ] && extra="$extra lab_netfront=1"
  [ -n "$addr" ] && extra="$extra lab_addr=$addr"
  {
    echo "name = \"$name\""
    echo "type = \"pv\""
    echo "kernel = \"$kernel\""
    [ "$ramdisk" != none ] && echo "ramdisk = \"$ramdisk\""
    echo "memory = $mem"
    echo "vcpus = $vcpus"
    echo "extra = \"console=hvc0 loglevel=4 mitigations=off$extra\""   # a lab: speed over side channels
    [ -n "$vif" ] && echo "vif = [ 'bridge=$vif' ]"
    echo "on_crash = \"preserve\""
    printf '%s\n' "${cfg[@]}"
  } >"$LAB_TMP/$name.cfg"
  t0=$(lab_now)
  if ! xl create "$LAB_TMP/$name.cfg" >"$LAB_TMP/$name.create.log" 2>&1; then
    lab_err "xl create $name failed: $(tail -n 3 "$LAB_TMP/$name.create.log" | tr '\n' ' ')"
    return 1
  fi
  [ "$ramdisk" = "$LAB_TMP/$name.initrd" ] && rm -f "$ramdisk"   # loaded into the guest: free dom0's copy
  id=$(lab_domid "$name") || { lab_err "xl create $name: no domain id"; return 1; }
  lab_time "xl-create-$name" "$(lab_elapsed "$t0")" >&2   # stdout is the domid
  echo "$t0" >"$LAB_TMP/$name.created"
  echo "$id"
}

# lab_domu_initrd NAME BASE JOB JOBCMD [FILE...]: prints the path of BASE
# with a cpio of the job and files appended.
lab_domu_initrd() {
  local name=$1 base=$2 job=$3 jobcmd=$4 r item src dst; shift 4
  r=$LAB_TMP/$name.root
  rm -rf "$r"; mkdir -p "$r/lab"
  if [ -n "$job" ]; then
    [ -f "$job" ] || { lab_err "job file not found in dom0: $job"; return 1; }
    cp "$job" "$r/lab/job" && chmod 755 "$r/lab/job"
  elif [ -n "$jobcmd" ]; then
    printf '#!/bin/sh\n%s\n' "$jobcmd" >"$r/lab/job" && chmod 755 "$r/lab/job"
  fi
  for item in "$@"; do
    src=${item%%:*}; dst=$(lab_usr_path "${item#*:}")
    [ -e "$src" ] || { lab_err "--file: not found in dom0: $src"; return 1; }
    mkdir -p "$r$(dirname "$dst")"
    cp -aL "$src" "$r$dst" || return 1
    lab_elf_libs "$r" "$src" || return 1
  done
  cp "$base" "$LAB_TMP/$name.initrd" &&
    (cd "$r" && find . | cpio -o -H newc --quiet) >>"$LAB_TMP/$name.initrd" || return 1
  rm -rf "$r"
  echo "$LAB_TMP/$name.initrd"
}

# lab_usr_path PATH: /bin, /sbin, /lib, /lib64 are links into /usr in both
# images (merged /usr); a cpio entry for one of them as a real directory would
# replace the link when the kernel unpacks it, and hide the image's /lib.
lab_usr_path() {
  case $1 in /bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$1" ;; *) echo "$1" ;; esac
}

# lab_elf_libs ROOT PATH: the shared libraries of ELF files under PATH, from
# dom0's own /usr/lib, into ROOT. Fails naming a library dom0 does not have.
lab_elf_libs() {
  local r=$1 f lib dst
  while IFS= read -r f; do
    [ "$(head -c 4 "$f" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] || continue
    for lib in $(/lib64/ld-linux-x86-64.so.2 --list "$f" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }'); do
      dst=$(lab_usr_path "$lib")
      [ -e "$r$dst" ] && continue
      mkdir -p "$r$(dirname "$dst")" && cp -L "$lib" "$r$dst" || return 1
    done
    if /lib64/ld-linux-x86-64.so.2 --list "$f" 2>/dev/null | grep -q 'not found'; then
      lab_err "$f needs a library dom0 lacks: $(/lib64/ld-linux-x86-64.so.2 --list "$f" | grep 'not found' | head -n 1)" \
        "(add it at build time: LAB_DOM0_FILES or LAB_DOMU_FILES)"
      return 1
    fi
  done < <(find -L "$2" -type f)
}

# lab_domu_wait NAME [STATUS] [TIMEOUT]: waits for data/status = STATUS
# (default booted; 60 s), prints "LAB TIME NAME-STATUS s" since its xl create.
# The lab's guests go booted -> done: waiting for booted accepts done too.
lab_domu_wait() {
  local name=$1 want=${2:-booted} timeout=${3:-60} id t0 deadline v
  id=$(lab_domid "$name") || { lab_err "no domain $name"; return 1; }
  _lab_cs; deadline=$((LAB_CS + timeout * 100))
  until v=$(xenstore-read "/local/domain/$id/data/status" 2>/dev/null) &&
    { [ "$v" = "$want" ] || { [ "$want" = booted ] && [ "$v" = 'done' ]; }; }; do
    _lab_cs; [ "$LAB_CS" -ge "$deadline" ] &&
      { lab_err "timeout (${timeout}s) waiting for $name's data/status = $want (now: ${v:-absent})"; return 1; }
    lab_sleep 0.25
  done
  t0=$(cat "$LAB_TMP/$name.created" 2>/dev/null) && lab_time "$name-$want" "$(lab_elapsed "$t0")"
  return 0
}

# lab_domu_destroy NAME: xl destroy, then waits until xl and xenstore forget it.
lab_domu_destroy() {
  local name=$1 id t0
  id=$(lab_domid "$name") || { lab_err "no domain $name"; return 1; }
  t0=$(lab_now)
  xl destroy "$name" >"$LAB_TMP/$name.destroy.log" 2>&1 || { lab_err "xl destroy $name: $(tail -n 1 "$LAB_TMP/$name.destroy.log")"; return 1; }
  lab_wait_for 60 sh -c "! xl domid '$name' && ! xenstore-exists /local/domain/$id" || return 1
  lab_time "xl-destroy-$name" "$(lab_elapsed "$t0")"
}

# lab_guest_log NAME [LINES]: the tail of NAME's console log (xenconsoled).
lab_guest_log() { tail -n "${2:-20}" "/var/log/xen/console/guest-$1.log" 2>/dev/null; }

# lab_save SRC [NAME]: copies a dom0 file into the caller's results dir.
lab_save() {
  grep -q ' /results ' /proc/mounts || { lab_err "no results dir mounted"; return 1; }
  cp -a "$1" "/results/${2:-$(basename "$1")}"
}
