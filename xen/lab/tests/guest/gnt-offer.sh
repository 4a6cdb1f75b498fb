#!/bin/sh
# Guest job (smoke.sh, smoke-u1): the frontend half of the grant/evtchn check.
# Offers dom0 a page and an event channel (labgnt offer), publishes "REF PORT"
# in data/gnt/offer, and reports data/gnt/result = ok|fail: <labgnt's word>.
# Waits up to lab_gnt_timeout_ms (kernel command line; 300 s) for dom0.
labgnt offer 0 "${lab_gnt_timeout_ms:-300000}" >/tmp/offer 2>/tmp/offer.err &
pid=$!
i=0
while [ ! -s /tmp/offer ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
xenstore-write data/gnt/offer "$(cat /tmp/offer)"
if wait $pid; then r=ok; else r=fail; fi
cat /tmp/offer.err
xenstore-write data/gnt/result "$r: $(tail -n 1 /tmp/offer.err)"
[ $r = ok ]
