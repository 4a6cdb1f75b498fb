#!/bin/sh
# linux-guest-job.sh - the job of a Linux PV guest in xen/tests/test-xen.sh:
# vpio-linux-netfront in xen mode (xenstore over /dev/xen/xenbus, gntdev,
# evtchn, its own TAP eth0; no kernel netfront), then a role. Parameters are
# kernel command-line words (key=value, the lab's domU /init exports them):
#   lnf_ip=A/P         eth0's IPv4 address (required)
#   lnf_role=server|client
#   lnf_peer=ADDR      the other guest's address (both roles ping it)
#   lnf_pings=N        pings each way (5)
#   lnf_xfer_mb=N      the random file the server sends to the client (4 MB)
#   lnf_iperf_s=S      client: iperf3 -t S (3; 0: none); informational (TCG)
#   lnf_queues=N       netfront --queues (1)    lnf_devid=N   --devid (0)
#   lnf_wait_s=S       how long to wait for the peer to answer (240)
#   lnf_wait_ms=MS     netfront --wait-ms: how long the vif may take to appear (120000)
#   lnf_probe=1        first run the netfront for a vif that does not exist
#                      (--devid 9 --wait-ms 3000): data/lnf/probe = "<exit> <last line>"
# Results go to this domain's xenstore data/ (dom0 reads and judges them) and
# to the console, as "linux-guest: KEY VALUE" lines:
#   data/lnf/state     up | failed: <the netfront's last words>
#   data/lnf/log       the netfront's stderr (last lines) once up or failed
#   data/ping          ok|fail <received>/<sent> [rtt min/avg/max]
#   data/xfer/sha256   server: of the file sent; client: of the file received
#   data/xfer/bytes    its size
#   data/xfer/state    server: serving | client: ok | fail <why>
#   data/iperf3        client: "<Mbit/s> Mbits/sec" | fail
#   data/lnf/counters  the netfront's counters (its JSON line, SIGUSR1) at the end of the role
#   data/role          done
# The netfront keeps running afterwards (dom0 destroys the guest, or
# data/stop=1 asks for a clean stop: SIGTERM, then data/lnf/exit).
set -u
ROLE=${lnf_role:-client}
IP=${lnf_ip:-}
PEER=${lnf_peer:-}
PINGS=${lnf_pings:-5}
XFER_MB=${lnf_xfer_mb:-4}
IPERF_S=${lnf_iperf_s:-3}
QUEUES=${lnf_queues:-1}
DEVID=${lnf_devid:-0}
WAIT_S=${lnf_wait_s:-240}
WAIT_MS=${lnf_wait_ms:-120000}
LOG=/tmp/lnf.err
OUT=/tmp/lnf.out
PORT=5001

say() { echo "linux-guest: $*"; }
put() { xenstore-write "data/$1" "$2" || say "xenstore-write data/$1 failed"; say "$1 $2"; }
up_s() { read -r u _ </proc/uptime; echo "${u%.*}"; }

say "role=$ROLE ip=$IP peer=$PEER queues=$QUEUES uptime=$(up_s)"
for m in tun xen_gntdev xen_evtchn; do
  grep -q "^$m " /proc/modules || say "module $m is not loaded"
done

# 0. the clear error for a vif that never appears
if [ "${lnf_probe:-0}" = 1 ]; then
  vpio-linux-netfront --xen --devid 9 --wait-ms 3000 --ifname probe0 >/tmp/probe.out 2>/tmp/probe.err
  put lnf/probe "$? $(tail -n 1 /tmp/probe.err)"
fi

# 1. the netfront, in the background (no COMMAND: it bridges until SIGTERM)
vpio-linux-netfront --xen --devid "$DEVID" --queues "$QUEUES" --ip "$IP" --wait-ms "$WAIT_MS" >$OUT 2>$LOG &
NF=$!
t0=$(up_s)
state=
while [ -z "$state" ]; do
  if grep -q 'xen mode: eth0 up' $LOG; then state=up
  elif ! kill -0 $NF 2>/dev/null; then wait $NF; state="failed: exit $? $(tail -n 1 $LOG)"
  elif [ $(( $(up_s) - t0 )) -gt 300 ]; then state="failed: not up after 300 s: $(tail -n 1 $LOG)"
  else sleep 0.5
  fi
done
put lnf/log "$(tail -n 4 $LOG | tr '\n' '|')"
put lnf/state "$state"
cat $LOG
[ "$state" = up ] || exit 1
ip -d link show eth0 | head -n 3

# 2. wait for the peer to answer (it may boot later), then ping it
waited=0
until ping -c 1 -W 1 "$PEER" >/dev/null 2>&1; do
  waited=$((waited + 2))
  [ $waited -ge "$WAIT_S" ] && break
  sleep 1
done
out=$(ping -c "$PINGS" -i 0.5 -W 3 "$PEER" 2>&1)
sent=$(echo "$out" | awk '/packets transmitted/ { print $1 }')
# busybox: "5 packets transmitted, 5 packets received, ..."; iputils: "5 packets transmitted, 5 received, ..."
recv=$(echo "$out" | sed -n 's/.*[, ]\([0-9][0-9]*\) \(packets \)\{0,1\}received.*/\1/p')
rtt=$(echo "$out" | awk -F' = ' '/min\/avg\/max/ { print $2 }')
if [ -n "$sent" ] && [ "$sent" = "$recv" ] && [ "$sent" -gt 0 ]; then
  put ping "ok $recv/$sent rtt $rtt"
else
  put ping "fail ${recv:-0}/${sent:-0} $(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi

# 3. the role
if [ "$ROLE" = server ]; then
  head -c $((XFER_MB * 1048576)) /dev/urandom >/tmp/xfer.bin
  put xfer/sha256 "$(sha256sum /tmp/xfer.bin | cut -d' ' -f1)"
  put xfer/bytes "$(wc -c </tmp/xfer.bin | tr -d ' ')"
  iperf3 -s -D -p 5201 >/dev/null 2>&1 || say "iperf3 -s failed"
  lnf-xfer serve $PORT /tmp/xfer.bin >/tmp/xfer.log 2>&1 &
  put xfer/state serving
else
  start=$(up_s)
  if lnf-xfer get "$PEER" $PORT /tmp/got.bin >/tmp/xfer.log 2>&1; then
    put xfer/sha256 "$(sha256sum /tmp/got.bin | cut -d' ' -f1)"
    put xfer/bytes "$(wc -c </tmp/got.bin | tr -d ' ')"
    put xfer/state "ok in $(( $(up_s) - start )) s"
  else
    put xfer/state "fail $(tail -n 1 /tmp/xfer.log)"
  fi
  if [ "$IPERF_S" -gt 0 ]; then
    r=$(iperf3 -c "$PEER" -p 5201 -t "$IPERF_S" -f m 2>&1)
    rate=$(echo "$r" | awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i-1) }')
    [ -n "$rate" ] && put iperf3 "$rate Mbits/sec" || put iperf3 "fail $(echo "$r" | tail -n 1)"
  fi
fi

# 4. the netfront's counters now (SIGUSR1 prints its JSON line)
kill -USR1 $NF
sleep 1
c=$(grep '^{"event":"linux-netfront"' $OUT | tail -n 1)
put lnf/counters "${c:-none}"
put role 'done'

# 5. keep bridging; stop cleanly when dom0 asks (data/stop=1)
while kill -0 $NF 2>/dev/null; do
  [ "$(xenstore-read data/stop 2>/dev/null)" = 1 ] && { kill -TERM $NF; wait $NF; put lnf/exit "$?"; break; }
  sleep 1
done
tail -n 3 $LOG
exit 0
