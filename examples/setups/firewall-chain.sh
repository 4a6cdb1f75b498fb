#!/usr/bin/env bash
# pktgen → firewall → sink: a generator guest sends UDP to the firewall
# guest (configs/firewall.click: allows UDP to ports 9000-9099 and ICMP,
# denies UDP from 10.9.0.0/16 and everything else, rewrites allowed frames
# to the sink's MAC and sends them back out of its one vif by buffer swap);
# the sink (configs/sink.click) counts. Live rates with `vpio stats`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

GEN='out :: ToNetfront(0);
ok :: Pktgen(SRC_MAC auto, DST_MAC 02:00:00:00:00:01, SRC_IP 10.0.0.5, DST_IP 10.0.0.2, LEN 60, RATE 0, COUNT 0, BURST 256, DPORT 9001);
bad :: Pktgen(SRC_MAC auto, DST_MAC 02:00:00:00:00:01, SRC_IP 10.0.0.5, DST_IP 10.0.0.2, LEN 60, RATE 50000, COUNT 0, BURST 64, DPORT 23);
ok -> out; bad -> out;
FromNetfront(0) -> Sink;'

vpio up
vpio run --name sink --vif mac=02:00:00:00:00:02 "$MINIOS" "$CONFIGS/sink.click" --stats-interval 1000
vpio run --name fw --vif mac=02:00:00:00:00:01 "$MINIOS" "$CONFIGS/firewall.click" --stats-interval 1000
vpio run --name gen --vif mac=02:00:00:00:00:03 "$MINIOS" -e "$GEN"
for g in sink fw gen; do wait_for "$g" '"event":"ready"'; done
for _ in $(seq "$SECONDS_TO_RUN"); do sleep 1; vpio stats; echo; done
sleep 1.2  # the firewall prints its counters every second
echo "--- the firewall's rule hits [deny 10.9/16, allow 9000-9099, allow icmp, deny all]:"
vpio console fw | grep '"event":"stats"' | tail -1 | grep -o '"fw":{[^}]*}'
