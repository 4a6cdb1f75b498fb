#!/bin/bash
# dom0 script: the kernel's netback for comparison: a dom0 bridge, two domUs
# with one vif each (xen-netfront loaded in them), ping across the bridge.
#   bash xen/lab/lab.sh run xen/lab/examples/bridge-vif.sh
# All inside the emulated machine (QEMU has no NIC; 169.254.100.0/24 is link-local).
. /lab/lib/dom0.sh
lab_toolstack_up || exit 1
lab_check bridge-up lab_bridge_up xenbr0 169.254.100.1/24
for i in 2 3; do
  lab_domu_create "br-u$i" --vif xenbr0 --addr "169.254.100.$i/24" \
    --job-cmd "ping -c 3 -W 5 169.254.100.1 && xenstore-write data/ping ok" >/dev/null ||
    lab_fail "br-u$i-create" "$(tail -n 2 "$LAB_TMP/br-u$i.create.log")"
done
for i in 2 3; do
  lab_domu_wait "br-u$i" 'done' 300 >/dev/null
  [ "$(lab_domu_read "br-u$i" data/ping)" = ok ] && lab_pass "br-u$i-pings-dom0" ||
    { lab_fail "br-u$i-pings-dom0" "job-rc $(lab_domu_read "br-u$i" data/job-rc)"; lab_guest_log "br-u$i" 15; }
done
lab_check dom0-pings-u2 ping -c 2 -W 5 169.254.100.2
xenstore-ls -f /local/domain/0/backend/vif | grep -E '/(state|hotplug-status)' | head
lab_summary
