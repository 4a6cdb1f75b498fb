#!/bin/bash
# minios-pv.sh - the minios PV kernel (minios/build/vpio-minios-pv) on real
# Xen 4.17 in the project's lab (xen/lab: QEMU/TCG, a PV dom0): boot with
# `xl create`, the configuration from xenstore, the vif handshake with vpio's
# xen-mode netback, two minios guests pinging each other through the switch,
# a clean `xl shutdown`, and `xl destroy`.
#
#   xen/tests/minios-pv.sh          on the host: builds what is needed (`make -C minios pv`,
#                                   the CLI), `lab.sh deps` when root, then one lab run with
#                                   this script as dom0's job; LAB PASS/FAIL lines, last
#                                   "N passed, N failed"; exit status non-zero on failure
#
# Host knobs: SKIP_BUILD=1 (use the tree as built), LAB_TIMEOUT (1200 s), LAB_CACHE.
#
# dom0 checks, each a "LAB PASS|FAIL name" line:
#   boot                xl create (type pv, memory 32, no vif): data/minios-state appears
#   console             the kernel's boot line in xenconsoled's log (guest-m0.log)
#   config-watch        vpio/config written 3 s after the boot is picked up by the guest's watch
#   no-vif-error        the configuration names vif 0, which m0 lacks: {"event":"error","step":"connect"},
#                       data/minios-state = error:connect, the domain crashed (on_crash preserve)
#   vpio-up             vpio up --mode xen
#   run-resp, run-ping  vpio run --minios configs/ping-responder.click / pinger.click, a vif each
#   ready-resp|ping     {"event":"ready"} with the vif's MAC; data/minios-state = ready
#   handshake-resp|ping frontend and backend Connected (4) on Xen's xenstored
#   vpio-ls-connected   vpio ls: both vifs Connected
#   ping4, ping6        the pinger's {"event":"ping"} lines: every echo answered
#   shutdown-ping       xl shutdown: "final", "platform" (no grant error, no mapping left), "closed" rc 0, domain gone
#   shutdown-ping-vif   its vif gone from vpio ls
#   destroy-resp        xl destroy: domain, vif directories and switch port gone
#   vpio-down           nothing left
# LAB INFO/TIME: image size, memory per guest, xl create -> boot, vpio run -> vif Connected.
set -u

if [ "$0" != /lab/run/dom0.sh ]; then
  # ------------------------------------------------------------------ host side
  set -e
  REPO=$(cd "$(dirname "$0")/../.." && pwd)
  cd "$REPO"
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    [ "$(id -u)" = 0 ] && bash xen/lab/lab.sh deps
    npx turbo run build --filter=@vpio/cli... --output-logs=errors-only
    make -s -C minios pv
  fi
  for f in minios/build/vpio-minios-pv packages/cli/dist/bin/vpio.js; do
    [ -e "$f" ] || { echo "minios-pv.sh: $f is missing (npm run build; make -C minios pv)" >&2; exit 2; }
  done
  args=(--timeout "${LAB_TIMEOUT:-1200}")
  [ -n "${LAB_RESULTS:-}" ] && args+=(--results "$LAB_RESULTS")
  exec bash xen/lab/lab.sh run "${args[@]}" "$0"
fi

# -------------------------------------------------------------------- dom0 side
. /lab/lib/dom0.sh
REPO=/vpio
VPIO="node $REPO/packages/cli/dist/bin/vpio.js"
DIR=/tmp/vpio
IMG=$REPO/minios/build/vpio-minios-pv
MAC_RESP=02:00:00:00:00:02 MAC_PING=02:00:00:00:00:01

gread() { xenstore-read "/local/domain/$1/$2" 2>/dev/null; }   # DOMID KEY
glog() { cat "/var/log/xen/console/guest-$1.log" 2>/dev/null; }  # NAME: the guest's console so far
gline() { glog "$1" | grep -F "\"event\":\"$2\"" | tail -n 1; }  # NAME EVENT: its last JSON line of that event
state_is() { [ "$(gread "$1" data/minios-state)" = "$2" ]; }

lab_info "minios-pv: kernel $(uname -r), xen $(xl info 2>/dev/null | awk '/xen_version/{print $3}')"
lab_info "image $IMG: $(stat -c %s $IMG) bytes stripped (ELF; the .bss heap is not in the file)"
lab_toolstack_up || { lab_fail toolstack "xenstored/xenconsoled"; lab_summary; exit 1; }

# 1. one guest by xl alone: boot, console, the configuration by watch, a clean failure without its vif
cat >"$LAB_TMP/m0.cfg" <<CFG
name = "m0"
type = "pv"
kernel = "$IMG"
memory = 32
on_crash = "preserve"
CFG
t0=$(lab_now)
if xl create "$LAB_TMP/m0.cfg" >"$LAB_TMP/m0.create.log" 2>&1 && id0=$(lab_domid m0); then
  lab_time xl-create-m0 "$(lab_elapsed "$t0")"
  if lab_wait_for 60 sh -c "xenstore-read /local/domain/$id0/data/minios-state >/dev/null 2>&1"; then
    lab_pass boot "domid $id0, data/minios-state=$(gread $id0 data/minios-state) $(lab_elapsed "$t0") s after xl create"
  else lab_fail boot "no data/minios-state: $(glog m0 | tail -n 5 | tr '\n' ' ')"; fi
  lab_info "m0: $(xl list m0 | awk 'NR == 2 { print "memory " $3 " MiB, " $4 " vCPU" }'), nr_pages in the platform line below"
  glog m0 | grep -q 'minios: booting (Xen PV, x86_64)' && lab_pass console "$(glog m0 | head -n 1)" ||
    lab_fail console "$(glog m0 | head -n 3 | tr '\n' ' ')"
  lab_sleep 3
  xenstore-write /local/domain/$id0/vpio/config "$(cat $REPO/minios/configs/ping-responder.click)"
  xenstore-chmod /local/domain/$id0/vpio/config n0 r$id0
  if lab_wait_for 60 sh -c "! xenstore-read /local/domain/$id0/data/minios-state 2>/dev/null | grep -qx booting"; then
    lab_pass config-watch "data/minios-state=$(gread $id0 data/minios-state); console: $(glog m0 | grep -m 1 'watching' || echo 'read at once')"
  else lab_fail config-watch "still booting: $(glog m0 | tail -n 3 | tr '\n' ' ')"; fi
  lab_wait_for 60 sh -c "xl list m0 2>/dev/null | awk 'NR == 2 { print \$5 }' | grep -q c"
  e=$(gline m0 error); st=$(gread $id0 data/minios-state); xs=$(xl list m0 2>/dev/null | awk 'NR == 2 { print $5 }')
  case "$e|$st|$xs" in *'"step":"connect"'*'|error:connect|'*c*) lab_pass no-vif-error "$e, state $st, xl state $xs" ;;
    *) lab_fail no-vif-error "line ${e:-none}, state ${st:-none}, xl state ${xs:-gone}: $(glog m0 | tail -n 4 | tr '\n' ' ')" ;; esac
  xl destroy m0 >/dev/null 2>&1
else
  lab_fail boot "xl create: $(tail -n 3 "$LAB_TMP/m0.create.log" | tr '\n' ' ')"
fi
cp "/var/log/xen/console/guest-m0.log" /results/ 2>/dev/null

# 2. the platform
mkdir -p $DIR
$VPIO up --foreground --mode xen --dir $DIR --cores=-1 --max-domains 8 >"$LAB_TMP/up.log" 2>&1 &
uppid=$!
lab_wait_for 400 sh -c "grep -q 'platform up' $LAB_TMP/up.log || ! kill -0 $uppid"
if grep -q 'platform up' "$LAB_TMP/up.log"; then lab_pass vpio-up "$(grep 'platform up' "$LAB_TMP/up.log")"
else lab_fail vpio-up "$(tail -n 3 "$LAB_TMP/up.log" | tr '\n' ' ')"; lab_summary; exit 1; fi

# 3. two minios guests through vpio: the responder first, then the pinger
plat_ls() { $VPIO ls --dir $DIR --json 2>&1; }
run_guest() { # NAME CONFIG MAC: vpio run --minios; prints the domid
  local t=$(lab_now) id
  $VPIO run --dir $DIR --json --name "$1" --minios "$REPO/minios/configs/$2" --stats-interval 5000 --vif "mac=$3" \
    >"$LAB_TMP/$1.run.json" 2>"$LAB_TMP/$1.run.err" || { cat "$LAB_TMP/$1.run.json" "$LAB_TMP/$1.run.err" >&2; return 1; }
  lab_time "vpio-run-$1" "$(lab_elapsed "$t")" >&2
  id=$(lab_domid "$1") || return 1
  echo "$t" >"$LAB_TMP/$1.t0"
  echo "$id"
}
idr=$(run_guest resp ping-responder.click $MAC_RESP) && lab_pass run-resp "domid $idr" || lab_fail run-resp "see above"
idp=$(run_guest ping pinger.click $MAC_PING) && lab_pass run-ping "domid $idp" || lab_fail run-ping "see above"
[ -n "$idr" ] && [ -n "$idp" ] || { lab_summary; exit 1; }

for g in "resp $idr $MAC_RESP" "ping $idp $MAC_PING"; do
  set -- $g
  t0=$(cat "$LAB_TMP/$1.t0")
  if lab_wait_for 180 sh -c "xenstore-read /local/domain/$2/device/vpio-vif/0/state 2>/dev/null | grep -qx 4"; then
    lab_time "connected-$1" "$(lab_elapsed "$t0")"
    lab_info "$1: vpio run -> frontend Connected $(lab_elapsed "$t0") s (TCG: functional only)"
  fi
  lab_wait_for 60 state_is "$2" ready
  r=$(gline "$1" ready)
  case "$r" in *"\"mac\":\"$3\""*) state_is "$2" ready && lab_pass "ready-$1" "$r" || lab_fail "ready-$1" "state $(gread $2 data/minios-state), $r" ;;
    *) lab_fail "ready-$1" "state $(gread $2 data/minios-state): $(glog "$1" | tail -n 4 | tr '\n' ' ')" ;; esac
  fe=/local/domain/$2/device/vpio-vif/0
  be=$(gread $2 device/vpio-vif/0/backend)
  [ "$(xenstore-read $fe/state 2>/dev/null)" = 4 ] && [ "$(xenstore-read "$be/state" 2>/dev/null)" = 4 ] &&
    lab_pass "handshake-$1" "frontend $fe state 4, backend $be state 4" ||
    lab_fail "handshake-$1" "frontend $(xenstore-read $fe/state 2>/dev/null), backend $(xenstore-read "$be/state" 2>/dev/null)"
  lab_info "$1: $(xl list "$1" | awk 'NR == 2 { print "memory " $3 " MiB" }') (xl list)"
done
plat_ls >"$LAB_TMP/ls.json"; lab_save "$LAB_TMP/ls.json" platform-ls.json
c=$(grep -o '"frontendStateName":"Connected"' "$LAB_TMP/ls.json" | wc -l)
[ "$c" -ge 2 ] && lab_pass vpio-ls-connected "$c vifs Connected; attachMs: $(grep -o '"attachMs":[0-9.]*' "$LAB_TMP/ls.json" | tr '\n' ' ')" ||
  lab_fail vpio-ls-connected "$(head -c 400 "$LAB_TMP/ls.json")"

# the pinger sends 20 echoes per family, 100 ms apart, once it resolved the peer
lab_wait_for 180 sh -c "[ \$(grep -c '\"event\":\"ping\"' /var/log/xen/console/guest-ping.log 2>/dev/null) -ge 2 ]"
for fam in 4 6; do
  l=$(glog ping | grep -F '"event":"ping"' | grep -F "\"family\":$fam" | tail -n 1)
  sent=$(echo "$l" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p'); recv=$(echo "$l" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
  [ -n "$sent" ] && [ "${sent:-0}" -gt 0 ] && [ "$recv" = "$sent" ] && lab_pass "ping$fam" "$l" || lab_fail "ping$fam" "${l:-no ping line}"
done

# 4. xl shutdown of the pinger: final stats, every vif disconnected, grants unmapped, poweroff
xl shutdown ping >"$LAB_TMP/shutdown.log" 2>&1
if lab_wait_for 120 sh -c "! xl domid ping >/dev/null 2>&1"; then
  f=$(gline ping final); p=$(gline ping platform); c=$(gline ping closed)
  case "$f|$p|$c" in *'"event":"final"'*'"mapErrors":0,'*'"unmapErrors":0,'*'"liveMaps":0}'*'"rc":0}') lab_pass shutdown-ping "$p $c" ;;
    *) lab_fail shutdown-ping "final ${f:+present}, platform ${p:-none}, closed ${c:-none}" ;; esac
else lab_fail shutdown-ping "still there: $(glog ping | tail -n 3 | tr '\n' ' ')"; fi
lab_info "ping platform counters: $(gline ping platform)"
lab_wait_for 60 sh -c "! $VPIO ls --dir $DIR --json 2>/dev/null | grep -q '\"name\":\"ping\"'" && lab_pass shutdown-ping-vif "not in vpio ls" ||
  lab_fail shutdown-ping-vif "$(plat_ls | head -c 300)"

# 5. xl destroy of the responder: its domain, vif directories and switch port go
be_r=$(gread $idr device/vpio-vif/0/backend)
ports_before=$(plat_ls | grep -o '"port":[0-9]*' | wc -l)
xl destroy resp >"$LAB_TMP/destroy.log" 2>&1
gone() { ! xenstore-exists "$be_r" && ! xenstore-exists /local/domain/$idr && ! plat_ls | grep -q '"name":"resp"'; }
if lab_wait_for 60 gone; then lab_pass destroy-resp "backend ${be_r:-?} and domain gone, not in vpio ls (switch ports listed: $ports_before -> $(plat_ls | grep -o '"port":[0-9]*' | wc -l))"
else lab_fail destroy-resp "backend $(xenstore-exists "$be_r" && echo present || echo gone), ls: $(plat_ls | head -c 300)"; fi

# 6. down
$VPIO down --dir $DIR >"$LAB_TMP/down.log" 2>&1 || lab_info "down: $(tail -n 2 "$LAB_TMP/down.log")"
left=""
xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print $1 }' | grep -q . && left="$left domains:$(xl list | awk 'NR > 2 { print $1 }' | tr '\n' ,)"
xenstore-list /local/domain/0/backend 2>/dev/null | grep -v '^console$' | while read -r t; do xenstore-list /local/domain/0/backend/$t 2>/dev/null; done | grep -q . && left="$left backend-dirs"
[ -z "$left" ] && lab_pass vpio-down "nothing left" || lab_fail vpio-down "left:$left"
for n in resp ping; do cp "/var/log/xen/console/guest-$n.log" /results/ 2>/dev/null; done
lab_summary
