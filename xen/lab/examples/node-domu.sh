#!/bin/bash
# dom0 script: Node.js in a domU, copied in through the per-guest initramfs
# (dom0's /usr/bin/node and its libraries; 512 MiB for the guest).
#   bash xen/lab/lab.sh run xen/lab/examples/node-domu.sh
. /lab/lib/dom0.sh
lab_toolstack_up || exit 1
lab_domu_create node-u1 --mem 512 --file /usr/bin/node \
  --job-cmd 'xenstore-write data/node "$(node -e "console.log(process.version)")"' >/dev/null ||
  lab_fail node-u1-create "$(tail -n 2 "$LAB_TMP/node-u1.create.log")"
lab_domu_wait node-u1 'done' 300 >/dev/null
v=$(lab_domu_read node-u1 data/node)
[ "$v" = "$(node --version)" ] && lab_pass node-in-domu "$v" || { lab_fail node-in-domu "got '$v'"; lab_guest_log node-u1 15; }
lab_summary
