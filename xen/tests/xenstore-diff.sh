#!/bin/bash
# xenstore-diff.sh - the differential xenstore test: the same request streams
# (packages/xenstore/test/streams/*.json) replayed against Xen 4.17's C
# xenstored and against vpio-xenstored, in dom0 of the lab, and the replies
# required identical after normalising what may legitimately differ
# (transaction ids, DIRECTORY_PART generations, CONTROL output; see
# packages/xenstore/src/replay-record.ts and the package README,
# "Differential test against Xen's xenstored").
#
#   bash xen/lab/lab.sh run [--results DIR] [--quiet] xen/tests/xenstore-diff.sh
#   xen/tests/xenstore-diff.sh            the same, from the host
#
# Needs packages/xenstore/dist (npm run build -w @vpio/xenstore): dom0 runs
# it from the read-only repository at /vpio with the lab's Node.
#
# In dom0:
#   1. the lab's toolstack: Xen's C xenstored on /run/xenstored/socket,
#      xen-init-dom0, xenconsoled. Its store as it starts is saved.
#   2. every stream replayed against it with vpio-xs-replay --record; three
#      are skipped there: `vpio-demote` (12-unprivileged: a CONTROL command
#      only vpio-xenstored has; Xen treats every socket connection as dom0,
#      so an unprivileged caller needs a real guest's ring),
#      `introduce-without-guest` (09-domains: C xenstored maps the guest's
#      xenstore page on INTRODUCE, which fails with EINVAL for a domid with
#      no domain behind it; 13-domain-requests covers what needs no guest)
#      and `malformed-one-arg` (14-malformed-one-arg: 4.17 answers a READ,
#      DIRECTORY, GET_PERMS, MKDIR or RM without exactly one NUL-terminated
#      string with a stale errno, and aborts when that errno is 0).
#   3. vpio-xenstored started on /run/vpio-xs/socket, seeded with a copy of
#      the C daemon's starting store (same nodes, values, perms, order), so
#      both start equal; every stream replayed against it, the two skipped
#      ones included (checked against their own expectations only).
#   4. the records diffed stream by stream.
# Prints LAB PASS|FAIL for each stream against its expectations on both
# daemons (xen-c/NAME, vpio/NAME), for each stream's diff (diff/NAME, every
# differing step with both replies under it), for each store being back to
# where it started (store-clean/...) and the two starting stores being
# equal (store-equal), then the lab summary. Files: /results/xenstore-diff/.
set -u

if [ ! -f /lab/lib/dom0.sh ]; then
  # ------------------------------------------------------------------ host side
  REPO=$(cd "$(dirname "$0")/../.." && pwd)
  grep -qs 'vpio-xs-record/1' "$REPO/packages/xenstore/dist/bin/vpio-xs-replay.js" "$REPO"/packages/xenstore/dist/chunk-*.js || {
    echo "xenstore-diff.sh: packages/xenstore/dist lacks the recording replayer: npm run build -w @vpio/xenstore" >&2; exit 2; }
  exec bash "$REPO/xen/lab/lab.sh" run "$@" "$REPO/xen/tests/xenstore-diff.sh"
fi

# -------------------------------------------------------------------- dom0 side
set +u
# shellcheck disable=SC1091  # the lab puts it there
. /lab/lib/dom0.sh
set -u
PKG=/vpio/packages/xenstore
STREAMS=("$PKG"/test/streams/*.json)
C_SOCK=/run/xenstored/socket
V_DIR=/run/vpio-xs
V_SOCK=$V_DIR/socket
OUT=/results/xenstore-diff
grep -q ' /results ' /proc/mounts || OUT=$LAB_TMP/xenstore-diff
mkdir -p "$OUT"
C_SKIP=(--skip vpio-demote --skip introduce-without-guest --skip malformed-one-arg)

replay() { node "$PKG/dist/bin/vpio-xs-replay.js" "$@"; }

# report PREFIX TAPFILE: a LAB line per stream of a vpio-xs-replay TAP output,
# the "#" lines under a failed one indented below it.
report() {
  local prefix=$1 tap=$2 line name='' status detail why=()
  flush() {
    [ -n "$name" ] || return 0
    # a replay's "(N steps)" counts the steps that matched; say what failed instead
    [[ $status = fail && $detail =~ ^[0-9]+\ steps$ ]] && detail="${#why[@]} difference(s) from the stream's expectations, ${detail% steps} steps as expected"
    if [ "$status" = ok ]; then lab_pass "$prefix/$name" "$detail"
    elif [ "$status" = skip ]; then lab_info "$prefix/$name skipped: $detail"
    else lab_fail "$prefix/$name" "$detail"; printf '  %s\n' "${why[@]}"; fi
    name=''; why=()
  }
  local m
  while IFS= read -r line; do
    if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ ([^ ]+)\ \#\ SKIP\ (.*)$ ]]; then
      m=("${BASH_REMATCH[@]}"); flush   # flush matches regexes too
      name=${m[2]}; status=skip; detail=${m[3]}
    elif [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ ([^ ]+)\ \((.*)\)$ ]]; then
      m=("${BASH_REMATCH[@]}"); flush
      name=${m[2]}; detail=${m[3]}
      if [ -n "${m[1]}" ]; then status=fail; else status=ok; fi
    elif [[ $line == '# '* ]]; then
      why+=("${line#\# }")
    fi
  done <"$tap"
  flush
}

# store FILE [SOCKET]: the whole store (xenstore-ls -f -p) of a daemon.
store() { XENSTORED_PATH=${2:-$C_SOCK} xenstore-ls -f -p / >"$1" 2>&1; }

# seed FILE SOCKET: writes every node of a saved store into another daemon,
# in the same order, with the same perms (values here are plain text).
seed() {
  local line path value perms
  while IFS= read -r line; do
    [[ $line =~ ^(/[^ ]*)\ =\ \"(.*)\"\ +\((.*)\)$ ]] || { lab_err "seed: cannot parse: $line"; return 1; }
    path=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]} perms=${BASH_REMATCH[3]}
    XENSTORED_PATH=$2 xenstore-write "$path" "$value" || return 1
    # shellcheck disable=SC2086  # the perms are separate words
    XENSTORED_PATH=$2 xenstore-chmod "$path" ${perms//,/ } || return 1
  done <"$1"
}

if ! grep -qs 'vpio-xs-record/1' "$PKG"/dist/*.js "$PKG"/dist/bin/*.js; then
  lab_fail build "$PKG/dist lacks the recording replayer: npm run build -w @vpio/xenstore on the host"; lab_summary; exit 1
fi
lab_toolstack_up || { lab_fail toolstack "Xen's xenstored did not come up"; lab_summary; exit 1; }
lab_info "streams: ${#STREAMS[@]} from $PKG/test/streams; results in $OUT"

# 1+2. Xen's C xenstored
store "$OUT/xen-c.store-before"
t0=$(lab_now)
replay --socket "$C_SOCK" --label xen-c --record "$OUT/xen-c.json" "${C_SKIP[@]}" "${STREAMS[@]}" >"$OUT/xen-c.tap" 2>&1
lab_time replay-xen-c "$(lab_elapsed "$t0")"
store "$OUT/xen-c.store-after"
report xen-c "$OUT/xen-c.tap"
if cmp -s "$OUT/xen-c.store-before" "$OUT/xen-c.store-after"; then lab_pass store-clean/xen-c "$(wc -l <"$OUT/xen-c.store-after") nodes"
else lab_fail store-clean/xen-c "the streams left changes:"; diff "$OUT/xen-c.store-before" "$OUT/xen-c.store-after" | sed 's/^/  /'; fi

# 3. vpio-xenstored on its own socket, seeded with the C daemon's starting store
mkdir -p "$V_DIR"
node "$PKG/dist/bin/vpio-xenstored.js" --socket "$V_SOCK" >"$OUT/vpio-xenstored.log" 2>&1 &
V_PID=$!
if lab_wait_for 30 test -S "$V_SOCK" && seed "$OUT/xen-c.store-before" "$V_SOCK"; then
  store "$OUT/vpio.store-before" "$V_SOCK"
  if cmp -s "$OUT/xen-c.store-before" "$OUT/vpio.store-before"; then lab_pass store-equal "both start from the same $(wc -l <"$OUT/vpio.store-before") nodes"
  else lab_fail store-equal "the seeded store differs:"; diff "$OUT/xen-c.store-before" "$OUT/vpio.store-before" | sed 's/^/  /'; fi
  t0=$(lab_now)
  replay --socket "$V_SOCK" --label vpio --record "$OUT/vpio.json" "${STREAMS[@]}" >"$OUT/vpio.tap" 2>&1
  lab_time replay-vpio "$(lab_elapsed "$t0")"
  store "$OUT/vpio.store-after" "$V_SOCK"
  report vpio "$OUT/vpio.tap"
  if cmp -s "$OUT/vpio.store-before" "$OUT/vpio.store-after"; then lab_pass store-clean/vpio "$(wc -l <"$OUT/vpio.store-after") nodes"
  else lab_fail store-clean/vpio "the streams left changes:"; diff "$OUT/vpio.store-before" "$OUT/vpio.store-after" | sed 's/^/  /'; fi
else
  lab_fail vpio-xenstored "did not start or could not be seeded: $(tail -n 2 "$OUT/vpio-xenstored.log")"
fi
kill "$V_PID" 2>/dev/null; wait "$V_PID" 2>/dev/null

# 4. the diff
if [ -s "$OUT/xen-c.json" ] && [ -s "$OUT/vpio.json" ]; then
  replay --diff "$OUT/xen-c.json" "$OUT/vpio.json" >"$OUT/diff.tap" 2>&1
  report diff "$OUT/diff.tap"
  lab_info "diff: $(grep -c '^ok .*steps alike' "$OUT/diff.tap") streams alike, $(grep -c '^not ok' "$OUT/diff.tap") differ, $(grep -c '# SKIP' "$OUT/diff.tap") not compared"
else
  lab_fail diff "a record is missing (xen-c.json, vpio.json in $OUT)"
fi
lab_summary
