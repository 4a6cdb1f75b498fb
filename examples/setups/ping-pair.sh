#!/usr/bin/env bash
# Two minios guests on one switch: "ping" (configs/pinger.click, 10.0.0.1 /
# fd00::1) pings "resp" (configs/ping-responder.click, 10.0.0.2 / fd00::2)
# over IPv4 and IPv6, resolving with ARP and neighbour discovery first.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

vpio up --cores=-1
vpio run --name resp --vif mac=02:00:00:00:00:02 "$MINIOS" "$CONFIGS/ping-responder.click"
vpio run --name ping --vif mac=02:00:00:00:00:01 "$MINIOS" "$CONFIGS/pinger.click"
vpio ls
wait_for ping '"family":6' 30
echo "--- the pinger's results (RTT in microseconds):"
vpio console ping | grep '"event":"ping"'
