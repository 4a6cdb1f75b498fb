#!/bin/sh
# linux-guest-job.sh - the job of a Linux PV guest in xen/tests/test-xen.sh:
# vpio-linux-netfront in xen mode (xenstore over /dev/xen/xenbus, gntdev,
# evtchn, its own TAP eth0; no kernel netfront), then a role. Parameters are
# kernel command-line words (key=value, the lab's domU /init exports them):
#   lnf_ip=A/P         eth0's IPv4 address (required)
#   lnf_ip6=A/P        eth0's IPv6 address (netfront --ip6; none without it)
#   lnf_peer6=ADDR     the other guest's IPv6 address (pinged with ping -6 when set)
#   lnf_role=server|client
#   lnf_peer=ADDR      the other guest's address (both roles ping it)
#   lnf_pings=N        pings each way (5)
#   lnf_xfer_mb=N      the random file the server sends to the client (4 MB)
#   lnf_iperf_s=S      client: iperf3 -t S (3; 0: none); informational (TCG)
#   lnf_queues=N       netfront --queues (1)    lnf_devid=N   --devid (0)
#   lnf_wait_s=S       how long to wait for the peer to answer (240)
#   lnf_wait_ms=MS     netfront --wait-ms: how long the vif may take to appear (120000)
#   lnf_command=1      run the netfront with a COMMAND (-- sleep ...) as host mode
#                      does, rather than alone: it then stops COMMAND when it stops
#   lnf_probe=1        first run the netfront for a vif that does not exist
#                      (--devid 9 --wait-ms 3000): data/lnf/probe = "<exit> <last line>"
# Results go to this domain's xenstore data/ (dom0 reads and judges them) and
# to the console, as "linux-guest: KEY VALUE" lines:
#   data/lnf/state     up | failed: <the netfront's last words>
#   data/lnf/log       the netfront's stderr (last lines) once up or failed
#   data/lnf/queues    eth0's queues as the guest sees them: "<numqueues from ip -d link> | <ls /sys/class/net/eth0/queues>"
#   data/ping          ok|fail <answered>/<sent> [rtt min/avg/max]: lnf_pings requests, one
#                      `ping -c 1 -W 5` each (every one answered within 5 s: see ping_peer)
#   data/ping6         the same over IPv6 (lnf_peer6 set)
#   data/xfer/sha256   server: of the file sent; client: of the file received
#   data/xfer/bytes    its size
#   data/xfer/state    server: serving | client: ok | fail <why>
#   data/iperf3        client: "<Mbit/s> Mbits/sec" | fail
#   data/lnf/counters  the netfront's counters (its JSON line, SIGUSR1) at the end of the role
#   data/role          done
#   data/lnf/exit      once the netfront has exited (by itself, e.g. its backend went
#                      away, or after data/stop): "<exit status> | <its last stderr lines>"
#   data/lnf/exit-counters  the counters it printed on exiting ({"event":"linux-netfront","why":"exit",...})
# The netfront keeps running afterwards (dom0 destroys the guest, or
# data/stop=1 asks for a clean stop: SIGTERM).
set -u
ROLE=${lnf_role:-client}
IP=${lnf_ip:-}
IP6=${lnf_ip6:-}
PEER=${lnf_peer:-}
PEER6=${lnf_peer6:-}
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

say "role=$ROLE ip=$IP ip6=$IP6 peer=$PEER peer6=$PEER6 queues=$QUEUES command=${lnf_command:-0} uptime=$(up_s)"
for m in tun xen_gntdev xen_evtchn; do
  grep -q "^$m " /proc/modules || say "module $m is not loaded"
done

# 0. the clear error for a vif that never appears
if [ "${lnf_probe:-0}" = 1 ]; then
  vpio-linux-netfront --xen --devid 9 --wait-ms 3000 --ifname probe0 >/tmp/probe.out 2>/tmp/probe.err
  put lnf/probe "$? $(tail -n 1 /tmp/probe.err)"
fi

# 1. the netfront, in the background (no COMMAND: it bridges until SIGTERM; with
# lnf_command=1 a sleep as its COMMAND, ended by it or with it)
set --
[ "${lnf_command:-0}" = 1 ] && set -- -- sleep 1000000000
vpio-linux-netfront --xen --devid "$DEVID" --queues "$QUEUES" --ip "$IP" ${IP6:+--ip6 "$IP6"} --wait-ms "$WAIT_MS" "$@" >$OUT 2>$LOG &
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
ip addr show eth0 | grep inet
put lnf/queues "$(ip -d link show eth0 | grep -o 'numqueues [0-9]*' | head -n 1) | $(ls /sys/class/net/eth0/queues | tr '\n' ' ')"

# 2. wait for the peer to answer (it may boot later), then ping it (KEY FAMILY PEER)
waited=0
until ping -c 1 -W 1 "$PEER" >/dev/null 2>&1; do
  waited=$((waited + 2))
  [ $waited -ge "$WAIT_S" ] && break
  sleep 1
done
# ping_peer KEY FAMILY PEER: PINGS echo requests, one `ping -c 1 -W 5` each,
# 0.5 s apart: every request must be answered, each within 5 s. Not one
# `ping -c N`: after its last request busybox ping waits only about twice the
# largest round trip seen so far (1 s at least), so under TCG on a busy host
# (round trips from 15 ms to 3 s in one run) a late last reply or two counted
# as lost although every request was answered.
ping_peer() {
  n=0 ok=0 rtts= last=
  while [ $n -lt "$PINGS" ]; do
    n=$((n + 1))
    out=$(ping "$2" -c 1 -W 5 "$3" 2>&1)
    t=$(echo "$out" | sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | head -n 1)
    if [ -n "$t" ]; then ok=$((ok + 1)); rtts="$rtts $t"; else last=$(echo "$out" | tail -n 1); fi
    [ $n -lt "$PINGS" ] && sleep 0.5
  done
  rtt=$(echo "$rtts" | awk '{ if (NF) { mn = mx = $1; for (i = 1; i <= NF; i++) { s += $i; if ($i < mn) mn = $i; if ($i > mx) mx = $i }
                                       printf "%.3f/%.3f/%.3f ms", mn, s / NF, mx } }')
  if [ "$ok" -eq "$PINGS" ] && [ "$ok" -gt 0 ]; then
    put "$1" "ok $ok/$PINGS rtt $rtt"
  else
    put "$1" "fail $ok/$PINGS answered within 5 s each${rtt:+ (rtt $rtt)}: $last"
  fi
}
ping_peer ping -4 "$PEER"
if [ -n "$PEER6" ]; then
  # IPv6 neighbour discovery goes through the switch too: give the first one a few tries
  waited=0
  until ping -6 -c 1 -W 1 "$PEER6" >/dev/null 2>&1; do
    waited=$((waited + 2))
    [ $waited -ge 20 ] && break
    sleep 1
  done
  ping_peer ping6 -6 "$PEER6"
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

# 5. keep bridging until the netfront exits (its backend went away) or dom0
# asks for a clean stop (data/stop=1: SIGTERM); then how it ended
while kill -0 $NF 2>/dev/null; do
  [ "$(xenstore-read data/stop 2>/dev/null)" = 1 ] && { kill -TERM $NF; break; }
  sleep 0.5
done
wait $NF
rc=$?
put lnf/exit-counters "$(grep '^{"event":"linux-netfront","why":"exit"' $OUT | tail -n 1)"
put lnf/exit "$rc | $(tail -n 3 $LOG | tr '\n' '|')"
tail -n 3 $LOG
exit 0
