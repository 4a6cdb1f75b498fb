#!/bin/bash
# uplink-e2e.sh packet|vxlan VPIO_JS DIR - one end-to-end scenario through `vpio up` (root).
# Run it inside a network namespace of its own (`unshare -n`): everything it
# makes lives there and goes with it; the VTEP peer of the vxlan scenario sits
# in a second namespace (vpio-upl-test-PID, deleted on exit: Linux's vxlan
# bypasses encapsulation towards a local address, so the two VTEPs cannot
# share one). Addresses: 10.x only.
#
#   packet: host stack (vb 10.0.0.1) -> veth -> va -> `vpio uplink add va`
#           -> switch -> minios ping responder (10.0.0.2) and back
#   vxlan:  Linux vxlan vx0 (VNI 1000, 10.0.0.1, peer namespace) -> UDP
#           10.9.0.2 -> 10.9.0.1:4789 -> `vpio vxlan add` (VID 10 <-> VNI 1000)
#           -> switch (VLAN 10) -> minios ping responder (10.0.0.2) and back
# Prints "E2E ping ok" / "E2E ping FAILED", the stats line vpio-uplink printed
# on SIGUSR1 ("E2E stats {...}") and what removing the port said ("E2E rm
# {...}"); exits non-zero when something failed.
set -u
MODE=$1 VPIO_JS=$2 D=$3
V() { node "$VPIO_JS" "$@"; }
NS=vpio-upl-test-$$
CONFIG=$(cd "$(dirname "$0")/../../../../minios/configs" && pwd)/ping-responder.click
cleanup() {
	V down --dir "$D" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
ip link set lo up || exit 1
rm -rf "$D" && mkdir -p "$D" || exit 1
if [ "$MODE" = packet ]; then
	ip link add va type veth peer name vb && ip link set va up && ip link set vb up &&
		ip addr add 10.0.0.1/24 dev vb || exit 1
	PING=(ping -c 5 -i 0.2 -W 3 10.0.0.2)
	VIF=mac=02:00:00:00:00:02
	PORT=uplink-va
else
	ip netns add "$NS" && ip link add ua type veth peer name ub && ip link set ub netns "$NS" &&
		ip addr add 10.9.0.1/24 dev ua && ip link set ua up || exit 1
	ip netns exec "$NS" sh -ec "ip link set lo up; ip addr add 10.9.0.2/24 dev ub; ip link set ub up
		ip link add vx0 type vxlan id 1000 dstport 4789 local 10.9.0.2
		bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.9.0.1
		ip addr add 10.0.0.1/24 dev vx0; ip link set vx0 mtu 1450 up" || exit 1
	PING=(ip netns exec "$NS" ping -c 5 -i 0.2 -s 1400 -W 3 10.0.0.2)
	VIF=mac=02:00:00:00:00:02,vlan=10
	PORT=vxlan-t1
fi
V up --dir "$D" >/dev/null || { cat "$D/platform.log"; exit 1; }
V run --dir "$D" --minios "$CONFIG" --name pr --vif "$VIF" >/dev/null || exit 1
if [ "$MODE" = packet ]; then
	ADD=$(V uplink add va --mode packet --dir "$D" --json) || exit 1
else
	ADD=$(V vxlan add t1 --local 10.9.0.1 --vni 10:1000 --remote 10.9.0.2 --dir "$D" --json) || exit 1
fi
# the domain's pid is vpio-launch's; vpio-uplink is a descendant of it
LAUNCH=$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).pid))' "$ADD")
uplink_pid() {
	local p c
	for p in $(pgrep -P "$1"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = vpio-uplink ] && { echo "$p"; return; }
		c=$(uplink_pid "$p") && [ -n "$c" ] && { echo "$c"; return; }
	done
	return 1
}
PID=$(uplink_pid "$LAUNCH")
rc=0
if "${PING[@]}" >/dev/null; then echo "E2E ping ok"; else echo "E2E ping FAILED"; rc=1; fi
[ -n "$PID" ] && kill -USR1 "$PID" # a stats line now ("why":"sigusr1")
sleep 0.5
echo "E2E stats $(V console --dir "$D" "$PORT" --json | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const lines = JSON.parse(s).text.split("\n").filter((l) => l.startsWith("{\"event\":\"stats\""));
  process.stdout.write(lines.filter((l) => l.includes("\"why\":\"sigusr1\"")).at(-1) ?? "{}");
});')"
# removing the port stops vpio-uplink with SIGTERM: it prints its exit line, disconnects, exits 0
if [ "$MODE" = packet ]; then
	echo "E2E rm $(V uplink rm va --dir "$D" --json)"
else
	echo "E2E rm $(V vxlan rm t1 --dir "$D" --json)"
fi
exit $rc
