#!/bin/bash
# /init of the lab's dom0 (PV, Debian kernel, initramfs). Mounts the basics,
# loads the Xen device drivers, mounts the host's shares (virtio-9p), runs the
# run's dom0 script, saves the guests' logs into /results, prints
# "LAB END rc=N" and powers the machine off (Xen -> ACPI S5 -> QEMU exits).
#
# The toolstack is the script's to start (lab_toolstack_up in lib/dom0.sh),
# so a script can bring its own xenstored. Console: hvc0 -> Xen -> com1.
# Per run, /lab/run/ holds dom0.sh and env (see lib/qemu.sh). /lab/images is
# the host's $LAB_CACHE/images/share (node, domu/), /lab/domu links into it.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
export HOME=/root TERM=dumb LANG=C
up() { read -r u _ </proc/uptime; echo "$u"; }   # no process: they are dear under TCG

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /var/log/xen/console /var/lib/xen /var/lock /root
mount -t devpts devpts /dev/pts
ln -sfn /proc/self/fd /dev/fd   # devtmpfs has none: bash process substitution needs it
ln -sfn /proc/self/fd/0 /dev/stdin; ln -sfn /proc/self/fd/1 /dev/stdout; ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
# /tmp of its own: the rootfs (the unpacked initramfs) is capped at half of
# dom0's RAM and already holds ~115 MB; per-guest initramfs files go to /tmp
mount -t tmpfs -o mode=1777,size=80% tmpfs /tmp
ln -sfn /run /var/run
mkdir -p /run/xen /run/xenstored
hostname dom0

LAB_ARGS=()
# shellcheck disable=SC1091
. /lab/run/env   # exported LAB_* settings, the caller's --env, LAB_ARGS=(...)
echo "LAB DOM0-INIT uptime=$(up) kernel=$(uname -r) hypervisor=$(cat /sys/hypervisor/type 2>/dev/null)"

# one modprobe for all (each process start costs under TCG): Xen's devices, virtio-9p
modprobe -a xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc virtio_pci 9pnet_virtio 9p ||
  echo "LAB WARN modprobe failed"
mount -t xenfs xenfs /proc/xen || echo "LAB WARN mounting xenfs on /proc/xen failed"
echo "LAB DOM0-MODULES uptime=$(up)"

# the host's shares (virtio-9p): the lab's big files (node, the domU kernel and
# initramfs; read-only), the repository (read-only), the results dir (read-write)
o=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$o,ro,cache=loose" images /lab/images || echo "LAB WARN 9p mount of the lab images at /lab/images failed"
if [ "${LAB_SHARE_VPIO:-0}" = 1 ]; then
  mount -t 9p -o "$o,ro,cache=loose" vpio /vpio || echo "LAB WARN 9p mount of the repository at /vpio failed"
fi
if [ "${LAB_SHARE_RESULTS:-0}" = 1 ]; then
  mount -t 9p -o "$o,rw" results /results || echo "LAB WARN 9p mount of /results failed"
fi
echo "LAB DOM0-READY uptime=$(up) caps=$(cat /proc/xen/capabilities 2>/dev/null)"

cd /tmp || exit 1
echo "LAB SCRIPT-BEGIN uptime=$(up)"
bash /lab/run/dom0.sh "${LAB_ARGS[@]}" </dev/null
rc=$?
echo "LAB SCRIPT-END rc=$rc uptime=$(up)"
# 124 and 125 are the host's "timeout" and "crash": keep them unambiguous
[ "$rc" -gt 123 ] && { echo "LAB WARN script status $rc reported as 123"; rc=123; }

if grep -q ' /results ' /proc/mounts; then
  mkdir -p /results/guests /results/xen
  cp /var/log/xen/console/*.log /results/guests/ 2>/dev/null
  cp /var/log/xen/*.log /results/xen/ 2>/dev/null
  sync; umount /results
fi
echo "LAB MEM $(free -m | awk '/Mem:/ { print "dom0_total_mb=" $2 " used_mb=" $3 " free_mb=" $4 }')"
echo "LAB END rc=$rc uptime=$(up)"
sync
poweroff -f
sleep 10; echo "LAB WARN poweroff did not stop the machine"; reboot -f
