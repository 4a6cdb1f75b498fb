#!/bin/sh
# /init of the lab's PV domU (busybox sh). Kernel command-line key=value words
# (xl extra=, lab_domu_create --extra) arrive here as environment variables
# and are passed on to the job. Known ones:
#   lab_netfront=1       load xen-netfront (lab_domu_create --vif sets it); off by
#                        default, so vifs that vpio's netback offers stay its own
#   lab_addr=CIDR        address for eth0 when there is one
#   lab_poweroff=1       power off after the job (the domain then goes away)
# Reports through its own xenstore node (/local/domain/<id>/data/, writable by
# the guest): data/status = booted, then done; data/job-rc. Its console (job
# output included) is dom0's /var/log/xen/console/guest-<name>.log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
up() { read -r u _ </proc/uptime; echo "$u"; }   # no process: they are dear under TCG

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts devpts /dev/pts
ln -sfn /proc/self/fd /dev/fd   # devtmpfs has none: bash process substitution needs it
ln -sfn /proc/self/fd/0 /dev/stdin; ln -sfn /proc/self/fd/1 /dev/stdout; ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
echo "lab-guest: init uptime=$(up)"

modprobe -a xen-evtchn xen-gntdev xen-gntalloc xenfs tun || echo "lab-guest: modprobe failed"
[ "${lab_netfront:-0}" = 1 ] && { modprobe xen-netfront || echo "lab-guest: modprobe xen-netfront failed"; }
mount -t xenfs xenfs /proc/xen 2>/dev/null
ip link set lo up

LAB_DOMID=$(xenstore-read domid 2>/dev/null)
LAB_NAME=$(xenstore-read name 2>/dev/null)
export LAB_DOMID LAB_NAME
hostname "${LAB_NAME:-domu}"
xenstore-write data/status booted data/boot-uptime "$(up)" || echo "lab-guest: xenstore-write failed"
echo "lab-guest: booted dom$LAB_DOMID ($LAB_NAME) uptime=$(up)"

if [ -n "${lab_addr:-}" ]; then
  i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  ip link set eth0 up && ip addr add "$lab_addr" dev eth0 || echo "lab-guest: eth0 setup failed"
fi

if [ -e /lab/job ]; then
  echo "lab-guest: job start uptime=$(up)"
  if [ -x /lab/job ]; then /lab/job; else sh /lab/job; fi </dev/null
  rc=$?
  echo "lab-guest: job rc=$rc uptime=$(up)"
  xenstore-write data/job-rc "$rc"
fi
xenstore-write data/status 'done'
echo "lab-guest: done uptime=$(up)"
[ "${lab_poweroff:-0}" = 1 ] && { sync; poweroff -f; }
while :; do sleep 3600; done
