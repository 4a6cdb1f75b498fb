#!/bin/bash
# dom0 script: bring your own xenstored (what vpio's xen mode will do).
#   bash xen/lab/lab.sh run xen/lab/examples/byo-xenstored.sh
# Until a daemon answers on /run/xenstored/socket, every xenstore client in
# dom0 (xl, xenconsoled, even `xenstore-read -s`) falls back to
# /dev/xen/xenbus and blocks forever: start yours first, then finish.
. /lab/lib/dom0.sh
lab_toolstack_up --no-xenstored
if [ -S /run/xenstored/socket ]; then lab_fail byo-no-daemon "a xenstored socket already exists"; else lab_pass byo-no-daemon; fi
# your daemon here; Xen's C xenstored stands in for it
XENSTORED_ROOTDIR=/run/xenstored xenstored --pid-file /run/xenstored.pid
if lab_toolstack_finish; then lab_pass byo-toolstack-finish; else lab_fail byo-toolstack-finish "see above"; fi
lab_check byo-dom0-name sh -c '[ "$(xenstore-read /local/domain/0/name)" = Domain-0 ]'
lab_domu_create byo-u1 >/dev/null && lab_domu_wait byo-u1 booted 300 && lab_pass byo-domu-booted ||
  lab_fail byo-domu-booted "$(lab_domu_read byo-u1 data/status)"
lab_summary
