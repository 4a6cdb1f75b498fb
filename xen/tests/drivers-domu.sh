#!/bin/sh
# drivers-domu.sh - the domU half of xen/tests/drivers.sh (XENLAB_DOMU_SCRIPT):
# the kernel's gntdev limit, then xen-peer (packages/netfront/test/c/xen-peer.c).
echo "domU: gntdev limit $(cat /sys/module/xen_gntdev/parameters/limit 2>/dev/null || echo none)," \
  "xenbus $(ls -l /dev/xen/xenbus 2>&1)"
xenstore-write data/vpio-test/gntdev-limit "$(cat /sys/module/xen_gntdev/parameters/limit 2>/dev/null || echo none)"
/usr/bin/xen-peer
rc=$?
xenstore-write data/vpio-test/peer-rc "$rc"
exit $rc
