#!/bin/bash
# minios-pv.sh - the minios PV kernel (minios/build/vpio-minios-pv) on real
# Xen 4.17 in the project's lab (xen/lab: QEMU/TCG, a PV dom0): boot with
# `xl create`, the configuration from xenstore, the vif handshake with vpio's
# xen-mode netback, two minios guests pinging each other through the switch,
# a clean `xl shutdown`, and `xl destroy`; then minios with Linux PV guests
# (Debian's kernel, xen/tests/linux-guest-job.sh running vpio-linux-netfront
# --xen, started as test-xen.sh does, helpers in xen/tests/lib/guests.sh): a
# minios pinger and a Linux guest ping each other, and
# configs/bridge-firewall.click in a minios guest filters between two Linux
# guests on VLANs 10 and 20.
#
#   xen/tests/minios-pv.sh          on the host: builds what is needed (`make -C minios pv`,
#                                   linux-netfront, the CLI), `lab.sh deps` when root, then one lab run with
#                                   this script as dom0's job; LAB PASS/FAIL lines, last
#                                   "N passed, N failed"; exit status non-zero on failure
#
# Host knobs: SKIP_BUILD=1 (use the tree as built), LAB_TIMEOUT (1800 s), LAB_CACHE.
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
#   linux-up            vpio run --kernel: Linux guest la (10.0.0.3, 192 MiB): its netfront up, vif Connected
#   minios-pings-linux  minios guest mp (10.0.0.1, configs/pinger.click for IPv4 alone, aimed at la):
#                       its {"event":"ping"} line: every echo answered
#   linux-pings-minios  la's job pings mp (busybox ping, data/ping): every echo answered (or, replies
#                       late for busybox's short wait, at least one in time and mp's counters showing
#                       every request answered and nothing dropped: said in the detail)
#   fw-ready            minios guest fw runs configs/bridge-firewall.click (its TCP port 5201 edited to
#                       5001, the job's lnf-xfer port, which the job cannot change) on two vifs, VLAN 10
#                       and 20 (mac-lock=0, lossless, 1024 TX slots): {"event":"ready"} with both
#   fw-linux-up         Linux guests lc (10.0.5.1, VLAN 10, the job's client) and ld (10.0.5.2, VLAN 20,
#                       its server): netfronts up; fw is their only path
#   fw-ping             lc pings ld and ld pings lc through fw (ICMP rules; late replies as above, judged
#                       by fw: ICMP hits equal both ways, no vif drop)
#   fw-tcp-allowed      lc fetches ld's random file over TCP to port 5001: sha256 and size equal
#   fw-tcp-denied       lc's iperf3 to port 5201 (ld's iperf3 server listens) times out: fw denies it
#   fw-rule-hits        fw's stats line: f01 (VLAN 10 -> 20) ICMP, TCP and deny-all hits > 0, f10 ICMP
#                       and TCP hits > 0, nothing unmatched
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
    npx turbo run build --filter=@vpio/cli... --filter=@vpio/linux-netfront... --output-logs=errors-only
    make -s -C minios pv pv-tests
    make -s -C linux-netfront all test-bins
  fi
  for f in minios/build/vpio-minios-pv minios/build/pv/vpio-minios-pv-traps packages/cli/dist/bin/vpio.js \
    linux-netfront/build/vpio-linux-netfront linux-netfront/build/test/lnf-xfer; do
    [ -e "$f" ] || { echo "minios-pv.sh: $f is missing (npm run build; make -C minios pv pv-tests; make -C linux-netfront all test-bins)" >&2; exit 2; }
  done
  args=(--timeout "${LAB_TIMEOUT:-1800}")
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

. $REPO/xen/tests/lib/guests.sh   # vg_read, vg_log, vg_event, vg_ls, vg_minios_run, vg_linux_run, ...
state_is() { [ "$(vg_read "$1" data/minios-state)" = "$2" ]; }

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
    lab_pass boot "domid $id0, data/minios-state=$(vg_read $id0 data/minios-state) $(lab_elapsed "$t0") s after xl create"
  else lab_fail boot "no data/minios-state: $(vg_log m0 | tail -n 5 | tr '\n' ' ')"; fi
  lab_info "m0: $(xl list m0 | awk 'NR == 2 { print "memory " $3 " MiB, " $4 " vCPU" }') (xl list)"
  vg_log m0 | grep -q 'minios: booting (Xen PV, x86_64)' && lab_pass console "$(vg_log m0 | head -n 1)" ||
    lab_fail console "$(vg_log m0 | head -n 3 | tr '\n' ' ')"
  lab_sleep 3
  xenstore-write /local/domain/$id0/vpio/config "$(cat $REPO/minios/configs/ping-responder.click)"
  xenstore-chmod /local/domain/$id0/vpio/config n0 r$id0
  if lab_wait_for 60 sh -c "! xenstore-read /local/domain/$id0/data/minios-state 2>/dev/null | grep -qx booting"; then
    lab_pass config-watch "data/minios-state=$(vg_read $id0 data/minios-state); console: $(vg_log m0 | grep -m 1 'watching' || echo 'read at once')"
  else lab_fail config-watch "still booting: $(vg_log m0 | tail -n 3 | tr '\n' ' ')"; fi
  lab_wait_for 60 sh -c "xl list m0 2>/dev/null | awk 'NR == 2 { print \$5 }' | grep -q c"
  e=$(vg_event m0 error); st=$(vg_read $id0 data/minios-state); xs=$(xl list m0 2>/dev/null | awk 'NR == 2 { print $5 }')
  case "$e|$st|$xs" in *'"step":"connect"'*'|error:connect|'*c*) lab_pass no-vif-error "$e, state $st, xl state $xs" ;;
    *) lab_fail no-vif-error "line ${e:-none}, state ${st:-none}, xl state ${xs:-gone}: $(vg_log m0 | tail -n 4 | tr '\n' ' ')" ;; esac
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
    t=$(vg_log "t-$mode" | grep -m 1 '^minios: trap ')
    case $mode in
      null) want='trap 14 (page fault).*cr2=0x0000000000000000' ;;
      stack) g=$(vg_log t-stack | sed -n 's/^traps-test: guard page 0x\(.*\)...$/\1/p')   # the guard page's number
             want="trap 14 (page fault).*cr2=0x${g:-none}" ;;
      fpu) want='trap 7 (device not available' ;;
    esac
    case "$xs" in *c*) crashed=1 ;; *) crashed= ;; esac
    if [ -n "$crashed" ] && echo "$t" | grep -q "$want"; then lab_pass "trap-$mode" "$t"
    elif [ "$mode" = stack ] && [ -n "$crashed" ] && [ -z "$t" ]; then
      # Xen bounces a trap onto the current stack: with rsp in the guard page it cannot, and kills the domain
      lab_pass "trap-$mode" "the overflow hit the guard page at 0x${g:-?}000 and Xen crashed the domain (no stack to report on)"
    else lab_fail "trap-$mode" "xl state ${xs:-gone}, console: $(vg_log "t-$mode" | tail -n 3 | tr '\n' ' ')"; fi
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
MAC_RESP1=02:00:00:00:01:02
idr=$(vg_minios_run resp "$LAB_TMP/resp2.click" "mac=$MAC_RESP,tx-slots=1024,rx-slots=1024" "mac=$MAC_RESP1") &&
  lab_pass run-resp "domid $idr" || lab_fail run-resp "see above"
idp=$(vg_minios_run ping "$REPO/minios/configs/pinger.click" "mac=$MAC_PING") && lab_pass run-ping "domid $idp" || lab_fail run-ping "see above"
[ -n "$idr" ] && [ -n "$idp" ] || { lab_summary; exit 1; }

for g in "resp $idr 0:$MAC_RESP,1:$MAC_RESP1" "ping $idp 0:$MAC_PING"; do
  set -- $g
  t0=$(cat "$LAB_TMP/$1.t0")
  devs=$(echo "$3" | tr ',' ' ')
  connected() { local d; for d in $devs; do [ "$(vg_read "$2" "device/vpio-vif/${d%%:*}/state")" = 4 ] || return 1; done; }
  if lab_wait_for 180 connected "$@"; then
    lab_time "connected-$1" "$(lab_elapsed "$t0")"
    lab_info "$1: vpio run -> every vif's frontend Connected $(lab_elapsed "$t0") s (TCG: functional only)"
  fi
  lab_wait_for 60 state_is "$2" ready
  r=$(vg_event "$1" ready) ok=1
  for d in $devs; do case "$r" in *"\"devid\":${d%%:*},\"mac\":\"${d#*:}\""*) ;; *) ok= ;; esac; done
  [ -n "$ok" ] && state_is "$2" ready && lab_pass "ready-$1" "$r" ||
    lab_fail "ready-$1" "state $(vg_read $2 data/minios-state): ${r:-$(vg_log "$1" | tail -n 4 | tr '\n' ' ')}"
  hs="" ok=1
  for d in $devs; do
    fe=/local/domain/$2/device/vpio-vif/${d%%:*}; be=$(xenstore-read $fe/backend 2>/dev/null)
    f=$(xenstore-read $fe/state 2>/dev/null); b=$(xenstore-read "$be/state" 2>/dev/null)
    hs="$hs vif ${d%%:*}: frontend ${f:-absent}, backend ${b:-absent};"; [ "$f" = 4 ] && [ "$b" = 4 ] || ok=
  done
  [ -n "$ok" ] && lab_pass "handshake-$1" "$hs" || lab_fail "handshake-$1" "$hs"
  lab_info "$1: $(xl list "$1" | awk 'NR == 2 { print "memory " $3 " MiB" }') (xl list); $(vg_log "$1" | grep -m 1 'boot -> ready')"
done
vg_ls >"$LAB_TMP/ls.json"; lab_save "$LAB_TMP/ls.json" platform-ls.json
c=$(grep -o '"frontendStateName":"Connected"' "$LAB_TMP/ls.json" | wc -l)
[ "$c" -ge 3 ] && lab_pass vpio-ls-connected "$c vifs Connected; attachMs: $(grep -o '"attachMs":[0-9.]*' "$LAB_TMP/ls.json" | cut -d: -f2 | cut -d. -f1 | tr '\n' ' ')" ||
  lab_fail vpio-ls-connected "$c Connected: $(head -c 400 "$LAB_TMP/ls.json")"

# the pinger sends 20 echoes per family, 100 ms apart, once it resolved the peer
lab_wait_for 180 sh -c "[ \$(grep -c '\"event\":\"ping\"' /var/log/xen/console/guest-ping.log 2>/dev/null) -ge 2 ]"
for fam in 4 6; do
  l=$(vg_log ping | grep -F '"event":"ping"' | grep -F "\"family\":$fam" | tail -n 1)
  sent=$(echo "$l" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p'); recv=$(echo "$l" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
  [ -n "$sent" ] && [ "${sent:-0}" -gt 0 ] && [ "$recv" = "$sent" ] && lab_pass "ping$fam" "$l" || lab_fail "ping$fam" "${l:-no ping line}"
done

# 4. xl shutdown of the responder: final stats, both vifs disconnected, every grant page unmapped, poweroff
xl shutdown resp >"$LAB_TMP/shutdown.log" 2>&1
if lab_wait_for 120 sh -c "! xl domid resp >/dev/null 2>&1"; then
  f=$(vg_event resp final); p=$(vg_event resp platform); c=$(vg_event resp closed)
  mapped=$(echo "$p" | sed -n 's/.*"pagesMapped":\([0-9]*\).*/\1/p'); unmapped=$(echo "$p" | sed -n 's/.*"pagesUnmapped":\([0-9]*\).*/\1/p')
  case "$f|$p|$c" in *'"event":"final"'*'"mapErrors":0,'*'"unmapErrors":0,'*'"liveMaps":0}'*'"rc":0}')
    [ "${mapped:-0}" -gt 1100 ] && [ "$mapped" = "$unmapped" ] && lab_pass shutdown-resp "$mapped grant pages mapped and unmapped; $c" ||
      lab_fail shutdown-resp "mapped ${mapped:-?}, unmapped ${unmapped:-?}" ;;
    *) lab_fail shutdown-resp "final ${f:+present}, platform ${p:-none}, closed ${c:-none}" ;; esac
else lab_fail shutdown-resp "still there: $(vg_log resp | tail -n 3 | tr '\n' ' ')"; fi
lab_info "resp platform counters: $(vg_event resp platform)"
lab_wait_for 60 sh -c "! $VPIO ls --dir $DIR --json 2>/dev/null | grep -q '\"name\":\"resp\"'" && lab_pass shutdown-resp-vifs "not in vpio ls" ||
  lab_fail shutdown-resp-vifs "$(vg_ls | head -c 300)"

# 5. xl destroy of the pinger: its domain, vif directories and switch port go
be_p=$(vg_read $idp device/vpio-vif/0/backend)
ports_before=$(vg_ls | grep -o '"port":[0-9]*' | wc -l)
xl destroy ping >"$LAB_TMP/destroy.log" 2>&1
gone() { ! xenstore-exists "$be_p" && ! xenstore-exists /local/domain/$idp && ! vg_ls | grep -q '"name":"ping"'; }
if lab_wait_for 60 gone; then lab_pass destroy-ping "backend ${be_p:-?} and domain gone, not in vpio ls (switch ports listed: $ports_before -> $(vg_ls | grep -o '"port":[0-9]*' | wc -l))"
else lab_fail destroy-ping "backend $(xenstore-exists "$be_p" && echo present || echo gone), ls: $(vg_ls | head -c 300)"; fi

# 6. minios and Linux: a Linux PV guest (la, 10.0.0.3: linux-guest-job.sh, vpio-linux-netfront --xen)
# and a minios guest (mp, 10.0.0.1) running configs/pinger.click adapted to it (IPv4 only: the job
# pings over IPv4); la's job pings mp, whose pinger config answers echo requests itself.
# The firewall's guests (section 7) start around mp, so that the Linux guests boot while dom0
# starts the next: fw = configs/bridge-firewall.click between Linux guests lc (10.0.5.1, VLAN 10,
# the job's client) and ld (10.0.5.2, VLAN 20, its server). The job's TCP transfer (lnf-xfer) uses
# port 5001, with no option to change it, and its iperf3 port 5201: the firewall runs from a copy
# with 5201 edited to 5001, so the allowed TCP is the job's file transfer, and iperf3 to 5201 is
# what the firewall denies (lc's kernel gives up a SYN after 2 retries, ~7 s: a sysctl on its
# command line). The Linux vifs keep the default 256-slot rings: with 1024-slot ones (~1,070
# grant pages each) the five guests' vifs pass the gntalloc limit vpio up sets for 8 domains
# (4,672 pages) and the last vpio run fails with ENOSPC.
LNF_MIB=192                                     # each Linux guest's memory (test-xen.sh gives 256)
LNF_WAIT=lnf_wait_s=900                         # the job waits for its peer to answer (240 s: short when the host is busy)
MAC_LA=02:00:00:00:00:03 MAC_MP=02:00:00:00:00:11 MAC_LC=02:00:00:05:00:01 MAC_LD=02:00:00:05:00:02
cat >"$LAB_TMP/pinger-la.click" <<'CLICK'
// configs/pinger.click for IPv4 alone and la: 10.0.0.1 pings 10.0.0.3 (10 echoes, 1 s apart: the
// Pinger waits 2 intervals for the last replies) and answers ARP and echo requests itself
src :: FromNetfront(0);
out :: ToNetfront(0);
cls :: Classifier(12/0806 20/0001,        // 0 ARP request
                  12/0806 20/0002,        // 1 ARP reply
                  12/0800 23/01 34/08,    // 2 ICMP echo request
                  12/0800 23/01 34/00,    // 3 ICMP echo reply
                  -);
ping4 :: Pinger(SRC_IP 10.0.0.1, DST_IP 10.0.0.3, MAC auto, INTERVAL 1000, COUNT 10);
src -> cls;
cls[0] -> ARPResponder(10.0.0.1) -> out;
cls[1] -> ping4;
cls[2] -> ICMPPingResponder -> out;
cls[3] -> ping4;
cls[4] -> Sink;
ping4 -> out;
CLICK
sed 's/5201/5001/g' "$REPO/minios/configs/bridge-firewall.click" >"$LAB_TMP/fw.click"
t6=$(lab_now)
lab_info "free memory for guests: $(xl info 2>/dev/null | awk '/^free_memory/ { print $3 }') MiB (Linux guests get $LNF_MIB, minios 32)"
idla=$(vg_linux_run la $LNF_MIB "lnf_role=server lnf_ip=10.0.0.3/24 lnf_peer=10.0.0.1 lnf_pings=5 lnf_xfer_mb=1 $LNF_WAIT" "mac=$MAC_LA,lossless=1") || idla=
idfw=$(VG_STATS_MS=2000 vg_minios_run fw "$LAB_TMP/fw.click" vlan=10,mac-lock=0,lossless=1,tx-slots=1024 vlan=20,mac-lock=0,lossless=1,tx-slots=1024) || idfw=

# The job's data/ping: "ok N/N ..." or "fail R/N ...". Its busybox ping (-c 5 -W 3, no -w deadline)
# waits for the last replies only ~2 x the largest RTT so far (1 s at least): under TCG on a busy
# host replies come seconds late (RTTs from 20 ms to 3 s in one run) and count as lost. So a ping
# with at least one reply also passes when the responder's side shows every request answered and
# nothing dropped (judged by the caller: RESPONDER_OK), saying so.
ping_recv() { case $1 in ok*|"fail "[0-9]*/*) local n=${1#* }; echo "${n%%/*}" ;; *) echo 0 ;; esac; }
ping_judge() { # DATA_PING RESPONDER_OK(0|1) RESPONDER_TEXT: 0 if it passes; prints the note for the detail
  case $1 in ok*) return 0 ;; esac
  [ "$(ping_recv "$1")" -ge 1 ] && [ "$2" = 1 ] || return 1
  echo " (the rest late for busybox ping's short wait, not lost: $3)"
}
stat_of() { vg_event "$1" stats | grep -o "\"$2\":{[^}]*}"; }       # NAME ELEMENT: its object in the last stats line
num_of() { echo "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }   # OBJECT KEY

# 6a. la up, then the minios pinger (it resolves 10.0.0.3 for 50 x 1 s: la must answer by then)
if [ -n "$idla" ] && v=$(vg_linux_up la 400); then
  hs="frontend $(vg_read $idla device/vpio-vif/0/state), backend $(xenstore-read "$(vg_read $idla device/vpio-vif/0/backend)/state" 2>/dev/null)"
  lab_pass linux-up "la domid $idla, $hs, $LNF_MIB MiB: $(vg_read $idla data/lnf/log)"
  idmp=$(vg_minios_run mp "$LAB_TMP/pinger-la.click" "mac=$MAC_MP") || idmp=
else lab_fail linux-up "la: ${idla:+$v $(vg_read $idla data/lnf/log)}${idla:-vpio run failed (see above)}"; idmp=; fi
# the firewall's Linux guests boot meanwhile
idld=$(vg_linux_run ld $LNF_MIB "lnf_role=server lnf_ip=10.0.5.2/24 lnf_peer=10.0.5.1 lnf_pings=5 lnf_xfer_mb=1 $LNF_WAIT" "mac=$MAC_LD,vlan=20,lossless=1") || idld=
idlc=$(vg_linux_run lc $LNF_MIB "lnf_role=client lnf_ip=10.0.5.1/24 lnf_peer=10.0.5.2 lnf_pings=5 lnf_xfer_mb=1 lnf_iperf_s=1 sysctl.net.ipv4.tcp_syn_retries=2 $LNF_WAIT" "mac=$MAC_LC,vlan=10,lossless=1") || idlc=
if [ -n "$idmp" ]; then
  lab_wait_for 180 sh -c "grep -q '\"event\":\"ping\"' /var/log/xen/console/guest-mp.log 2>/dev/null"
  l=$(vg_event mp ping)
  sent=$(echo "$l" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p'); recv=$(echo "$l" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
  late=
  if [ "${sent:-0}" -gt 0 ] && [ "$recv" != "$sent" ]; then
    # replies later than the Pinger's wait (TCG under load: RTTs past 2 s) still count in its stats lines (every 5 s)
    lab_wait_for 15 sh -c "grep -F '\"event\":\"stats\"' /var/log/xen/console/guest-mp.log | tail -n 1 | grep -qF '\"sent\":$sent,\"received\":$sent,'" &&
      late="; $((sent - recv)) late replies counted by its next stats line: $(vg_event mp stats | grep -o '"ping4":{[^}]*}')"
  fi
  [ "${sent:-0}" -gt 0 ] && { [ "$recv" = "$sent" ] || [ -n "$late" ]; } && lab_pass minios-pings-linux "$l$late" ||
    lab_fail minios-pings-linux "${l:-no ping line; state $(vg_read $idmp data/minios-state): $(vg_log mp | tail -n 3 | tr '\n' ' ')}"
  v=$(lab_wait_key /local/domain/$idla/data/ping '' 900) || v=
  lab_sleep 6   # mp's next stats line (every 5 s) has la's last requests
  r=$(vg_event mp stats | grep -o '"ICMPPingResponder[^"]*":{[^}]*}') o=$(stat_of mp out)
  rok=0; [ "$(num_of "$r" in)" -ge 5 ] 2>/dev/null && [ "$(num_of "$r" replies)" = "$(num_of "$r" in)" ] && [ "$(num_of "$o" dropped)" = 0 ] && rok=1
  note=$(ping_judge "$v" $rok "mp answered all $(num_of "$r" in) echo requests it got, its vif dropped $(num_of "$o" dropped)") &&
    lab_pass linux-pings-minios "$v$note" ||
    lab_fail linux-pings-minios "${v:-no data/ping}; mp: ${r:-no stats} ${o:-}; $(lab_guest_log la 3 | tr '\n' ' ')"
else
  lab_fail minios-pings-linux "no minios pinger (la not up or vpio run mp failed)"
  lab_fail linux-pings-minios "no minios guest to ping"
fi
for n in mp la; do lab_domid $n >/dev/null && lab_domu_destroy $n; done

# 7. the minios firewall between lc (VLAN 10) and ld (VLAN 20)
if [ -n "$idfw" ] && lab_wait_for 120 state_is "$idfw" ready; then
  r=$(vg_event fw ready)
  case $r in *'"devid":0,'*'"devid":1,'*) lab_pass fw-ready "$r" ;; *) lab_fail fw-ready "ready without both vifs: $r" ;; esac
else lab_fail fw-ready "${idfw:+state $(vg_read $idfw data/minios-state): $(vg_log fw | tail -n 3 | tr '\n' ' ')}${idfw:-vpio run failed (see above)}"; fi
up_c=$( [ -n "$idlc" ] && vg_linux_up lc 400) && up_d=$( [ -n "$idld" ] && vg_linux_up ld 400) &&
  lab_pass fw-linux-up "lc domid $idlc, ld domid $idld: netfronts up" ||
  lab_fail fw-linux-up "lc ${idlc:-not created}: ${up_c:-?}; ld ${idld:-not created}: ${up_d:-?}"
if [ "${up_c:-}" = up ] && [ "${up_d:-}" = up ]; then
  # lc: waits for ld to answer, pings it, fetches ld's file (port 5001), then iperf3 to 5201 (denied)
  lab_wait_key /local/domain/$idlc/data/role 'done' 600 >/dev/null
  lab_wait_key /local/domain/$idld/data/role 'done' 60 >/dev/null
fi
pc=$( [ -n "$idlc" ] && vg_read $idlc data/ping) pd=$( [ -n "$idld" ] && vg_read $idld data/ping)
# the firewall's side: each echo request crossing one filter by its ICMP rule is matched by a reply
# crossing the other (f01 ICMP hits = f10 ICMP hits, its next stats line), and neither vif dropped
lab_sleep 3
a=$(stat_of fw f01) b=$(stat_of fw f10) o0=$(stat_of fw out0) o1=$(stat_of fw out1)
ia=$(echo "$a" | sed -n 's/.*"hits":\[\([0-9]*\),.*/\1/p') ib=$(echo "$b" | sed -n 's/.*"hits":\[\([0-9]*\),.*/\1/p')
rok=0; [ "${ia:-0}" -gt 0 ] && [ "$ia" = "$ib" ] && [ "$(num_of "$o0" dropped)" = 0 ] && [ "$(num_of "$o1" dropped)" = 0 ] && rok=1
rtext="fw: ICMP hits $ia from VLAN 10 = $ib from VLAN 20, vifs dropped $(num_of "$o0" dropped)/$(num_of "$o1" dropped)"
nc=$(ping_judge "$pc" $rok "$rtext") && nd=$(ping_judge "$pd" $rok "$rtext") &&
  lab_pass fw-ping "lc -> ld: $pc$nc; ld -> lc: $pd$nd" ||
  lab_fail fw-ping "lc -> ld: ${pc:-no result}; ld -> lc: ${pd:-no result}; $rtext"
sc=$( [ -n "$idlc" ] && vg_read $idlc data/xfer/sha256) sd=$( [ -n "$idld" ] && vg_read $idld data/xfer/sha256)
bc=$( [ -n "$idlc" ] && vg_read $idlc data/xfer/bytes) bd=$( [ -n "$idld" ] && vg_read $idld data/xfer/bytes)
xs=$( [ -n "$idlc" ] && vg_read $idlc data/xfer/state)
[ -n "$sc" ] && [ "$sc" = "$sd" ] && [ "$bc" = "$bd" ] &&
  lab_pass fw-tcp-allowed "lnf-xfer to port 5001 (the firewall's TCP rule, edited from 5201): $bc bytes, sha256 $sc, $xs" ||
  lab_fail fw-tcp-allowed "sent ${bd:-?} bytes sha256 ${sd:-?}, received ${bc:-?} bytes sha256 ${sc:-?} (${xs:-no state})"
v=$( [ -n "$idlc" ] && vg_read $idlc data/iperf3)
case $v in fail*'timed out'*) lab_pass fw-tcp-denied "iperf3 to port 5201: $v" ;; *) lab_fail fw-tcp-denied "iperf3 to port 5201: ${v:-no result}" ;; esac
# the firewall's rule hits (its stats line, every 2 s): f01 (VLAN 10 -> 20) [icmp, tcp 5001, deny all],
# f10 (VLAN 20 -> 10) [icmp, tcp from 5001, deny all]
hits() { vg_event fw stats | sed -n "s/.*\"$1\":{\"class\":\"IPFilter\",\"in\":[0-9]*,\"hits\":\[\([0-9,]*\)\],\"nomatch\":\([0-9]*\).*/\1 nomatch \2/p"; }
hits_ok() { local a b; a=$(hits f01) b=$(hits f10)
  case "$a|$b" in [1-9]*,[1-9]*,[1-9]*' nomatch 0|'[1-9]*,[1-9]*,*' nomatch 0') return 0 ;; esac; return 1; }
lab_wait_for 30 hits_ok && lab_pass fw-rule-hits "f01 $(hits f01); f10 $(hits f10)" ||
  lab_fail fw-rule-hits "f01 $(hits f01); f10 $(hits f10) (want icmp, tcp and deny hits > 0 from VLAN 10; icmp and tcp from VLAN 20)"
lab_info "lc: iperf3 $(vg_read ${idlc:-x} data/iperf3); counters $(vg_read ${idlc:-x} data/lnf/counters)"
for n in fw lc ld la mp; do cp "/var/log/xen/console/guest-$n.log" /results/ 2>/dev/null; done
dpids=""   # the three at once (not a bare wait: vpio up runs in the background too)
for n in fw lc ld; do lab_domid $n >/dev/null && { lab_domu_destroy $n & dpids="$dpids $!"; }; done
for p in $dpids; do wait "$p"; done
lab_time minios-linux-sections "$(lab_elapsed "$t6")"

# 8. down
$VPIO down --dir $DIR >"$LAB_TMP/down.log" 2>&1 || lab_info "down: $(tail -n 2 "$LAB_TMP/down.log")"
left=""
xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print $1 }' | grep -q . && left="$left domains:$(xl list | awk 'NR > 2 { print $1 }' | tr '\n' ,)"
xenstore-list /local/domain/0/backend 2>/dev/null | grep -v '^console$' | while read -r t; do xenstore-list /local/domain/0/backend/$t 2>/dev/null; done | grep -q . && left="$left backend-dirs"
[ -z "$left" ] && lab_pass vpio-down "nothing left" || lab_fail vpio-down "left:$left"
for n in resp ping; do cp "/var/log/xen/console/guest-$n.log" /results/ 2>/dev/null; done
lab_summary
