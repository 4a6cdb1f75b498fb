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
#   trap-null|stack|fpu the test kernel (make -C minios pv-tests) reports a NULL read (trap 14,
#                       cr2 0), a thread's stack overflow into its guard page, an x87
#                       instruction (trap 7: CR0.TS is set) on the console and crashes
#   vpio-up             vpio up --mode xen
#   run-resp, run-ping  vpio run --minios: resp = configs/ping-responder.click on vif 0 (1024-slot
#                       rings: a pool of 1,100+ grant pages) plus the same on vif 1 for 10.0.1.2
#                       (default rings); ping = configs/pinger.click on one vif
#   ready-resp|ping     {"event":"ready"} with every vif's MAC; data/minios-state = ready
#   handshake-resp|ping frontend and backend Connected (4) on Xen's xenstored, every vif
#   vpio-ls-connected   vpio ls: the three vifs Connected
#   ping4, ping6        the pinger's {"event":"ping"} lines: every echo answered
#   shutdown-resp       xl shutdown: "final", "platform" (every mapped grant page unmapped, no
#                       error, no mapping left), "closed" rc 0, the domain gone
#   shutdown-resp-vifs  its vifs gone from vpio ls
#   destroy-ping        xl destroy: domain, vif directories and switch port gone
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
    make -s -C minios pv pv-tests
  fi
  for f in minios/build/vpio-minios-pv minios/build/pv/vpio-minios-pv-traps packages/cli/dist/bin/vpio.js; do
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
  lab_info "m0: $(xl list m0 | awk 'NR == 2 { print "memory " $3 " MiB, " $4 " vCPU" }') (xl list)"
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

# 1b. the trap paths, with the test kernel (pv/test/traps_main.c): a NULL read, a thread's stack
# overflow into its guard page, an x87 instruction with CR0.TS set; each must crash the domain
TRAPS_IMG=$REPO/minios/build/pv/vpio-minios-pv-traps
if [ -e "$TRAPS_IMG" ]; then
  for mode in null stack fpu; do
    printf 'name = "t-%s"\ntype = "pv"\nkernel = "%s"\nextra = "%s"\nmemory = 32\non_crash = "preserve"\n' \
      "$mode" "$TRAPS_IMG" "$mode" >"$LAB_TMP/t-$mode.cfg"
    xl create "$LAB_TMP/t-$mode.cfg" >"$LAB_TMP/t-$mode.create.log" 2>&1 ||
      { lab_fail "trap-$mode" "xl create: $(tail -n 2 "$LAB_TMP/t-$mode.create.log" | tr '\n' ' ')"; continue; }
    lab_wait_for 60 sh -c "xl list t-$mode 2>/dev/null | awk 'NR == 2 { print \$5 }' | grep -q c"
    xs=$(xl list "t-$mode" 2>/dev/null | awk 'NR == 2 { print $5 }')
    t=$(glog "t-$mode" | grep -m 1 '^minios: trap ')
    case $mode in
      null) want='trap 14 (page fault).*cr2=0x0000000000000000' ;;
      stack) g=$(glog t-stack | sed -n 's/^traps-test: guard page 0x\(.*\)...$/\1/p')   # the guard page's number
             want="trap 14 (page fault).*cr2=0x${g:-none}" ;;
      fpu) want='trap 7 (device not available' ;;
    esac
    case "$xs" in *c*) crashed=1 ;; *) crashed= ;; esac
    if [ -n "$crashed" ] && echo "$t" | grep -q "$want"; then lab_pass "trap-$mode" "$t"
    elif [ "$mode" = stack ] && [ -n "$crashed" ] && [ -z "$t" ]; then
      # Xen bounces a trap onto the current stack: with rsp in the guard page it cannot, and kills the domain
      lab_pass "trap-$mode" "the overflow hit the guard page at 0x${g:-?}000 and Xen crashed the domain (no stack to report on)"
    else lab_fail "trap-$mode" "xl state ${xs:-gone}, console: $(glog "t-$mode" | tail -n 3 | tr '\n' ' ')"; fi
    cp "/var/log/xen/console/guest-t-$mode.log" /results/ 2>/dev/null
    xl destroy "t-$mode" >/dev/null 2>&1
  done
else lab_fail traps "$TRAPS_IMG is not built (make -C minios pv-tests)"; fi

# 2. the platform
mkdir -p $DIR
$VPIO up --foreground --mode xen --dir $DIR --cores=-1 --max-domains 8 >"$LAB_TMP/up.log" 2>&1 &
uppid=$!
lab_wait_for 400 sh -c "grep -q 'platform up' $LAB_TMP/up.log || ! kill -0 $uppid"
if grep -q 'platform up' "$LAB_TMP/up.log"; then lab_pass vpio-up "$(grep 'platform up' "$LAB_TMP/up.log")"
else lab_fail vpio-up "$(tail -n 3 "$LAB_TMP/up.log" | tr '\n' ' ')"; lab_summary; exit 1; fi

# 3. two minios guests through vpio: the responder (two vifs) first, then the pinger
cat >"$LAB_TMP/resp2.click" <<'CLICK'
// vif 0: configs/ping-responder.click (10.0.0.2, fd00::2); vif 1: ARP and echo for 10.0.1.2
src :: FromNetfront(0);
out :: ToNetfront(0);
cls :: Classifier(12/0806 20/0001, 12/0800 23/01, 12/86dd 20/3a, -);
src -> cls;
cls[0] -> ARPResponder(10.0.0.2) -> out;
cls[1] -> ICMPPingResponder -> out;
cls[2] -> ICMPv6Responder(fd00::2) -> out;
cls[3] -> Sink;
src1 :: FromNetfront(1);
out1 :: ToNetfront(1);
cls1 :: Classifier(12/0806 20/0001, 12/0800 23/01, -);
src1 -> cls1;
cls1[0] -> ARPResponder(10.0.1.2, DEV 1) -> out1;
cls1[1] -> ICMPPingResponder -> out1;
cls1[2] -> Sink;
CLICK
plat_ls() { $VPIO ls --dir $DIR --json 2>&1; }
run_guest() { # NAME CONFIG VIF...: vpio run --minios; prints the domid
  local name=$1 conf=$2 t id v vifs=()
  shift 2
  for v in "$@"; do vifs+=(--vif "$v"); done
  t=$(lab_now)
  $VPIO run --dir $DIR --json --name "$name" --minios "$conf" --stats-interval 5000 "${vifs[@]}" \
    >"$LAB_TMP/$name.run.json" 2>"$LAB_TMP/$name.run.err" || { cat "$LAB_TMP/$name.run.json" "$LAB_TMP/$name.run.err" >&2; return 1; }
  lab_time "vpio-run-$name" "$(lab_elapsed "$t")" >&2
  id=$(lab_domid "$name") || return 1
  echo "$t" >"$LAB_TMP/$name.t0"
  echo "$id"
}
MAC_RESP1=02:00:00:00:01:02
idr=$(run_guest resp "$LAB_TMP/resp2.click" "mac=$MAC_RESP,tx-slots=1024,rx-slots=1024" "mac=$MAC_RESP1") &&
  lab_pass run-resp "domid $idr" || lab_fail run-resp "see above"
idp=$(run_guest ping "$REPO/minios/configs/pinger.click" "mac=$MAC_PING") && lab_pass run-ping "domid $idp" || lab_fail run-ping "see above"
[ -n "$idr" ] && [ -n "$idp" ] || { lab_summary; exit 1; }

for g in "resp $idr 0:$MAC_RESP,1:$MAC_RESP1" "ping $idp 0:$MAC_PING"; do
  set -- $g
  t0=$(cat "$LAB_TMP/$1.t0")
  devs=$(echo "$3" | tr ',' ' ')
  connected() { local d; for d in $devs; do [ "$(gread "$2" "device/vpio-vif/${d%%:*}/state")" = 4 ] || return 1; done; }
  if lab_wait_for 180 connected "$@"; then
    lab_time "connected-$1" "$(lab_elapsed "$t0")"
    lab_info "$1: vpio run -> every vif's frontend Connected $(lab_elapsed "$t0") s (TCG: functional only)"
  fi
  lab_wait_for 60 state_is "$2" ready
  r=$(gline "$1" ready) ok=1
  for d in $devs; do case "$r" in *"\"devid\":${d%%:*},\"mac\":\"${d#*:}\""*) ;; *) ok= ;; esac; done
  [ -n "$ok" ] && state_is "$2" ready && lab_pass "ready-$1" "$r" ||
    lab_fail "ready-$1" "state $(gread $2 data/minios-state): ${r:-$(glog "$1" | tail -n 4 | tr '\n' ' ')}"
  hs="" ok=1
  for d in $devs; do
    fe=/local/domain/$2/device/vpio-vif/${d%%:*}; be=$(xenstore-read $fe/backend 2>/dev/null)
    f=$(xenstore-read $fe/state 2>/dev/null); b=$(xenstore-read "$be/state" 2>/dev/null)
    hs="$hs vif ${d%%:*}: frontend ${f:-absent}, backend ${b:-absent};"; [ "$f" = 4 ] && [ "$b" = 4 ] || ok=
  done
  [ -n "$ok" ] && lab_pass "handshake-$1" "$hs" || lab_fail "handshake-$1" "$hs"
  lab_info "$1: $(xl list "$1" | awk 'NR == 2 { print "memory " $3 " MiB" }') (xl list); $(glog "$1" | grep -m 1 'boot -> ready')"
done
plat_ls >"$LAB_TMP/ls.json"; lab_save "$LAB_TMP/ls.json" platform-ls.json
c=$(grep -o '"frontendStateName":"Connected"' "$LAB_TMP/ls.json" | wc -l)
[ "$c" -ge 3 ] && lab_pass vpio-ls-connected "$c vifs Connected; attachMs: $(grep -o '"attachMs":[0-9.]*' "$LAB_TMP/ls.json" | cut -d: -f2 | cut -d. -f1 | tr '\n' ' ')" ||
  lab_fail vpio-ls-connected "$c Connected: $(head -c 400 "$LAB_TMP/ls.json")"

# the pinger sends 20 echoes per family, 100 ms apart, once it resolved the peer
lab_wait_for 180 sh -c "[ \$(grep -c '\"event\":\"ping\"' /var/log/xen/console/guest-ping.log 2>/dev/null) -ge 2 ]"
for fam in 4 6; do
  l=$(glog ping | grep -F '"event":"ping"' | grep -F "\"family\":$fam" | tail -n 1)
  sent=$(echo "$l" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p'); recv=$(echo "$l" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
  [ -n "$sent" ] && [ "${sent:-0}" -gt 0 ] && [ "$recv" = "$sent" ] && lab_pass "ping$fam" "$l" || lab_fail "ping$fam" "${l:-no ping line}"
done

# 4. xl shutdown of the responder: final stats, both vifs disconnected, every grant page unmapped, poweroff
xl shutdown resp >"$LAB_TMP/shutdown.log" 2>&1
if lab_wait_for 120 sh -c "! xl domid resp >/dev/null 2>&1"; then
  f=$(gline resp final); p=$(gline resp platform); c=$(gline resp closed)
  mapped=$(echo "$p" | sed -n 's/.*"pagesMapped":\([0-9]*\).*/\1/p'); unmapped=$(echo "$p" | sed -n 's/.*"pagesUnmapped":\([0-9]*\).*/\1/p')
  case "$f|$p|$c" in *'"event":"final"'*'"mapErrors":0,'*'"unmapErrors":0,'*'"liveMaps":0}'*'"rc":0}')
    [ "${mapped:-0}" -gt 1100 ] && [ "$mapped" = "$unmapped" ] && lab_pass shutdown-resp "$mapped grant pages mapped and unmapped; $c" ||
      lab_fail shutdown-resp "mapped ${mapped:-?}, unmapped ${unmapped:-?}" ;;
    *) lab_fail shutdown-resp "final ${f:+present}, platform ${p:-none}, closed ${c:-none}" ;; esac
else lab_fail shutdown-resp "still there: $(glog resp | tail -n 3 | tr '\n' ' ')"; fi
lab_info "resp platform counters: $(gline resp platform)"
lab_wait_for 60 sh -c "! $VPIO ls --dir $DIR --json 2>/dev/null | grep -q '\"name\":\"resp\"'" && lab_pass shutdown-resp-vifs "not in vpio ls" ||
  lab_fail shutdown-resp-vifs "$(plat_ls | head -c 300)"

# 5. xl destroy of the pinger: its domain, vif directories and switch port go
be_p=$(gread $idp device/vpio-vif/0/backend)
ports_before=$(plat_ls | grep -o '"port":[0-9]*' | wc -l)
xl destroy ping >"$LAB_TMP/destroy.log" 2>&1
gone() { ! xenstore-exists "$be_p" && ! xenstore-exists /local/domain/$idp && ! plat_ls | grep -q '"name":"ping"'; }
if lab_wait_for 60 gone; then lab_pass destroy-ping "backend ${be_p:-?} and domain gone, not in vpio ls (switch ports listed: $ports_before -> $(plat_ls | grep -o '"port":[0-9]*' | wc -l))"
else lab_fail destroy-ping "backend $(xenstore-exists "$be_p" && echo present || echo gone), ls: $(plat_ls | head -c 300)"; fi

# 6. down
$VPIO down --dir $DIR >"$LAB_TMP/down.log" 2>&1 || lab_info "down: $(tail -n 2 "$LAB_TMP/down.log")"
left=""
xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print $1 }' | grep -q . && left="$left domains:$(xl list | awk 'NR > 2 { print $1 }' | tr '\n' ,)"
xenstore-list /local/domain/0/backend 2>/dev/null | grep -v '^console$' | while read -r t; do xenstore-list /local/domain/0/backend/$t 2>/dev/null; done | grep -q . && left="$left backend-dirs"
[ -z "$left" ] && lab_pass vpio-down "nothing left" || lab_fail vpio-down "left:$left"
for n in resp ping; do cp "/var/log/xen/console/guest-$n.log" /results/ 2>/dev/null; done
lab_summary
