#!/bin/bash
# memif-bench.sh - a vpio memif port against a plain DPDK memif pair, same run, same machine (root).
#
#   rx  testpmd -> vpio guest, LEN 64 and 1500:
#       dpdk-testpmd --forward-mode=txonly --txpkts=LEN (net_memif role=client) -> `vpio memif add`
#       port -> switch -> minios sink (Counter -> Sink); rate = the sink's switch port outPackets
#       (`vpio stats --json`) over the window.
#   tx  vpio guest -> testpmd, LEN 64 and 1500:
#       minios Pktgen (LEN-byte frames, RATE 0) -> switch -> memif port -> dpdk-testpmd
#       --forward-mode=rxonly; rate = testpmd's per-second Rx-pps lines printed inside the window,
#       median (the baseline script's reading).
#   baseline of both, in the same run: ../shared/baselines/run_memif_txrx.sh LEN ROUND, unmodified
#       (testpmd txonly -> rxonly over a memif pair, no switch; ~10 s of traffic; the median of
#       its per-second Rx-pps), one run per size and round, interleaved with ours.
#
# LEN is the frame's length on the memif (no FCS there), as testpmd's --txpkts and the
# baseline give it; Pktgen writes LEN-byte frames (LEN 64 and 1500).
# testpmd in ours runs with the baseline's EAL options (--no-huge -m 1024 --no-pci
# --single-file-segments) and lcores (the rxonly side 0@0,1@0, the txonly side 0@1,1@1),
# plus what a client of vpio needs: role=client, socket-abstract=no (vpio listens on a path),
# a --file-prefix of its own, and (txonly) --eth-peer=0,SINK_MAC so frames are unicast to the
# sink's static MAC entry. Its stdout is line-buffered (stdbuf -oL) so the window's lines
# can be picked. vpio runs `vpio up --cores=-1` (event mode, nothing pinned) in a network
# namespace of its own: its switch, the memif port's vpio-uplink and the guest share the two
# cores with testpmd's polling lcore.
#
# Every figure: median of ROUNDS windows of SECONDS_PER s, after WARMUP_S s.
# Knobs (environment): SECONDS_PER (4), ROUNDS (3), WARMUP_S (1), SIZES ("64 1500"),
# CASES ("rx tx"), BASELINE (1; 0: ours only, no ratio), RX_MODE (empty: whatever `vpio
# memif add` runs vpio-uplink with; poll|interrupt: the port's vpio-uplink gets --rx-mode
# RX_MODE last on its command line (the last one wins), through a wrapper script given to
# vpiod as $VPIO_UPLINK, so it works whether or not the built CLI has `memif add --rx-mode`;
# the wrapper runs $VPIO_UPLINK when set, else packages/uplink/build/vpio-uplink). Arguments: --json (records
# {case, value, unit, baseline, baseline_value, ratio}), --seconds N, --rounds N.
# Everything made (namespace vmb-<pid>, /tmp/vpio-memif-bench.*, the platform, testpmd's
# /var/run/dpdk/vmb-<pid>-*, and the baseline's mfsrv/mfcli once its testpmds are gone)
# is removed on exit, also on failure or Ctrl-C.
set -u
JSON=0
SECS=${SECONDS_PER:-4} ROUNDS=${ROUNDS:-3} WARM=${WARMUP_S:-1} SIZES=${SIZES:-64 1500} CASES=${CASES:-rx tx}
BASELINE=${BASELINE:-1} RX_MODE=${RX_MODE:-}
die() { echo "memif-bench: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--json) JSON=1 ;;
	--seconds) SECS=${2:-}; shift ;;
	--seconds=*) SECS=${1#*=} ;;
	--rounds) ROUNDS=${2:-}; shift ;;
	--rounds=*) ROUNDS=${1#*=} ;;
	*) die "unknown argument '$1' (--json, --seconds N, --rounds N)" ;;
	esac
	shift
done
if ! [[ $SECS =~ ^[0-9]+([.][0-9]+)?$ ]] || ! awk -v s="$SECS" 'BEGIN{exit !(s>0)}'; then die "--seconds/SECONDS_PER expects a positive number, got '$SECS'"; fi
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds/ROUNDS expects a positive integer, got '$ROUNDS'"
[[ $WARM =~ ^[0-9]+([.][0-9]+)?$ ]] || die "WARMUP_S expects a number of seconds, got '$WARM'"
for l in $SIZES; do
	if ! [[ $l =~ ^[0-9]+$ ]] || [ "$l" -lt 64 ] || [ "$l" -gt 1514 ]; then die "SIZES: $l is not a frame length in 64..1514"; fi
done
for c in $CASES; do [ "$c" = rx ] || [ "$c" = tx ] || die "CASES: unknown case '$c' (rx, tx)"; done
[ -z "$RX_MODE" ] || [ "$RX_MODE" = poll ] || [ "$RX_MODE" = interrupt ] || die "RX_MODE: poll or interrupt, got '$RX_MODE'"

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
VPIO_JS=$ROOT/packages/cli/dist/bin/vpio.js
BASEL=${VPIO_BASELINES:-$(cd "$ROOT/.." && pwd)/shared/baselines}
[ -f "$BASEL/run_memif_txrx.sh" ] || BASEL=$ROOT/packages/devkit/baselines # the vendored copy
SINK_MAC=02:5c:0c:00:00:02 GEN_MAC=02:5c:0a:00:00:01 NOBODY_MAC=02:5c:0c:00:00:99
RECORDED_64=28.4 RECORDED_1500=9.32 # shared/baselines/README.md, memif txonly -> rxonly
log() { [ $JSON = 1 ] || echo "$*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, vpiod's sandbox, DPDK's /var/run/dpdk)"
command -v dpdk-testpmd >/dev/null || die "no dpdk-testpmd (Debian: apt-get install dpdk-dev)"
for t in nsenter ip stdbuf timeout; do command -v $t >/dev/null || die "no $t"; done
[ -f "$VPIO_JS" ] || die "no $VPIO_JS (npm run build)"
[ -x "$ROOT/packages/uplink/build/vpio-uplink" ] || die "no vpio-uplink (npm run build -w @vpio/uplink)"
[ -x "$ROOT/minios/build/vpio-minios" ] || die "no minios guest (npm run build -w @vpio/minios)"
[ "$BASELINE" = 0 ] || [ -f "$BASEL/run_memif_txrx.sh" ] || die "no $BASEL/run_memif_txrx.sh (set VPIO_BASELINES)"

NS=vmb-$$
WD=$(mktemp -d /tmp/vpio-memif-bench.XXXXXX) || die "mktemp"
SOCK=$WD/bench.sock
D=$WD/run
NSMADE=0 UP=0 PFXS=() PMDS=() BASEPID='' BASERAN=0

# killtree PID SIG: PID and its descendants
killtree() {
	local c
	for c in $(pgrep -P "$1"); do killtree "$c" "$2"; done
	kill "-$2" "$1" 2>/dev/null
}
cleanup() {
	local p x
	[ -n "$BASEPID" ] && killtree "$BASEPID" INT
	for p in "${PMDS[@]}"; do killtree "$p" INT; done
	for _ in $(seq 10); do
		p=0
		for x in "${PMDS[@]}" $BASEPID; do kill -0 "$x" 2>/dev/null && p=1; done
		[ $p = 0 ] && break
		sleep 0.5
	done
	for p in "${PMDS[@]}" $BASEPID; do killtree "$p" KILL; done
	[ $UP = 1 ] && node "$VPIO_JS" down --dir "$D" >/dev/null 2>&1
	if [ $NSMADE = 1 ]; then
		ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	for p in "${PFXS[@]}"; do rm -rf "/var/run/dpdk/$p"; done
	# the baseline's fixed prefixes: only when it ran here and no testpmd holds them any more
	if [ $BASERAN = 1 ] && ! pgrep -f -- '--file-prefix mf(srv|cli)' >/dev/null; then
		rm -rf /var/run/dpdk/mfsrv /var/run/dpdk/mfcli
	fi
	rm -rf "$WD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

V() { node "$VPIO_JS" "$@"; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{if(NR==0){print 0; exit} print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# One node helper for the JSON: J CMD ARGS < input
#   port NAME FIELD   (stats --json) the port's FIELD and atMs: "N ATMS"; exit 1 when absent
#   drops NAME        (stats --json) that port's drops by reason, compact JSON ({} when none)
#   wire              (console --json) the newest vpio-uplink stats line: {wire, vif}, or {}
#   delta A B         (args) B - A over wire and vif's numeric fields, nonzero ones only
#   get OBJ KEY.KEY   (args) a field, 0 when absent
#   rec C V U B BV    (args) one {case, value, unit, baseline, baseline_value, ratio} record
J() {
	node -e '
const [cmd, ...a] = process.argv.slice(1);
const out = (s) => process.stdout.write(String(s));
const num = (o) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => typeof v === "number"));
if (cmd === "delta" || cmd === "get" || cmd === "rec") {
  if (cmd === "delta") {
    const x = JSON.parse(a[0] || "{}"), y = JSON.parse(a[1] || "{}"), r = {};
    for (const k of ["wire", "vif"]) {
      const d = {}, p = num(x[k]), q = num(y[k]);
      for (const [f, v] of Object.entries(q)) if (f !== "devid" && v - (p[f] ?? 0) !== 0) d[f] = v - (p[f] ?? 0);
      r[k] = d;
    }
    out(JSON.stringify(r));
  } else if (cmd === "get") {
    let v = JSON.parse(a[0] || "{}");
    for (const k of a[1].split(".")) v = v?.[k];
    out(v ?? 0);
  } else {
    const [c, v, u, b, bv] = a; const r = { case: c, value: +v, unit: u, baseline: null, baseline_value: null, ratio: null };
    if (b) { r.baseline = b; r.baseline_value = +bv; r.ratio = +bv > 0 && +v > 0 ? +v / +bv : null; }
    out(JSON.stringify(r) + "\n");
  }
  process.exit(0);
}
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const r = JSON.parse(s);
  if (cmd === "port" || cmd === "drops") {
    const p = r.ports.find((x) => x.name === a[0]);
    if (cmd === "drops") { out(JSON.stringify(p?.drops ? Object.fromEntries(Object.entries(p.drops).filter(([, v]) => v)) : {})); return; }
    if (p === undefined) process.exit(1);
    out(`${p[a[1]]} ${r.atMs}`);
  } else if (cmd === "wire") {
    const l = r.text.split("\n").filter((x) => x.startsWith("{\"event\":\"stats\"")).at(-1);
    out(l ? JSON.stringify({ wire: JSON.parse(l).wire, vif: JSON.parse(l).vif }) : "{}");
  }
});' "$@"
}
port() { V stats --dir "$D" --json | J port "$1" "$2"; }
pdrops() { V stats --dir "$D" --json | J drops "$1"; }
# (through a file: `vpio console --json` cuts its output at 64 KiB when stdout is a pipe)
wstats() { V console memif-bench --dir "$D" --json >"$WD/console.json" && J wire <"$WD/console.json"; }
# until the named switch port exists (a guest's vif connected): waitport NAME
waitport() {
	local _
	for _ in $(seq 100); do port "$1" outPackets >/dev/null && return 0; sleep 0.1; done
	die "port $1 never appeared in vpio stats"
}
# until the memif port's stats line says connected with more connects than $1
waitconn() {
	local w
	for _ in $(seq 150); do
		w=$(wstats)
		[ "$(J get "$w" wire.connected)" = 1 ] && [ "$(J get "$w" wire.connects)" -gt "$1" ] && return 0
		kill -0 "$PMD" 2>/dev/null || { tail -20 "$PLOG" >&2; die "testpmd left before connecting"; }
		sleep 0.1
	done
	tail -20 "$PLOG" >&2
	die "testpmd did not connect to the memif port within 15 s"
}

# testpmd as a client of the memif port: pmd_start MODE LCORES LEN LOG; pid in PMD (timeout's; it forwards SIGINT)
pmd_start() {
	local pfx=$NS-$((${#PFXS[@]} + 1)) extra=()
	PFXS+=("$pfx")
	[ "$1" = txonly ] && extra=("--txpkts=$3" "--eth-peer=0,$SINK_MAC")
	timeout -s INT -k 5 "$(awk -v w="$WARM" -v s="$SECS" 'BEGIN{printf "%d", w+s+60}')" \
		stdbuf -oL dpdk-testpmd --lcores "$2" --no-huge -m 1024 --no-pci --single-file-segments --file-prefix "$pfx" \
		--vdev="net_memif0,role=client,socket=$SOCK,socket-abstract=no" -- \
		--forward-mode="$1" "${extra[@]}" --stats-period 1 >"$4" 2>&1 &
	PMD=$! PLOG=$4 PPFX=$pfx
	PMDS+=("$PMD")
}
pmd_stop() {
	kill -INT "$PMD" 2>/dev/null
	for _ in $(seq 40); do kill -0 "$PMD" 2>/dev/null || break; sleep 0.25; done
	killtree "$PMD" KILL
	wait "$PMD" 2>/dev/null
	PMDS=() # one testpmd at a time: nothing of it is left to kill
	rm -rf "/var/run/dpdk/$PPFX"
}
lines() { wc -l <"$1"; }
# median of a testpmd per-second figure (Rx-pps|Tx-pps) printed between lines FROM and TO of LOG
pps_window() { [ "$3" -gt "$2" ] && sed -n "$(($2 + 1)),$3p" "$1" | grep -a "$4" | awk '{print $2}'; }
# testpmd's final "Forward statistics for port 0": RX-packets RX-dropped TX-packets TX-dropped
fwdstats() {
	awk '/Forward statistics for port 0/{f=1} f&&/RX-packets:/{r=$2; rd=$4} f&&/TX-packets:/{t=$2; td=$4; f=0} END{printf "%s %s %s %s", r+0, rd+0, t+0, td+0}' "$1"
}

# CPU use over the window: every process under vpiod (its threads, guests, vpio-uplink) and testpmd
CLK=$(getconf CLK_TCK)
# cpusnap: "pid comm ticks" per process, and "pid/tid - ticks" per thread of vpiod
ticks() { sed 's/.*) //' "$1" 2>/dev/null | awk '{print $12 + $13}'; }
cpusnap() {
	local vp p t
	vp=$(cat "$D/vpio.pid" 2>/dev/null)
	for p in $(ps -e -o pid=,ppid= | awk -v r1="$vp" -v r2="$PMD" '{par[$1]=$2} END{for(p in par){q=p; while(q>1){if(q==r1||q==r2){print p; break} q=par[q]}}}'); do
		t=$(ticks "/proc/$p/stat")
		[ -n "$t" ] || continue
		if [ "$p" = "$vp" ]; then echo "$p vpiod $t"; else echo "$p $(tr ' ' _ <"/proc/$p/comm" 2>/dev/null) $t"; fi
	done
	for p in /proc/"$vp"/task/*; do
		t=$(ticks "$p/stat") && [ -n "$t" ] && echo "$vp/${p##*/} - $t"
	done
}
# cpureport BEFORE AFTER SECONDS: "comm[pid] NN%" for processes above 2%, and vpiod's busiest thread
cpureport() {
	awk -v hz="$CLK" -v s="$3" 'NR==FNR{a[$1]=$3; next} {if(!($1 in a)) next; d=($3-a[$1])/hz/s*100; if($2=="-"){if(d>tb){tb=d; tt=$1}} else if(d>=2) printf "%s[%s] %.0f%%  ", $2, $1, d} END{if(tt!="") printf "(busiest vpiod thread %s %.0f%%)", tt, tb}' \
		<(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

REC=() DRIFT=() BASEFAIL=()
# rec CASE VALUE UNIT BASELINE BASELINE_VALUE
rec() { REC+=("$1|$2|$3|${4:-}|${5:-}"); }
gbps() { awk -v m="$1" -v l="$2" 'BEGIN{printf "%.2f", m*l*8/1000}'; }

# ---------------------------------------------------------------- setup
if [ -n "$RX_MODE" ]; then # the tenant runs as another user: the wrapper's directory must be traversable
	chmod 711 "$WD" && mkdir -m 755 "$WD/bin" || die "mkdir $WD/bin"
	printf '#!/bin/sh\nexec %s "$@" --rx-mode %s\n' "${VPIO_UPLINK:-$ROOT/packages/uplink/build/vpio-uplink}" "$RX_MODE" >"$WD/bin/vpio-uplink"
	chmod 755 "$WD/bin/vpio-uplink"
	export VPIO_UPLINK=$WD/bin/vpio-uplink
fi
ip netns add "$NS" || die "ip netns add $NS"
NSMADE=1
ip -n "$NS" link set lo up || die "ip -n $NS link set lo up"
mkdir -p "$D" || die "mkdir $D"
UP=1
if ! nsenter --net="/run/netns/$NS" node "$VPIO_JS" up --dir "$D" --cores=-1 >/dev/null; then
	cat "$D/platform.log" >&2
	die "vpio up failed"
fi
V memif add bench --socket "$SOCK" --dir "$D" >/dev/null || die "vpio memif add bench --socket $SOCK failed"
printf '%s\n' 'FromNetfront(0) -> rx :: Counter -> Sink;' >"$WD/sink.click"
for l in $SIZES; do
	printf '%s\n' "gen :: Pktgen(SRC_MAC auto, DST_MAC $NOBODY_MAC, SRC_IP 198.18.0.2, DST_IP 198.18.0.1, LEN $l, RATE 0, COUNT 0, BURST 256, DPORT 9);" \
		'gen -> ToNetfront(0);' 'FromNetfront(0) -> Sink;' >"$WD/gen-$l.click"
done
for _ in $(seq 50); do [ "$(J get "$(wstats)" wire.kind)" = memif ] && break; sleep 0.1; done
RXM=poll # what the port says it runs (its stats line), not what was asked
[ "$(J get "$(wstats)" wire.rx_interrupt_mode)" = 1 ] && RXM=interrupt
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+dirty')
log "memif-bench: ${SECS} s windows after ${WARM} s, ${ROUNDS} rounds, sizes $SIZES, cases $CASES; memif rx mode $RXM; 1-min load $LOAD0; baselines from $BASEL"

# ---------------------------------------------------------------- rx: testpmd txonly -> memif -> switch -> sink
# round_rx LEN R: appends to RX_OURS, RX_OFFER
round_rx() {
	local len=$1 r=$2 name=sink-$1-$2 w0 w1 a b c0 l0 l1 c1 t0 t1 fs m off xs
	V run --dir "$D" --minios "$WD/sink.click" --name "$name" --vif "mac=$SINK_MAC" >/dev/null || die "vpio run (sink)"
	waitport "$name"
	w0=$(wstats)
	pmd_start txonly 0@1,1@1 "$len" "$WD/pmd-rx-$len-$r.log"
	waitconn "$(J get "$w0" wire.connects)"
	sleep "$WARM"
	a=$(port "$name" outPackets) || die "no port $name"
	t0=$(now) c0=$(cpusnap) l0=$(lines "$PLOG")
	sleep "$SECS"
	l1=$(lines "$PLOG") t1=$(now) c1=$(cpusnap)
	b=$(port "$name" outPackets) || die "no port $name"
	pmd_stop
	m=$(awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); printf "%.4f", (y[1]-x[1])/((y[2]-x[2])/1000)/1e6}')
	mapfile -t xs < <(pps_window "$PLOG" "$l0" "$l1" Tx-pps)
	off=$(awk -v v="$(median "${xs[@]}")" 'BEGIN{printf "%.4f", v/1e6}')
	RX_OURS+=("$m") RX_OFFER+=("$off")
	sleep 1.2 # the port's next stats line counts everything
	w1=$(wstats)
	fs=$(fwdstats "$PLOG")
	log "rx $len B round $r: sink got $m Mpps ($(gbps "$m" "$len") Gb/s); testpmd put $off Mpps into the C2S ring (median Tx-pps in the window, ${#xs[@]} samples)"
	log "   testpmd totals: TX-packets $(echo "$fs" | cut -d' ' -f3), TX-dropped $(echo "$fs" | cut -d' ' -f4) (tx_burst refused: the C2S ring was full)"
	log "   memif port, this round: $(J delta "$w0" "$w1")"
	log "   switch drops at the sink's port: $(pdrops "$name"); at the memif port: $(pdrops memif-bench)"
	log "   cpu in the window: $(cpureport "$c0" "$c1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")"
	V destroy "$name" --dir "$D" >/dev/null 2>&1
}

# ---------------------------------------------------------------- tx: pktgen -> switch -> memif -> testpmd rxonly
round_tx() {
	local len=$1 r=$2 name=gen-$1-$2 w0 w1 c0 c1 t0 t1 l0 l1 g0 g1 q0 q1 m fs s n
	w0=$(wstats)
	pmd_start rxonly 0@0,1@0 "" "$WD/pmd-tx-$len-$r.log"
	waitconn "$(J get "$w0" wire.connects)"
	V run --dir "$D" --minios "$WD/gen-$len.click" --name "$name" --vif "mac=$GEN_MAC" >/dev/null || die "vpio run (pktgen)"
	waitport "$name"
	sleep "$WARM"
	g0=$(port "$name" inPackets) q0=$(port memif-bench outPackets)
	t0=$(now) c0=$(cpusnap) l0=$(lines "$PLOG")
	sleep "$SECS"
	l1=$(lines "$PLOG") t1=$(now) c1=$(cpusnap)
	g1=$(port "$name" inPackets) q1=$(port memif-bench outPackets)
	mapfile -t s < <(pps_window "$PLOG" "$l0" "$l1" Rx-pps)
	n=${#s[@]}
	if [ "$n" = 0 ]; then # testpmd's stdout was not line-buffered: its nonzero samples, less the first WARM and the last
		mapfile -t s < <(grep -a Rx-pps "$PLOG" | awk '$2>0{print $2}' | sed "1,$(awk -v w="$WARM" 'BEGIN{printf "%d", (w<1)?1:w}')d;\$d")
		log "   (no testpmd lines inside the window: its samples after warm-up instead)"
	fi
	m=$(awk -v v="$(median "${s[@]}")" 'BEGIN{printf "%.4f", v/1e6}')
	TX_OURS+=("$m")
	TX_OFFER+=("$(awk -v a="$g0" -v b="$g1" 'BEGIN{split(a,x," "); split(b,y," "); printf "%.4f", (y[1]-x[1])/((y[2]-x[2])/1000)/1e6}')")
	TX_SWITCH+=("$(awk -v a="$q0" -v b="$q1" 'BEGIN{split(a,x," "); split(b,y," "); printf "%.4f", (y[1]-x[1])/((y[2]-x[2])/1000)/1e6}')")
	local gd
	gd=$(pdrops "$name")
	V destroy "$name" --dir "$D" >/dev/null 2>&1 # before testpmd leaves: no tx_drop_down
	pmd_stop
	sleep 1.2
	w1=$(wstats)
	fs=$(fwdstats "$PLOG")
	log "tx $len B round $r: testpmd received $m Mpps ($(gbps "$m" "$len") Gb/s; median Rx-pps of $n samples in the window); pktgen offered ${TX_OFFER[-1]} Mpps into the switch; the switch put ${TX_SWITCH[-1]} Mpps into the memif port's ring"
	log "   testpmd totals: RX-packets $(echo "$fs" | cut -d' ' -f1), RX-dropped $(echo "$fs" | cut -d' ' -f2)"
	log "   memif port, this round: $(J delta "$w0" "$w1")"
	log "   switch drops at the memif port: $(pdrops memif-bench); at pktgen's port: $gd"
	log "   cpu in the window: $(cpureport "$c0" "$c1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")"
}

# ---------------------------------------------------------------- baseline
round_base() {
	local len=$1 r=$2 o v
	mkdir -p "$WD/base" && BASERAN=1
	(cd "$WD/base" && MEMIF_SOCK=$WD/base/memif.sock exec bash "$BASEL/run_memif_txrx.sh" "$len" "$r") >"$WD/base/out-$len-$r" 2>&1 &
	BASEPID=$!
	wait "$BASEPID"
	BASEPID=
	o=$(grep -a 'median_Mpps=' "$WD/base/out-$len-$r" | tail -1)
	[ -n "$o" ] || { cat "$WD/base/out-$len-$r" >&2; die "run_memif_txrx.sh $len $r printed no figure"; }
	log "baseline $len B round $r: $o"
	if [[ $o == *" samples=0 "* ]]; then # its pair never moved a packet: no figure, say why
		log "   baseline failed: no Rx-pps sample above 0; its server's log says: $(grep -a -m1 -i 'fail\|error' "$WD/base/srv_${len}_$r.log" | grep -v 'RX-errors\|TX-errors')"
		BASEFAIL+=("$len B round $r")
		return
	fi
	v=${o#*median_Mpps=}
	BASE+=("${v%% *}")
}

for len in $SIZES; do
	RX_OURS=() RX_OFFER=() TX_OURS=() TX_OFFER=() TX_SWITCH=() BASE=()
	for r in $(seq "$ROUNDS"); do
		[ "$BASELINE" = 0 ] || round_base "$len" "$r"
		for c in $CASES; do "round_$c" "$len" "$r"; done
	done
	bl="testpmd memif pair txonly -> rxonly (run_memif_txrx.sh $len)" bv=
	[ "$BASELINE" = 0 ] || [ ${#BASE[@]} = 0 ] || bv=$(median "${BASE[@]}")
	[ -n "$bv" ] || bl=
	for c in $CASES; do
		if [ "$c" = rx ]; then
			rec "rx $len B: testpmd txonly -> memif port -> switch -> minios sink (sink's port out)" "$(median "${RX_OURS[@]}")" Mpps "$bl" "$bv"
		else
			rec "tx $len B: minios pktgen -> switch -> memif port -> testpmd rxonly (its Rx-pps)" "$(median "${TX_OURS[@]}")" Mpps "$bl" "$bv"
		fi
	done
	if [ -n "$bv" ]; then
		rv=$RECORDED_64
		[ "$len" = 1500 ] && rv=$RECORDED_1500
		[ "$len" = 64 ] || [ "$len" = 1500 ] && awk -v m="$bv" -v r="$rv" 'BEGIN{exit !((m-r)/r > 0.3 || (r-m)/r > 0.3)}' &&
			DRIFT+=("baseline $len B: measured $bv Mpps, recorded $rv Mpps ($(awk -v m="$bv" -v r="$rv" 'BEGIN{printf "%+.0f%%", (m-r)/r*100}')): the machine was busy or the method drifted")
	fi
done

if [ $JSON = 1 ]; then
	for x in "${REC[@]}"; do
		IFS='|' read -r c v u b bv <<<"$x"
		J rec "$c" "$v" "$u" "$b" "$bv"
	done
else
	echo "@vpio/memif bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; commit $COMMIT; $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "${SECS} s windows after ${WARM} s warm-up, median of ${ROUNDS}; memif port's rx mode $RXM; 1-minute load average before $LOAD0, after $(cut -d' ' -f1 /proc/loadavg)"
	for x in "${REC[@]}"; do
		IFS='|' read -r c v u b bv <<<"$x"
		l=$(echo "$c" | awk '{print $2}')
		if [ -n "$b" ]; then
			awk -v c="$c" -v v="$v" -v b="$b" -v bv="$bv" -v l="$l" 'BEGIN{printf "%s: %.3f Mpps (%.2f Gb/s) | baseline %s: %.3f Mpps (%.2f Gb/s) | ratio %.3fx\n", c, v, v*l*8/1000, b, bv, bv*l*8/1000, (bv>0)?v/bv:0}'
		else
			awk -v c="$c" -v v="$v" -v l="$l" 'BEGIN{printf "%s: %.3f Mpps (%.2f Gb/s)\n", c, v, v*l*8/1000}'
		fi
	done
	for w in "${DRIFT[@]}"; do echo "warning: $w"; done
	[ ${#BASEFAIL[@]} = 0 ] || echo "warning: run_memif_txrx.sh moved no packet in ${BASEFAIL[*]} (no figure, no ratio from those)"
fi
