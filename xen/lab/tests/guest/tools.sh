#!/bin/sh
# Guest job (smoke.sh, smoke-u2): does the domU image have what guest programs
# need? Reports data/tools = ok | what is missing, data/tools-seen, and
# data/programs = what the project's C programs (if dom0 put them in) said.
missing=''
for c in busybox sh ip ping iperf3 xenstore-read xenstore-write labgnt modprobe; do
  command -v $c >/dev/null 2>&1 || missing="$missing $c"
done
for m in tun xen_gntdev xen_gntalloc xen_evtchn; do
  grep -q "^$m " /proc/modules || missing="$missing module:$m"
done
grep -q '^xen_netfront ' /proc/modules && missing="$missing xen_netfront-loaded-without-vif"
for d in /dev/xen/xenbus /dev/xen/gntdev /dev/xen/gntalloc /dev/xen/evtchn /dev/net/tun; do
  [ -c $d ] || missing="$missing $d"
done
[ "$(xenstore-read domid)" = "$LAB_DOMID" ] || missing="$missing xenbus-read"
ip tuntap add dev lab0 mode tap && ip link set lab0 up && ip link del lab0 || missing="$missing tap-device"
ping -c 1 -W 2 127.0.0.1 >/dev/null || missing="$missing ping-loopback"
iperf3 -s -1 -D -p 5201 && sleep 0.5 && iperf3 -c 127.0.0.1 -p 5201 -t 1 -f m | tail -n 3 ||
  missing="$missing iperf3-loopback"
xenstore-write data/tools-seen "$(uname -r), $(busybox | head -n 1 | cut -d' ' -f1-2), $(iperf3 --version | head -n 1 | cut -d' ' -f1-2)"
xenstore-write data/tools "${missing:-ok}"

programs=''
for p in /usr/bin/vpio-linux-netfront /usr/bin/vpio-minios; do
  [ -x "$p" ] || continue
  if "$p" --help 2>&1 | grep -q '^usage:'; then programs="$programs $(basename "$p"):ok"
  else programs="fail $programs $(basename "$p"): $("$p" --help 2>&1 | head -n 1)"; fi
done
xenstore-write data/programs "${programs# }"
[ -z "$missing" ]
