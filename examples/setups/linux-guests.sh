#!/usr/bin/env bash
# Two Linux guests, each with a TAP device (eth0) in its own network
# namespace behind linux-netfront: ping from b to a, then iperf3 (TCP, one
# stream) from b to a server in a. Needs iperf3 and ping (npm test / the
# bootstrap install them as root).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

vpio up
vpio run --name a --linux --ip 10.1.0.1/24 --vif mac=02:00:00:00:01:01,lossless=1 -- iperf3 -s -1
vpio run --name b --linux --ip 10.1.0.2/24 --vif mac=02:00:00:00:01:02,lossless=1 -- \
	sh -c "ping -c 3 10.1.0.1 && sleep 0.5 && iperf3 -c 10.1.0.1 -t $SECONDS_TO_RUN"
wait_for b 'receiver' $((SECONDS_TO_RUN + 30))
vpio console b
