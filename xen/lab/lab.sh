#!/usr/bin/env bash
# vpio's Xen test lab: real Xen 4.17, a PV dom0 and PV domUs (Debian 12's
# packages) inside QEMU/TCG, driven without any interaction. See README.md.
#
#   lab.sh deps                        apt-get install what is missing (root)
#   lab.sh build [--force]             images into $LAB_CACHE (default /tmp/vpio-xenlab)
#   lab.sh run [OPTIONS] SCRIPT [ARG...]
#                                      boot, run SCRIPT as dom0's job; exit with its status
#                                      (124: timeout, 125: crash/panic/no END, 2: lab error)
#   lab.sh smoke [OPTIONS]             run tests/smoke.sh, check the results dir on the host
#   lab.sh all [OPTIONS]               deps + build + smoke (npm run lab:xen)
#   lab.sh clean                       remove $LAB_CACHE
#
# OPTIONS (each also an environment variable, see lib/qemu.sh):
#   --results DIR   host dir mounted read-write at /results in dom0   (LAB_RESULTS)
#   --timeout S     seconds from QEMU start                           (LAB_TIMEOUT=900)
#   --quiet         stream only the LAB lines of the console          (LAB_QUIET=1)
#   --env K=V       exported to the dom0 script (repeatable)          (LAB_ENV)
#   --no-vpio       do not mount the repository at /vpio              (LAB_SHARE_VPIO=0)
#   --cache DIR     images, runs and locks                            (LAB_CACHE)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

cmd=${1:-}; [ $# -gt 0 ] && shift
# options come before the script; the script's own arguments follow it
while [ $# -gt 0 ]; do
  case $1 in
    --results) LAB_RESULTS=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --timeout) LAB_TIMEOUT=$2; shift ;;
    --quiet) LAB_QUIET=1 ;;
    --env) LAB_ENV="${LAB_ENV:-} $2"; shift ;;
    --no-vpio) LAB_SHARE_VPIO=0 ;;
    --cache) LAB_CACHE=$2; shift ;;
    --force) LAB_FORCE=1 ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) echo "lab.sh: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
  shift
done
[[ ${LAB_TIMEOUT:-900} =~ ^[0-9]+$ ]] || { echo "lab.sh: --timeout wants seconds" >&2; exit 2; }

# shellcheck source=lib/host.sh
. "$HERE/lib/host.sh"
# shellcheck source=lib/image.sh
. "$HERE/lib/image.sh"
# shellcheck source=lib/qemu.sh
. "$HERE/lib/qemu.sh"

# smoke: the lab's own test. dom0 runs tests/smoke.sh; the host then checks
# what came back through the results share. Prints "N passed, N failed" last.
smoke() {
  local t0 hp=0 hf=0 f
  t0=$(date +%s.%N)
  [ -n "${LAB_RESULTS:-}" ] || LAB_RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/vpio-xenlab-results.XXXXXX")
  [ -f "$HERE/tests/smoke.sh" ] || lab_die "tests/smoke.sh is missing"
  lab_prepare
  set +e
  lab_run "$HERE/tests/smoke.sh"
  set -e
  # the results share, seen from the host: dom0's file and the guests' console logs
  f=$LAB_RUN_RESULTS/smoke/dom0.txt
  if grep -q '^node v' "$f" 2>/dev/null; then echo "LAB PASS host-results-share"; hp=$((hp + 1))
  else echo "LAB FAIL host-results-share: $f missing or without the node line"; hf=$((hf + 1)); fi
  if grep -qs 'lab-guest: booted' "$LAB_RUN_RESULTS"/guests/guest-smoke-u1.log; then echo "LAB PASS host-guest-logs"; hp=$((hp + 1))
  else echo "LAB FAIL host-guest-logs: no guest console log in $LAB_RUN_RESULTS/guests"; hf=$((hf + 1)); fi
  lab_log "smoke: whole run ${LAB_RUN_TOTAL}s of QEMU, $(lab_since "$t0")s with the build check; results in $LAB_RUN_RESULTS"
  local ok=0
  LAB_SMOKE_SUMMARY=$(lab_report "$hp" "$hf") && ok=1
  printf '%s\n' "$LAB_SMOKE_SUMMARY"
  [ "$ok" = 1 ]
}

case $cmd in
  deps) lab_deps ;;
  build) lab_run_lock; lab_build "${LAB_FORCE:-}"; cat "$LAB_IMAGES/manifest" ;;
  run)
    [ $# -gt 0 ] || usage
    [ -f "$1" ] || lab_die "dom0 script not found: $1"
    lab_prepare
    set +e; lab_run "$@"; rc=$?; set -e
    # the script's PASS/FAIL tally (and a failure for a timeout or crash), last
    if grep -qa '^LAB \(PASS\|FAIL\)' "$LAB_CONSOLE" 2>/dev/null || [ $rc -ge 124 ]; then lab_report || true; fi
    exit $rc ;;
  smoke) smoke ;;
  all)
    t_all=$(date +%s.%N)
    lab_deps
    lab_prepare   # here, with set -e in force (smoke || ... below turns it off inside smoke)
    rc=0; smoke || rc=$?
    lab_log "all: deps + build + smoke took $(lab_since "$t_all")s"
    # the plain summary line again, last, after the log line above
    printf '%s\n' "${LAB_SMOKE_SUMMARY:-0 passed, 1 failed}" | tail -n 1
    exit $rc ;;
  clean) rm -rf "$LAB_CACHE"; lab_log "removed $LAB_CACHE" ;;
  *) usage ;;
esac
