#!/bin/bash
# uplink-bench.sh - vpio-uplink against plain Linux, same run, same machine (root).
#
#   1. uplink RX, 64 B: trafgen -> veth -> `vpio uplink add` -> switch -> minios sink
#      (rate = the sink's switch port out counter, `vpio stats --json`)
#      baseline: the same trafgen into a veth pair whose peer has netsniff-ng
#      (`netsniff-ng --in vD --out /dev/null`, an AF_PACKET TPACKET_V3 receiver)
#      attached: its rx_packets counter; and the same with nothing attached
#      ("kernel only": the veth rx ceiling).
#   2. uplink TX, 64 B: minios pktgen -> switch -> uplink -> veth -> peer's rx_packets
#      baseline: trafgen's own rate onto a veth pair (peer's rx_packets), as
#      ../shared/baselines/run_veth.sh dir 64 measures it.
#   3. guest to guest over VXLAN, 64 B: minios pktgen (host A) -> switch -> `vpio vxlan add`
#      -> UDP over a veth -> `vpio vxlan add` (host B) -> switch -> minios sink
#      baseline: trafgen -> veth -> Linux bridge + vxlan (ns A) -> UDP over a veth ->
#      vxlan + bridge (ns B) -> veth -> the receiving namespace's rx_packets.
#
# Every figure: median of ROUNDS windows of SECONDS s each, after WARMUP_S s.
# Cases 1 and 2 run once per uplink mode in UPLINK_MODES ("xdp packet": `vpio uplink add
# --mode xdp`, the AF_XDP wire, and `--mode packet`, the AF_PACKET one), each
# with its baselines again beside it.
# Knobs (environment): SECONDS_PER (4), ROUNDS (3), WARMUP_S (1), CASES ("rx tx vxlan"),
# UPLINK_MODES ("xdp packet").
# --json prints {case, value, unit, baseline, baseline_value, ratio} records.
#
# Trafgen frames come from ../shared/baselines/veth_mkcfg.sh (unmodified) and
# trafgen runs with run_veth.sh's command line; veth_setup.sh/run_veth.sh
# themselves use fixed namespace names and leave them behind, so this script
# makes its own (vpb-<pid>-*) and removes them on exit.
# Addresses: 198.18.0.0/15 (benchmarking) inside the namespaces only.
set -u
JSON=0
[ "${1:-}" = --json ] && JSON=1
SECS=${SECONDS_PER:-4} ROUNDS=${ROUNDS:-3} WARM=${WARMUP_S:-1} CASES=${CASES:-rx tx vxlan} MODES=${UPLINK_MODES:-xdp packet}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
VPIO_JS=$ROOT/packages/cli/dist/bin/vpio.js
BASEL=${VPIO_BASELINES:-$(cd "$ROOT/.." && pwd)/shared/baselines}
SINK='FromNetfront(0) -> rx :: Counter -> Sink;'
SINK_MAC=02:5c:0c:00:00:02 GEN_MAC=02:5c:0a:00:00:01
log() { [ $JSON = 1 ] || echo "$*" >&2; }
die() { echo "uplink-bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, vpiod's sandbox)"
missing=()
command -v trafgen >/dev/null || missing+=(netsniff-ng)
command -v iperf3 >/dev/null || missing+=(iperf3)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]} (Debian)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi
[ -f "$VPIO_JS" ] || die "no $VPIO_JS (npm run build)"
[ -x "$ROOT/packages/uplink/build/vpio-uplink" ] || die "no vpio-uplink (npm run build -w @vpio/uplink)"
[ -x "$BASEL/veth_mkcfg.sh" ] || [ -f "$BASEL/veth_mkcfg.sh" ] || die "no $BASEL/veth_mkcfg.sh (set VPIO_BASELINES)"

P=vpb-$$
WD=$(mktemp -d /tmp/vpio-uplink-bench.XXXXXX)
NSS=() DIRS=() PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -INT $(pgrep -P "$p") "$p" 2>/dev/null; done
	for d in "${DIRS[@]}"; do node "$VPIO_JS" down --dir "$d" >/dev/null 2>&1; done
	for n in "${NSS[@]}"; do ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$n" 2>/dev/null; done
	rm -rf "$WD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mkns VAR TAG: a namespace $P-TAG (removed on exit), its name in VAR
mkns() { ip netns add "$P-$2" && ip -n "$P-$2" link set lo up || die "netns $P-$2"; NSS+=("$P-$2"); printf -v "$1" %s "$P-$2"; }
rd() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }
now() { date +%s.%N; }
V() { node "$VPIO_JS" "$@"; }
# up VAR NS: vpio up inside NS (only the network namespace changes); its directory in VAR
up() {
	local d=$WD/run-$2
	mkdir -p "$d" && DIRS+=("$d") && nsenter --net="/run/netns/$2" node "$VPIO_JS" up --dir "$d" --cores=-1 >/dev/null ||
		{ cat "$d/platform.log" >&2; die "vpio up in $2 failed"; }
	printf -v "$1" %s "$d"
}
# the named port's out (or in) packets: port DIR NAME outPackets|inPackets|dropsTotal
port() {
	V stats --dir "$1" --json | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const r = JSON.parse(s); const p = r.ports.find((x) => x.name === process.argv[1]);
  if (p === undefined) process.exit(1);
  process.stdout.write(`${p[process.argv[2]]} ${r.atMs}`);
});' "$2" "$3"
}
# all drops of a platform's switch ports, summed, as JSON {port: {reason: n}}
drops() {
	V stats --dir "$1" --json | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const r = JSON.parse(s); const o = {};
  for (const p of r.ports) if (p.dropsTotal) o[p.name ?? p.port] = p.drops;
  process.stdout.write(JSON.stringify(o));
});'
}
# vpio-uplink's pid: a descendant of its domain's vpio-launch (pid in `add --json`)
uplpid() {
	local p c
	for p in $(pgrep -P "$1"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = vpio-uplink ] && { echo "$p"; return; }
		c=$(uplpid "$p") && [ -n "$c" ] && { echo "$c"; return; }
	done
	return 1
}
# a fresh stats line from vpio-uplink (SIGUSR1), read from its console: the nonzero wire and vif counters
# uplstats DIR PORTNAME ADD_JSON
uplstats() {
	local pid
	pid=$(uplpid "$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).pid))' "$3")") && kill -USR1 "$pid"
	sleep 0.5
	V console "$2" --dir "$1" --json | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const l = JSON.parse(s).text.split("\n").filter((x) => x.startsWith("{\"event\":\"stats\"")).at(-1);
  if (!l) { process.stdout.write("{}"); return; }
  const j = JSON.parse(l); const nz = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== "number" || v !== 0));
  process.stdout.write(JSON.stringify({ wire: nz(j.wire), vif: nz(j.vif) }));
});'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
mpps() { awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$4" 'BEGIN{printf "%.4f", (b-a)/(t1-t0)/1e6}'; }

# trafgen as run_veth.sh starts it: trafgen NS DEV CFG; pid in TG
trafgen_start() {
	ip netns exec "$1" taskset -c 0 trafgen -o "$2" -i "$3" -P 1 --no-sock-mem >"$WD/tg.log" 2>&1 &
	TG=$!
	PIDS+=("$TG")
}
trafgen_stop() { kill -INT $(pgrep -P "$TG") "$TG" 2>/dev/null; wait "$TG" 2>/dev/null; }
# a window over a /sys counter: win_sys NS DEV COUNTER -> Mpps
win_sys() {
	local a t0 b t1
	a=$(rd "$1" "$2" "$3") t0=$(now)
	sleep "$SECS"
	b=$(rd "$1" "$2" "$3") t1=$(now)
	mpps "$a" "$b" "$t0" "$t1"
}
# a window over a switch port's out counter: win_port DIR NAME -> Mpps
win_port() {
	local a b
	a=$(port "$1" "$2" outPackets) || die "no port $2"
	sleep "$SECS"
	b=$(port "$1" "$2" outPackets) || die "no port $2"
	awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); printf "%.4f", (y[1]-x[1])/((y[2]-x[2])/1000)/1e6}'
}
# a veth pair between two fresh namespaces: pair TAGA DEVA TAGB DEVB (addresses .1/.2 of NET)
pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

REC=()
# rec CASE VALUE UNIT BASELINE BASELINE_VALUE
rec() { REC+=("$1|$2|$3|${4:-}|${5:-}"); }

# minios pktgen: 60-byte UDP frames (64 with FCS) as fast as the TX ring takes them, to MAC; mkgen MAC FILE
mkgen() {
	printf '%s\n' "gen :: Pktgen(SRC_MAC auto, DST_MAC $1, SRC_IP 198.18.0.2, DST_IP 198.18.0.1, LEN 60, RATE 0, COUNT 0, BURST 256, DPORT 9);" \
		'gen -> ToNetfront(0);' 'FromNetfront(0) -> Sink;' >"$WD/$2"
}
printf '%s\n' "$SINK" >"$WD/sink.click"
mkgen 02:5c:0c:00:00:99 gen.click # a MAC nobody has: the switch floods it to the uplink, the only other port
mkgen "$SINK_MAC" gen3.click
LOAD0=$(cut -d' ' -f1 /proc/loadavg)

# ---------------------------------------------------------------- 1. uplink RX
case1() {
	local MODE=$1 G H D cfg ours=() upl=() base=() kern=() r m
	mkns G g; mkns H h
	pair "$G" vb "$H" va || die "veth"
	up D "$H"
	V run --dir "$D" --minios "$WD/sink.click" --name sink --vif "mac=$SINK_MAC" >/dev/null || die "run sink"
	UPL=$(V uplink add va --mode "$MODE" --dir "$D" --json) || die "uplink add va --mode $MODE"
	ip -n "$G" addr add 198.18.0.1/24 dev vb
	# the frame: vb's MAC -> the sink's MAC (the switch floods it until it learns; the sink is the only other port)
	cfg=$WD/rx.cfg
	bash "$BASEL/veth_mkcfg.sh" "$G" vb "$G" vb 198.18.0.1 198.18.0.2 60 | sed "s/da=[0-9a-f:]*/da=$SINK_MAC/" >"$cfg"
	sleep 1
	for r in $(seq "$ROUNDS"); do
		trafgen_start "$G" vb "$cfg"
		sleep "$WARM"
		local a0 a1 u0 u1
		a0=$(rd "$H" va rx_packets) u0=$(port "$D" uplink-va inPackets | cut -d' ' -f1)
		m=$(win_port "$D" sink)
		a1=$(rd "$H" va rx_packets) u1=$(port "$D" uplink-va inPackets | cut -d' ' -f1)
		trafgen_stop
		ours+=("$m")
		upl+=("$(awk -v a="$u0" -v b="$u1" -v s="$SECS" 'BEGIN{printf "%.4f", (b-a)/s/1e6}')")
		log "1. uplink RX ($MODE) round $r: sink got $m Mpps; uplink -> switch ${upl[-1]} Mpps; veth va rx $(awk -v a=$a0 -v b=$a1 -v s=$SECS 'BEGIN{printf "%.3f", (b-a)/s/1e6}') Mpps"
	done
	log "   switch drops: $(drops "$D")"
	log "   uplink stats: $(uplstats "$D" uplink-va "$UPL")"
	V uplink rm va --dir "$D" --json >/dev/null 2>&1
	V down --dir "$D" >/dev/null 2>&1

	# baselines: the same trafgen into a fresh veth pair
	local C R
	mkns C c; mkns R r
	pair "$C" vC "$R" vD || die "veth"
	# the frame ours got (to the sink's MAC, not vD's: nothing above the receiver; run_veth.sh's frame goes up vD's IP stack)
	bash "$BASEL/veth_mkcfg.sh" "$C" vC "$R" vD 198.18.1.1 198.18.1.2 60 | sed "s/da=[0-9a-f:]*/da=$SINK_MAC/" >"$WD/dir.cfg"
	for r in $(seq "$ROUNDS"); do
		ip netns exec "$R" taskset -c 1 netsniff-ng --in vD --out /dev/null --silent >"$WD/ns.log" 2>&1 &
		local NSN=$!
		PIDS+=("$NSN")
		sleep 0.5
		trafgen_start "$C" vC "$WD/dir.cfg"
		sleep "$WARM"
		m=$(win_sys "$R" vD rx_packets)
		trafgen_stop
		kill -INT "$NSN"; wait "$NSN" 2>/dev/null
		base+=("$m")
		log "   baseline round $r: veth + netsniff-ng rx $m Mpps; netsniff-ng: $(grep -i 'packets' "$WD/ns.log" | tr -s ' \n' ' ')"
		trafgen_start "$C" vC "$WD/dir.cfg"
		sleep "$WARM"
		m=$(win_sys "$R" vD rx_packets)
		trafgen_stop
		kern+=("$m")
		log "   baseline round $r: veth, nothing attached (kernel only) rx $m Mpps"
	done
	ip netns del "$G"; ip netns del "$H"; ip netns del "$C"; ip netns del "$R"
	rec "1. uplink RX 64 B ($MODE): trafgen -> veth -> uplink -> switch -> minios sink" "$(median "${ours[@]}")" Mpps \
		"trafgen -> veth -> netsniff-ng (AF_PACKET)" "$(median "${base[@]}")"
	rec "1. uplink RX 64 B ($MODE): trafgen -> veth -> uplink -> switch -> minios sink" "$(median "${ours[@]}")" Mpps \
		"trafgen -> veth, nothing attached (kernel only)" "$(median "${kern[@]}")"
	rec "1. uplink RX 64 B ($MODE): trafgen -> veth -> uplink -> switch (uplink port in, sink or not)" "$(median "${upl[@]}")" Mpps \
		"trafgen -> veth -> netsniff-ng (AF_PACKET)" "$(median "${base[@]}")"
}

# ---------------------------------------------------------------- 2. uplink TX
case2() {
	local MODE=$1 G H D ours=() base=() r m
	mkns G g2; mkns H h2
	pair "$G" vb "$H" va || die "veth"
	up D "$H"
	UPL=$(V uplink add va --mode "$MODE" --dir "$D" --json) || die "uplink add va --mode $MODE"
	for r in $(seq "$ROUNDS"); do
		V run --dir "$D" --minios "$WD/gen.click" --name "gen$r" --vif "mac=$GEN_MAC" >/dev/null || die "run pktgen"
		sleep "$WARM"
		local g0 g1
		g0=$(port "$D" "gen$r" inPackets | cut -d' ' -f1)
		m=$(win_sys "$G" vb rx_packets)
		g1=$(port "$D" "gen$r" inPackets | cut -d' ' -f1)
		ours+=("$m")
		log "2. uplink TX ($MODE) round $r: veth peer rx $m Mpps (pktgen offered $(awk -v a=$g0 -v b=$g1 -v s=$SECS 'BEGIN{printf "%.3f", (b-a)/s/1e6}') Mpps into the switch)"
		V destroy "gen$r" --dir "$D" >/dev/null 2>&1
	done
	log "   switch drops: $(drops "$D")"
	log "   uplink stats: $(uplstats "$D" uplink-va "$UPL")"
	log "   veth va: tx $(rd "$H" va tx_packets) tx_dropped $(rd "$H" va tx_dropped); vb rx $(rd "$G" vb rx_packets) rx_dropped $(rd "$G" vb rx_dropped)"
	V down --dir "$D" >/dev/null 2>&1
	local C R
	mkns C c2; mkns R r2
	pair "$C" vC "$R" vD || die "veth"
	# the frame ours sends (to a MAC nobody has, vD without an address: dropped on arrival, as at vb above)
	bash "$BASEL/veth_mkcfg.sh" "$C" vC "$R" vD 198.18.1.1 198.18.1.2 60 | sed "s/da=[0-9a-f:]*/da=02:5c:0c:00:00:99/" >"$WD/dir.cfg"
	for r in $(seq "$ROUNDS"); do
		trafgen_start "$C" vC "$WD/dir.cfg"
		sleep "$WARM"
		m=$(win_sys "$R" vD rx_packets)
		trafgen_stop
		base+=("$m")
		log "   baseline round $r: trafgen -> veth pair, peer rx $m Mpps"
	done
	ip netns del "$G"; ip netns del "$H"; ip netns del "$C"; ip netns del "$R"
	rec "2. uplink TX 64 B ($MODE): minios pktgen -> switch -> uplink -> veth (peer rx)" "$(median "${ours[@]}")" Mpps \
		"trafgen -> veth pair (peer rx), as run_veth.sh dir" "$(median "${base[@]}")"
}

# ---------------------------------------------------------------- 3. VXLAN guest to guest
case3() {
	local A B DA DB ours=() base=() r m
	mkns A xa; mkns B xb
	pair "$A" ua "$B" ub || die "veth"
	ip -n "$A" addr add 198.18.9.1/24 dev ua; ip -n "$B" addr add 198.18.9.2/24 dev ub
	up DA "$A"; up DB "$B"
	UPLA=$(V vxlan add t1 --local 198.18.9.1 --vni 10:1000 --remote 198.18.9.2 --dir "$DA" --json) || die "vxlan add (A)"
	UPLB=$(V vxlan add t1 --local 198.18.9.2 --vni 10:1000 --remote 198.18.9.1 --dir "$DB" --json) || die "vxlan add (B)"
	V run --dir "$DB" --minios "$WD/sink.click" --name sink --vif "mac=$SINK_MAC,vlan=10" >/dev/null || die "run sink"
	for r in $(seq "$ROUNDS"); do
		V run --dir "$DA" --minios "$WD/gen3.click" --name "gen$r" --vif "mac=$GEN_MAC,vlan=10" >/dev/null || die "run pktgen"
		sleep "$WARM"
		m=$(win_port "$DB" sink)
		ours+=("$m")
		log "3. vxlan round $r: sink on host B got $m Mpps (underlay ub rx $(rd "$B" ub rx_packets) total)"
		V destroy "gen$r" --dir "$DA" >/dev/null 2>&1
	done
	log "   switch drops A: $(drops "$DA")  B: $(drops "$DB")"
	log "   vxlan A: $(uplstats "$DA" vxlan-t1 "$UPLA")"
	log "   vxlan B: $(uplstats "$DB" vxlan-t1 "$UPLB")"
	log "   host B's UDP (/proc/net/snmp): $(ip netns exec "$B" awk '/^Udp:/{if(h){for(i=2;i<=NF;i++)printf "%s=%s ", k[i], $i}else{h=1;for(i=2;i<=NF;i++)k[i]=$i}}' /proc/net/snmp)"
	V down --dir "$DA" >/dev/null 2>&1; V down --dir "$DB" >/dev/null 2>&1
	ip netns del "$A"; ip netns del "$B"

	# Linux: ns S: vs -> veth -> [ns LA: br0 + vx0] -> underlay veth -> [ns LB: vx0 + br0] -> veth -> ns T: vt
	local S LA LB T
	mkns S ls; mkns LA la; mkns LB lb; mkns T lt
	pair "$S" vs "$LA" vsb && pair "$T" vt "$LB" vtb && pair "$LA" ua "$LB" ub || die "veth"
	ip -n "$LA" addr add 198.18.9.1/24 dev ua; ip -n "$LB" addr add 198.18.9.2/24 dev ub
	for x in "$LA:198.18.9.1:198.18.9.2:vsb" "$LB:198.18.9.2:198.18.9.1:vtb"; do
		IFS=: read -r n l rm dv <<<"$x"
		ip -n "$n" link add vx0 type vxlan id 1000 dstport 4789 local "$l" nolearning
		ip netns exec "$n" bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$rm"
		ip -n "$n" link add br0 type bridge
		ip -n "$n" link set vx0 master br0; ip -n "$n" link set "$dv" master br0
		ip -n "$n" link set vx0 up; ip -n "$n" link set br0 up
	done
	ip -n "$S" addr add 198.18.0.1/24 dev vs; ip -n "$T" addr add 198.18.0.2/24 dev vt
	bash "$BASEL/veth_mkcfg.sh" "$S" vs "$T" vt 198.18.0.1 198.18.0.2 60 >"$WD/vx.cfg"
	for r in $(seq "$ROUNDS"); do
		trafgen_start "$S" vs "$WD/vx.cfg"
		sleep "$WARM"
		m=$(win_sys "$T" vt rx_packets)
		trafgen_stop
		base+=("$m")
		log "   baseline round $r: trafgen -> veth -> bridge+vxlan -> UDP -> vxlan+bridge -> veth rx $m Mpps"
	done
	for n in "$S" "$LA" "$LB" "$T"; do ip netns del "$n"; done
	rec "3. guest to guest over VXLAN 64 B: minios pktgen -> switch -> vxlan ~ UDP ~ vxlan -> switch -> minios sink" "$(median "${ours[@]}")" Mpps \
		"trafgen -> veth -> Linux bridge+vxlan ~ UDP ~ vxlan+bridge -> veth" "$(median "${base[@]}")"
}

for c in $CASES; do
	case $c in
	rx) for m in $MODES; do case1 "$m"; done ;;
	tx) for m in $MODES; do case2 "$m"; done ;;
	vxlan) case3 ;;
	*) die "unknown case $c (rx, tx, vxlan)" ;;
	esac
done

if [ $JSON = 1 ]; then
	for x in "${REC[@]}"; do
		IFS='|' read -r c v u b bv <<<"$x"
		node -e 'const [c,v,u,b,bv]=process.argv.slice(1); const r={case:c,value:+v,unit:u}; if(b){r.baseline=b;r.baseline_value=+bv;r.ratio=+v/+bv;} console.log(JSON.stringify(r));' "$c" "$v" "$u" "$b" "$bv"
	done
else
	echo "@vpio/uplink bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; ${SECS} s windows after ${WARM} s warm-up, median of ${ROUNDS}"
	echo "1-minute load average before $LOAD0, after $(cut -d' ' -f1 /proc/loadavg) (other work on these cores lowers every figure)"
	for x in "${REC[@]}"; do
		IFS='|' read -r c v u b bv <<<"$x"
		awk -v c="$c" -v v="$v" -v u="$u" -v b="$b" -v bv="$bv" 'BEGIN{printf "%s: %.3f %s | baseline %s: %.3f %s | ratio %.2fx\n", c, v, u, b, bv, u, (bv>0)?v/bv:0}'
	done
	echo "goal (issue 12): >= 1.0x for 1 and 2"
fi
