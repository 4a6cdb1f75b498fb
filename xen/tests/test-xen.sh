#!/bin/bash
# test-xen.sh - `npm run test:xen`: vpio in xen mode on real Xen 4.17 (the
# project's lab, xen/lab: QEMU/TCG, a PV dom0, Linux PV domUs), end to end:
# vpiod in dom0 on Xen's xenstored with the xen grant/evtchn drivers, and two
# Linux PV guests (Debian's kernel, no kernel netfront) each running
# vpio-linux-netfront --xen (xenstore over /dev/xen/xenbus, gntdev, evtchn,
# its own TAP eth0) and xen/tests/linux-guest-job.sh.
#
#   xen/tests/test-xen.sh           on the host: builds what is needed, `lab.sh deps`
#                                   when root, then one lab run with this script as
#                                   dom0's job; prints LAB PASS/FAIL lines and last
#                                   "N passed, N failed"; exit status non-zero on failure
#
# Host knobs: SKIP_BUILD=1 (use the tree as built), LAB_TIMEOUT (1800 s),
# UP_ARGS ("--mode,xen": how `vpio up` is told to use Xen, words joined by commas),
# LAB_CACHE (the lab's default cache), XFER_MB (4), PINGS (5), IPERF_S (3),
# GUESTS=vpio|harness|xl (vpio: `vpio run` makes the guests and their vifs;
# harness: linux-guest-dom0.mjs wires the dom0 packages directly (XenDom0,
# Switch, Netback) and makes them, for while the CLI has no xen mode; xl: the
# guest side alone, `xl create` without a vif, for when dom0's xen mode is
# not there: the netfront must make eth0, reach the xenstore and say the vif
# never appeared).
#
# dom0 checks, each a "LAB PASS|FAIL name" line:
#   vpio-up                 vpio up --mode xen (vpiod on Xen's xenstored)
#   create-a, create-b      vpio run: two Linux PV guests, a vif each (b's with 2 queues:
#                           --vif ...,queues=2); IPv4 and IPv6 addresses (--ip, --ip6) on both
#   probe-no-vif            guest a: --devid 9 (no such vif) exits 75, "never appeared"
#   netfront-up-a|b         the guest's netfront connected and configured eth0
#   handshake-a|b           frontend and backend state 4 (Connected) on Xen's xenstored
#   grants-mapped-a|b       dom0's grants mapped by that guest's domain (Xen's 'g' key)
#   platform-connected      vpio ls: both vifs Connected
#   queues-b-guest          b's eth0 has 2 TAP queues (ip -d link: numqueues 2; rx-0 rx-1 tx-0
#                           tx-1) and its netfront connected 2 queues (netfront --queues 2)
#   queues-b-platform       vpio ls: b's vif QUEUES 2/2 (--json: queues 2, two queue ports)
#   ping-a-to-b, ping-b-to-a, ping6-a-to-b, ping6-b-to-a
#                           every echo answered (IPv4, IPv6; one busybox ping -W 5 per request)
#   tcp-transfer            the random file's sha256 and size equal at both ends
#   counters-b              the client's netfront moved frames both ways
#   backend-gone-b          dom0 writes b's backend state Closing (5), as a toolstack's detach does:
#                           b's netfront (run with a COMMAND) notices through its xenstore watch,
#                           says "backend <path> went Closing (state 5): disconnecting", prints its
#                           counters, disconnects (frontend and backend Closed) and exits 70
#   destroy-a               xl destroy a -> its vif dirs (frontend, backend) and its switch port gone
#   destroy-a-grants        no dom0 grant mapped by a's domain any more (Xen's 'g' key)
#   down                    nothing left: no vpiod, no guest, no vif directory
set -u

if [ "$0" != /lab/run/dom0.sh ]; then
  # ------------------------------------------------------------------ host side
  set -e
  REPO=$(cd "$(dirname "$0")/../.." && pwd)
  cd "$REPO"
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    [ "$(id -u)" = 0 ] && bash xen/lab/lab.sh deps
    npx turbo run build --filter=@vpio/cli... --filter=@vpio/linux-netfront... --output-logs=errors-only
    make -s -C packages/netfront all
    make -s -C linux-netfront all test-bins
  fi
  for f in linux-netfront/build/vpio-linux-netfront linux-netfront/build/test/lnf-xfer packages/cli/dist/bin/vpio.js; do
    [ -e "$f" ] || { echo "test-xen.sh: $f is missing (npm run build; make -C linux-netfront all test-bins)" >&2; exit 2; }
  done
  args=(--timeout "${LAB_TIMEOUT:-1800}")
  for kv in "GUESTS=${GUESTS:-vpio}" "XFER_MB=${XFER_MB:-4}" "PINGS=${PINGS:-5}" "IPERF_S=${IPERF_S:-3}" "UP_ARGS=${UP_ARGS:---mode,xen}"; do
    args+=(--env "$kv")
  done
  [ -n "${LAB_RESULTS:-}" ] && args+=(--results "$LAB_RESULTS")
  # Xen's console ring big enough for the 'g' key's dump (a line per grant: a vif is ~1100)
  export LAB_XEN_ARGS="conring_size=1m ${LAB_XEN_ARGS:-}"
  exec bash xen/lab/lab.sh run "${args[@]}" "$0"
fi

# -------------------------------------------------------------------- dom0 side
. /lab/lib/dom0.sh
REPO=/vpio
VPIO="node $REPO/packages/cli/dist/bin/vpio.js"
DIR=/tmp/vpio
GUESTS=${GUESTS:-vpio}
UP_ARGS=${UP_ARGS:---mode,xen}
IP_A=10.77.0.1 IP_B=10.77.0.2
IP6_A=fd77::1 IP6_B=fd77::2
QUEUES_B=2   # guest b's vif and TAP have 2 queues (vpio run --vif queues=2, netfront --queues 2); a's 1

lab_info "test-xen: kernel $(uname -r), xen $(xl info 2>/dev/null | awk '/xen_version/{print $3}'), guests by $GUESTS"
lab_toolstack_up || { lab_fail toolstack "xenstored/xenconsoled"; lab_summary; exit 1; }

# dom0's grants mapped by each domain, from Xen's 'g' debug key: for the
# entries of dom0's table in use, the active mapper ("[0x00a] 0x0001 ...":
# ref, then the domain that maps it), counted: "<domid> <count>" lines.
dom0_grants_by_domain() {
  local d n
  xl dmesg -c >/dev/null 2>&1
  xl debug-keys g >/dev/null 2>&1
  lab_wait_for 10 sh -c "xl dmesg | grep -q 'gnttab_usage_print_all \] done'"
  xl dmesg -c >"$LAB_TMP/gnttab.txt" 2>&1
  awk '
    /grant-table for remote d0 /{f=1; next} /grant-table for remote d[0-9]/{f=0}
    f { for (i = 1; i <= NF; i++) if ($i ~ /^\[0x[0-9a-f]+\]$/) { n[$(i+1)]++; break } }
    END { for (d in n) print d, n[d] }' "$LAB_TMP/gnttab.txt" | while read -r d n; do echo "$((d)) $n"; done
}
grants_of() { dom0_grants_by_domain | awk -v d="$1" '$1 == d { print $2 }'; }

# The guest's initramfs: the lab's, with the job, the netfront and lnf-xfer
# (their libraries follow: libxengnttab, libxenevtchn, ...).
initrd_for() {
  lab_domu_initrd "$1" /lab/domu/initrd $REPO/xen/tests/linux-guest-job.sh '' \
    $REPO/linux-netfront/build/vpio-linux-netfront:/usr/bin/vpio-linux-netfront \
    $REPO/linux-netfront/build/test/lnf-xfer:/usr/bin/lnf-xfer
}

# guest NAME ROLE IP PEER [extra words [extra vif params]]: creates it; prints the domid.
words_for() { echo "lnf_role=$1 lnf_ip=$2/24 lnf_peer=$3 lnf_pings=${PINGS:-5} lnf_xfer_mb=${XFER_MB:-4} lnf_iperf_s=${IPERF_S:-3} ${4:-}"; }
guest() {
  local name=$1 role=$2 ip=$3 peer=$4 extra=${5:-} vifx=${6:-} rd words
  words=$(words_for "$role" "$ip" "$peer" "$extra")
  if [ "$GUESTS" = xl ]; then
    words="$words lnf_wait_ms=20000"
    lab_domu_create "$name" --mem 256 --job $REPO/xen/tests/linux-guest-job.sh \
      --file $REPO/linux-netfront/build/vpio-linux-netfront:/usr/bin/vpio-linux-netfront \
      --file $REPO/linux-netfront/build/test/lnf-xfer:/usr/bin/lnf-xfer --extra "$words"
    return
  fi
  rd=$(initrd_for "$name") || return 1
  $VPIO run --dir $DIR --json --name "$name" --memory 256 --kernel /lab/domu/vmlinux --ramdisk "$rd" \
    --cmdline "console=hvc0 loglevel=4 mitigations=off $words" --vif "mac=$(mac_of "$name"),tx-slots=1024,rx-slots=1024,lossless=1$vifx" \
    >"$LAB_TMP/$name.run.json" 2>"$LAB_TMP/$name.run.err" || { cat "$LAB_TMP/$name.run.json" "$LAB_TMP/$name.run.err" >&2; return 1; }
  lab_domid "$name"
}

gread() { xenstore-read "/local/domain/$1/$2" 2>/dev/null; }   # DOMID KEY
mac_of() { [ "$1" = a ] && echo 02:00:00:77:00:01 || echo 02:00:00:77:00:02; }

# The platform's view, by vpio or by the harness (linux-guest-dom0.mjs, which
# takes commands as files in $DIR: cmd.N -> reply.N).
HN=0
harness() { # CMD: prints the reply
  HN=$((HN + 1)); echo "$1" >"$DIR/.cmd"; mv "$DIR/.cmd" "$DIR/cmd.$HN"
  lab_wait_for 120 test -e "$DIR/reply.$HN" || { echo "no reply to $1"; return 1; }
  cat "$DIR/reply.$HN"
}
plat_ls() { if [ "$GUESTS" = harness ]; then harness ls; else $VPIO ls --dir $DIR --json 2>&1; fi; }
plat_connected() { # how many vifs the platform sees Connected
  if [ "$GUESTS" = harness ]; then plat_ls | grep -o '"backendState":4' | wc -l
  else plat_ls | grep -o '"frontendStateName":"Connected"' | wc -l; fi
}
plat_has() { # DOMID NAME: does the platform still list the domain (or a vif of it)?
  if [ "$GUESTS" = harness ]; then plat_ls | grep -q "\"domid\":$1,"
  else plat_ls | grep -q "\"name\":\"$2\""; fi
}
plat_destroy() { # NAME: xl destroy (vpio mode; the platform sees the death) or the harness's destroy
  if [ "$GUESTS" = harness ]; then harness "destroy $1"; else lab_domu_destroy "$1"; fi
}
plat_down() { if [ "$GUESTS" = harness ]; then harness quit; else $VPIO down --dir $DIR 2>&1; fi; }

# 1. the platform
mkdir -p $DIR
if [ "$GUESTS" = vpio ]; then
  # --foreground in the background: under TCG Node loading the packages over
  # 9p may take longer than `vpio up`'s wait for its detached child
  # shellcheck disable=SC2086  # UP_ARGS: words
  $VPIO up --foreground ${UP_ARGS//,/ } --dir $DIR --cores=-1 --max-domains 8 >"$LAB_TMP/up.log" 2>&1 &
  uppid=$!
  lab_wait_for 400 sh -c "grep -q 'platform up' $LAB_TMP/up.log || ! kill -0 $uppid"
  if grep -q 'platform up' "$LAB_TMP/up.log"; then lab_pass vpio-up "$(grep 'platform up' "$LAB_TMP/up.log")"
  else lab_fail vpio-up "$(tail -n 3 "$LAB_TMP/up.log" | tr '\n' ' ')"; lab_summary; exit 1; fi
fi

# 2. two guests, booting at the same time; a probes a vif that does not exist first;
# both get an IPv6 address too, b has 2 queues
WORDS_A="lnf_probe=1 lnf_ip6=$IP6_A/64 lnf_peer6=$IP6_B"
WORDS_B="lnf_ip6=$IP6_B/64 lnf_peer6=$IP6_A lnf_queues=$QUEUES_B lnf_command=1"
if [ "$GUESTS" = harness ]; then
  rda=$(initrd_for a) && rdb=$(initrd_for b) || { lab_fail initrd "see above"; lab_summary; exit 1; }
  cat >"$LAB_TMP/spec.json" <<JSON
[{"name":"a","kernel":"/lab/domu/vmlinux","ramdisk":"$rda","memoryMiB":256,"mac":"$(mac_of a)",
  "cmdline":"console=hvc0 loglevel=4 mitigations=off $(words_for server $IP_A $IP_B "$WORDS_A")"},
 {"name":"b","kernel":"/lab/domu/vmlinux","ramdisk":"$rdb","memoryMiB":256,"mac":"$(mac_of b)","queues":$QUEUES_B,
  "cmdline":"console=hvc0 loglevel=4 mitigations=off $(words_for client $IP_B $IP_A "$WORDS_B")"}]
JSON
  VPIO_REPO=$REPO node $REPO/xen/tests/linux-guest-dom0.mjs $DIR "$LAB_TMP/spec.json" >"$LAB_TMP/harness.log" 2>&1 &
  if lab_wait_for 300 test -e $DIR/up; then lab_pass harness-up "$(tr '\n' ' ' <$DIR/up)"
  else lab_fail harness-up "$(tail -n 5 "$LAB_TMP/harness.log" | tr '\n' ' ')"; lab_save "$LAB_TMP/harness.log"; lab_summary; exit 1; fi
  ida=$(awk '$1 == "a" && $2 ~ /^[0-9]+$/ { print $2 }' $DIR/up); idb=$(awk '$1 == "b" && $2 ~ /^[0-9]+$/ { print $2 }' $DIR/up)
  [ -n "$ida" ] && lab_pass create-a "domid $ida" || lab_fail create-a "$(grep '^a ' $DIR/up)"
  [ -n "$idb" ] && lab_pass create-b "domid $idb" || lab_fail create-b "$(grep '^b ' $DIR/up)"
else
  ida=$(guest a server $IP_A $IP_B "$WORDS_A") && lab_pass create-a "domid $ida" || lab_fail create-a "see above"
  idb=$(guest b client $IP_B $IP_A "$WORDS_B" ",queues=$QUEUES_B") && lab_pass create-b "domid $idb" || lab_fail create-b "see above"
fi
[ -n "$ida" ] && [ -n "$idb" ] || { lab_summary; exit 1; }

v=$(lab_wait_key /local/domain/$ida/data/lnf/probe '' 400) || v=timeout
case $v in "75 "*"never appeared"*) lab_pass probe-no-vif "$v" ;; *) lab_fail probe-no-vif "$v" ;; esac

if [ "$GUESTS" = xl ]; then
  # the guest side alone: no vif, so the netfront must say so after --wait-ms
  for n in a b; do
    id=$(lab_domid $n)
    v=$(lab_wait_key /local/domain/$id/data/lnf/state '' 400) || v=timeout
    case $v in *"never appeared"*) lab_pass "no-vif-$n" "$v" ;; *) lab_fail "no-vif-$n" "$v" ;; esac
    lab_guest_log $n 30 | sed "s/^/  [guest $n] /"
  done
  lab_summary; exit $?
fi

for n in a b; do
  id=$(lab_domid $n)
  v=$(lab_wait_key /local/domain/$id/data/lnf/state '' 400) || v=timeout
  [ "$v" = up ] && lab_pass "netfront-up-$n" "$(gread $id data/lnf/log)" || lab_fail "netfront-up-$n" "$v $(gread $id data/lnf/log)"
  fe_path=/local/domain/$id/device/$(xenstore-list /local/domain/$id/device 2>/dev/null | grep vif | head -n 1)/0
  fe=$(xenstore-read "$fe_path/state" 2>/dev/null); be_path=$(xenstore-read "$fe_path/backend" 2>/dev/null); be=$(xenstore-read "$be_path/state" 2>/dev/null)
  [ "$fe" = 4 ] && [ "$be" = 4 ] && lab_pass "handshake-$n" "frontend $fe_path state $fe, backend $be_path state $be" ||
    lab_fail "handshake-$n" "frontend $fe_path state ${fe:-absent}, backend ${be_path:-?} state ${be:-absent}"
done
for n in a b; do
  id=$(lab_domid $n); g=$(grants_of "$id")
  [ "${g:-0}" -gt 0 ] && lab_pass "grants-mapped-$n" "$g of dom0's grants mapped by domain $id" || lab_fail "grants-mapped-$n" "none mapped by domain $id"
done
plat_ls >"$LAB_TMP/ls.json"
c=$(plat_connected)
[ "$c" -ge 2 ] && lab_pass platform-connected "$c vifs Connected" || lab_fail platform-connected "$(head -c 400 "$LAB_TMP/ls.json")"
lab_save "$LAB_TMP/ls.json" platform-ls.json

# b's 2 queues: the guest's eth0 (TAP queues, the netfront's connect line) and the platform's vif
v=$(lab_wait_key /local/domain/$idb/data/lnf/queues '' 60) || v=
case $v in "numqueues $QUEUES_B | rx-0 rx-1 tx-0 tx-1"*) q_tap=ok ;; *) q_tap= ;; esac
q_nf=$(gread $idb data/lnf/log | grep -o "[0-9]* queues" | head -n 1)
[ -n "$q_tap" ] && [ "$q_nf" = "$QUEUES_B queues" ] && lab_pass queues-b-guest "eth0: $v; netfront: $q_nf" ||
  lab_fail queues-b-guest "eth0: ${v:-?}; netfront: ${q_nf:-?} ($(gread $idb data/lnf/log))"
# the vif of MAC in the platform's list (vpio ls --json, or the harness's): "queues N ports [p,q]"
vif_queues() {
  node -e 'let r; try { r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { process.exit(1); }
    const vifs = r.vifs ?? (r.domains ?? []).flatMap((d) => d.vifs);
    for (const v of vifs) if (v.mac === process.argv[2]) console.log(`queues ${v.queues} ports ${JSON.stringify(v.queuePorts ?? v.ports)}`);' "$1" "$2"
}
q_json=$(vif_queues "$LAB_TMP/ls.json" "$(mac_of b)")
case $q_json in "queues $QUEUES_B ports ["*,*"]") q_ok=1 ;; *) q_ok= ;; esac
if [ "$GUESTS" = harness ]; then
  [ -n "$q_ok" ] && lab_pass queues-b-platform "$q_json" || lab_fail queues-b-platform "${q_json:-no vif $(mac_of b)}"
else
  # vpio ls: the QUEUES column says queues in use / the vif's
  $VPIO ls --dir $DIR >"$LAB_TMP/ls.txt" 2>&1; lab_save "$LAB_TMP/ls.txt" platform-ls.txt
  q_txt=$(awk -v m="$(mac_of b)" '$0 ~ m { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) print $i }' "$LAB_TMP/ls.txt")
  [ -n "$q_ok" ] && [ "$q_txt" = "$QUEUES_B/$QUEUES_B" ] && lab_pass queues-b-platform "vpio ls: QUEUES $q_txt; --json: $q_json" ||
    lab_fail queues-b-platform "vpio ls: QUEUES ${q_txt:-?}; --json: ${q_json:-?}"
fi

lab_save "$LAB_TMP/gnttab.txt" gnttab-with-guests.txt

# 3. the roles: ping both ways, the file, iperf3 (informational)
if [ "$(gread $ida data/lnf/state)" = up ] && [ "$(gread $idb data/lnf/state)" = up ]; then
  lab_wait_key /local/domain/$idb/data/role done 600 >/dev/null
  lab_wait_key /local/domain/$ida/data/role done 60 >/dev/null
fi
for p in "a $ida b" "b $idb a"; do
  set -- $p
  v=$(gread $2 data/ping)
  case $v in ok*) lab_pass "ping-$1-to-$3" "$v" ;; *) lab_fail "ping-$1-to-$3" "${v:-no result}" ;; esac
  v=$(gread $2 data/ping6)
  case $v in ok*) lab_pass "ping6-$1-to-$3" "$v" ;; *) lab_fail "ping6-$1-to-$3" "${v:-no result}" ;; esac
done
sa=$(gread $ida data/xfer/sha256); sb=$(gread $idb data/xfer/sha256)
ba=$(gread $ida data/xfer/bytes); bb=$(gread $idb data/xfer/bytes)
[ -n "$sa" ] && [ "$sa" = "$sb" ] && [ "$ba" = "$bb" ] && lab_pass tcp-transfer "$bb bytes, sha256 $sb, $(gread $idb data/xfer/state)" ||
  lab_fail tcp-transfer "sent $ba bytes sha256 ${sa:-?}, received ${bb:-?} bytes sha256 ${sb:-?} ($(gread $idb data/xfer/state))"
lab_info "iperf3 b -> a (TCG: an emulator, informational only): $(gread $idb data/iperf3)"
cb=$(gread $idb data/lnf/counters)
lab_info "counters b: $cb"
rx=$(echo "$cb" | sed -n 's/^[^[]*"rx_packets":\([0-9]*\).*/\1/p'); tx=$(echo "$cb" | sed -n 's/^[^[]*"tx_packets":\([0-9]*\).*/\1/p')
[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ] && lab_pass counters-b "rx_packets $rx, tx_packets $tx" || lab_fail counters-b "rx ${rx:-?} tx ${tx:-?}"

# 4. b's backend leaves while b's netfront bridges: dom0 writes the backend's
# state Closing (5), as a toolstack detaching the vif does (xl network-detach
# starts so). No event channel says so on Xen (a notification to a closed
# port is dropped), so the netfront must see it through its xenstore watch,
# say so, print its counters, disconnect (frontend Closing, then Closed;
# netback follows to Closed and detaches its ports) and exit 70, its COMMAND
# (lnf_command) stopped.
fe_b=/local/domain/$idb/device/$(xenstore-list /local/domain/$idb/device 2>/dev/null | grep vif | head -n 1)/0
be_b=$(xenstore-read "$fe_b/backend" 2>/dev/null)
if [ "$(gread $idb data/lnf/state)" = up ] && [ -n "$be_b" ]; then
  since() { local t; read -r t _ </proc/uptime; awk -v a="$1" -v b="$t" 'BEGIN { printf "%.1f", b - a }'; }
  read -r t0 _ </proc/uptime
  xenstore-write "$be_b/state" 5
  # the netfront's own steps, by dom0's clock: its frontend leaves Connected (it noticed), reaches Closed (disconnected)
  lab_wait_for 60 sh -c "[ \"\$(xenstore-read $fe_b/state 2>/dev/null)\" != 4 ]"; d_fe5=$(since "$t0")
  lab_wait_for 60 sh -c "[ \"\$(xenstore-read $fe_b/state 2>/dev/null)\" = 6 ]"; d_fe6=$(since "$t0")
  v=$(lab_wait_key /local/domain/$idb/data/lnf/exit '' 60) || v="no exit within 60 s"
  dt=$(since "$t0")
  c=$(gread $idb data/lnf/exit-counters)
  lab_wait_for 30 sh -c "[ \"\$(xenstore-read $be_b/state 2>/dev/null)\" = 6 ]"
  fe=$(xenstore-read "$fe_b/state" 2>/dev/null); be=$(xenstore-read "$be_b/state" 2>/dev/null)
  case $v in
    "70 | "*"backend $be_b went Closing (state 5): disconnecting"*)
      if [ -n "$c" ] && [ "$fe" = 6 ] && [ "$be" = 6 ]; then
        lab_pass backend-gone-b "frontend Closing ${d_fe5} s and Closed ${d_fe6} s after the write, exit reported at ${dt} s: ${v%%|*}| $(echo "$v" | tr '|' '\n' | grep -m 1 'went Closing'); counters printed; frontend $fe, backend $be"
      else lab_fail backend-gone-b "exit ok (${dt} s) but counters '${c:-none}', frontend ${fe:-absent}, backend ${be:-absent}"; fi ;;
    *) lab_fail backend-gone-b "after ${dt} s: $v" ;;
  esac
  lab_info "b's netfront counters at exit: ${c:-none}"
else
  lab_fail backend-gone-b "b's netfront was not up (${be_b:-no backend path})"
fi

# 5. destroy a guest: its vif directories, its switch port and its grants go
be_a=$(gread $ida "device/$(xenstore-list /local/domain/$ida/device 2>/dev/null | grep vif | head -n 1)/0/backend")
plat_ports() { plat_ls | grep -o '"port":[0-9]*' | wc -l; }   # switch ports of attached vifs
ports_before=$(plat_ports)
plat_destroy a >"$LAB_TMP/destroy.log" 2>&1
gone() { ! xenstore-exists "$be_a" && ! xenstore-exists /local/domain/$ida && ! plat_has "$ida" a; }
if lab_wait_for 60 gone && [ "$(plat_ports)" -lt "$ports_before" ]; then
  lab_pass destroy-a "backend ${be_a:-?} and frontend gone, not in the platform's list, attached switch ports $ports_before -> $(plat_ports)"
else lab_fail destroy-a "backend $(xenstore-exists "$be_a" && echo present || echo gone), platform: $(plat_ls | head -c 300)"; fi
g=$(grants_of "$ida"); [ -z "$g" ] && lab_pass destroy-a-grants "no dom0 grant mapped by domain $ida" || lab_fail destroy-a-grants "$g still mapped"

# 6. down: nothing left
plat_down >"$LAB_TMP/down.log" 2>&1 || lab_info "down: $(tail -n 2 "$LAB_TMP/down.log")"
# dom0 has no pgrep: a process whose command line matches EREGEX (the [.] keeps this grep's own from matching)
running() { local f; for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f" 2>/dev/null | grep -qE "$1" && return 0; done; return 1; }
domus() { xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print $1 }'; }
[ "$GUESTS" = harness ] && lab_wait_for 30 bash -c "$(declare -f running); ! running 'linux-guest-dom0[.]mjs'"
# a destroyed domain may linger a moment as "(null)" while Xen frees it
lab_wait_for 60 sh -c "! xl list 2>/dev/null | awk 'NR > 1 && \$1 != \"Domain-0\"' | grep -q ."
[ "$GUESTS" = harness ] && lab_save "$LAB_TMP/harness.log"
left=""
running 'vpio[.]js up|linux-guest-dom0[.]mjs' && left="$left vpiod"
domus | grep -q . && left="$left domains:$(domus | tr '\n' ,)"
xenstore-list /local/domain/0/backend 2>/dev/null | grep -v '^console$' | while read -r t; do xenstore-list /local/domain/0/backend/$t 2>/dev/null; done | grep -q . && left="$left backend-dirs"
[ -z "$left" ] && lab_pass down "nothing left: no vpiod, no guest, no vif directory" || lab_fail down "left:$left"
for n in a b; do cp "/var/log/xen/console/guest-$n.log" "/results/guest-$n.log" 2>/dev/null; done
lab_summary
