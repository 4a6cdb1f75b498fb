#!/bin/bash
# vpiod-xen.sh - the dom0 side of xen mode on real Xen 4.17 (issue 10):
# `vpio up --mode xen` in a PV dom0, two PV domUs started with
# `vpio run --kernel ...` whose job is nf-guest-xen (netfront's C test guest
# over the netfront xen ops: xenstore over /dev/xen/xenbus, gntdev, evtchn).
#
#   xen/tests/vpiod-xen.sh          on the host: checks the builds, then boots
#                                   the project's lab (xen/lab/lab.sh) with this
#                                   script as dom0's job; exit = failures
#
# Host knobs: LAB_CACHE (default /tmp/vpio-xenlab-vx: its own cache, so runs
# of other tests do not queue it), COUNT (frames each guest sends, 300),
# LAB_TIMEOUT (1800 s).
#
# In dom0 it checks, printing "LAB PASS|FAIL name":
#   1 up        `vpio up --mode xen` starts on Xen's xenstored (no xenstored
#               of vpio's own), `vpio ls` says xen mode, `vpio doctor` lines
#   2 run       two PV guests, each with one vif; the vif directories are
#               device type vpio-vif, written before the guest is unpaused
#   3 connect   both vifs reach Connected (backend and frontend state 4) on
#               Xen's xenstored: the guests mapped the rings and pools by
#               their grant refs across real domains and offered channels
#   4 traffic   frames flow g1 <-> g2 through the switch: the guests' own
#               counters (sent = received = COUNT, nothing corrupt or
#               reordered) and `vpio stats` on both ports
#   5 destroy   `xl destroy g1`: its vif and switch port go, g2 stays; then
#               g2 by `vpio destroy`; dom0 holds no more descriptors, bound
#               event channels or gntalloc pages than before the guests
set -u

if [ "$0" != /lab/dom0.sh ] && [ "$0" != /lab/run/dom0.sh ]; then
  # ------------------------------------------------------------------ host side
  set -e
  REPO=$(cd "$(dirname "$0")/../.." && pwd)
  cd "$REPO"
  need=(packages/cli/dist/bin/vpio.js packages/grant/build/Release/vpio_grant_xen.node packages/evtchn/build/Release/vpio_evtchn_xen.node
        packages/switch/build/Release/vpio_switch.node packages/netfront/build/test/nf-guest-xen)
  for f in "${need[@]}"; do
    [ -e "$f" ] || { echo "vpiod-xen.sh: $f is missing: run npm run build (cli and its dependencies) and make -s -C packages/netfront test-bins" >&2; exit 2; }
  done
  grep -q XenDom0 packages/domain/dist/index.js || { echo "vpiod-xen.sh: packages/domain/dist predates xen mode: npm run build -w @vpio/domain" >&2; exit 2; }
  export LAB_CACHE=${LAB_CACHE:-/tmp/vpio-xenlab-vx}
  export LAB_ENV="COUNT=${COUNT:-300} ${LAB_ENV:-}"
  exec bash "$REPO/xen/lab/lab.sh" run --timeout "${LAB_TIMEOUT:-1800}" "$0" "$@"
fi

# -------------------------------------------------------------------- dom0 side
. /lab/lib/dom0.sh
COUNT=${COUNT:-300}
VPIO="node /vpio/packages/cli/dist/bin/vpio.js"
D=/tmp/vpio                                   # the platform's directory (dom0's initramfs: tmpfs)
MAC1=02:00:00:00:00:01 MAC2=02:00:00:00:00:02
KEXTRA="console=hvc0 loglevel=4 mitigations=off"

lab_toolstack_up || { lab_fail toolstack "xenstored/xen-init-dom0 did not come up"; lab_summary; exit 1; }

# dom0's bookkeeping: bound interdomain event channels, gntalloc pages in use is
# not exported, so: the platform's descriptors and dom0's ports
dom0_ports() { lsevtchn 0 2>/dev/null | grep -ci 'interdomain'; }
vpiod_fds() { ls "/proc/$(cat $D/vpio.pid)/fd" 2>/dev/null | wc -l; }

# ---- 1 up
# --foreground in the background: under TCG, Node loading the packages over 9p
# takes longer than `vpio up`'s 30 s wait for its detached child
t0=$(lab_now)
mkdir -p $D
$VPIO up --foreground --mode xen --dir $D --cores=-1 --max-domains 8 >$LAB_TMP/up.log 2>&1 &
uppid=$!
lab_wait_for 400 sh -c "grep -q 'platform up' $LAB_TMP/up.log || ! kill -0 $uppid"
if grep -q 'platform up' $LAB_TMP/up.log; then
  lab_pass up "$(grep 'platform up' $LAB_TMP/up.log)"
else
  lab_fail up "$(tail -n 5 $LAB_TMP/up.log | tr '\n' ' ')"
  lab_summary; exit 1
fi
lab_time vpio-up "$(lab_elapsed "$t0")"
$VPIO ls --dir $D --json >$LAB_TMP/ls0.json 2>&1
grep -q '"platformMode":"xen"' $LAB_TMP/ls0.json && lab_pass ls-mode "$(cat $LAB_TMP/ls0.json)" || lab_fail ls-mode "$(cat $LAB_TMP/ls0.json)"
if grep -qs vpio-xenstored /proc/[0-9]*/cmdline || [ -e $D/xenstored.sock ]; then lab_fail no-own-xenstored "vpio started a xenstored"; else lab_pass no-own-xenstored; fi
$VPIO doctor --mode xen --max-domains 8 >$LAB_TMP/doctor.txt 2>&1; rc=$?
sed 's/^/  /' $LAB_TMP/doctor.txt
grep -q '^OK    xenstored' $LAB_TMP/doctor.txt && grep -q '^OK    gntalloc-limit' $LAB_TMP/doctor.txt &&
  lab_pass doctor "rc=$rc, $(grep -c '^OK' $LAB_TMP/doctor.txt) OK, $(grep -c '^FAIL' $LAB_TMP/doctor.txt) FAIL" ||
  lab_fail doctor "rc=$rc: $(grep '^FAIL' $LAB_TMP/doctor.txt | tr '\n' ' ')"
ports0=$(dom0_ports); fds0=$(vpiod_fds)
lab_info "before guests: dom0 interdomain ports $ports0, platform fds $fds0, gntalloc limit $(cat /sys/module/xen_gntalloc/parameters/limit)"

# ---- 2 run: the guests' initrd = the lab's + nf-guest-xen + the job
cat >$LAB_TMP/job.sh <<'EOF'
#!/bin/sh
# nf-guest-xen connects vif 0 (device/vpio-vif/0), then waits for dom0's go
# (data/go=1) before sending COUNT frames to $peer, and for data/close=1
# before disconnecting.
xenstore-write data/nf-state starting
( until [ "$(xenstore-read data/go 2>/dev/null)" = 1 ]; do sleep 0.3; done; echo go
  until [ "$(xenstore-read data/close 2>/dev/null)" = 1 ]; do sleep 0.3; done; echo close ) |
  /usr/bin/nf-guest-xen --xen --peer "$peer" --count "$count" 2>&1 | tee /tmp/nf.out   # the console shows each line at once
rc=$(grep -q '"event":"closed","rc":0' /tmp/nf.out && echo 0 || echo 1)
xenstore-write data/nf-rc "$rc"
xenstore-write data/nf-connected "$(grep '"event":"connected"' /tmp/nf.out | head -n 1)"
xenstore-write data/nf-done "$(grep '"event":"done"' /tmp/nf.out | head -n 1)"
xenstore-write data/nf-state finished
EOF
mk_initrd() { lab_domu_initrd "$1" /lab/domu/initrd $LAB_TMP/job.sh '' /vpio/packages/netfront/build/test/nf-guest-xen:/usr/bin/nf-guest-xen; }
declare -A ID
for g in g1 g2; do
  if [ $g = g1 ]; then me=$MAC1 peer=$MAC2; else me=$MAC2 peer=$MAC1; fi
  rd=$(mk_initrd $g) || { lab_fail "$g-initrd" "lab_domu_initrd failed"; continue; }
  t0=$(lab_now)
  if $VPIO run --dir $D --json --name $g --kernel /lab/domu/vmlinux --ramdisk "$rd" --memory 160 \
      --cmdline "$KEXTRA peer=$peer count=$COUNT" --vif "mac=$me,lossless=1" >$LAB_TMP/$g.run.json 2>&1; then
    ID[$g]=$(sed -n 's/.*"domid":\([0-9]*\).*/\1/p' $LAB_TMP/$g.run.json)
    echo "$t0" >"$LAB_TMP/$g.created"
    lab_pass "$g-run" "domid ${ID[$g]} in $(lab_elapsed "$t0") s: $(cat $LAB_TMP/$g.run.json)"
  else
    lab_fail "$g-run" "$(tail -n 3 $LAB_TMP/$g.run.json | tr '\n' ' ')"
  fi
  rm -f "$rd"
done
[ -n "${ID[g1]:-}" ] && [ -n "${ID[g2]:-}" ] || { $VPIO down --dir $D; lab_summary; exit 1; }
for g in g1 g2; do
  id=${ID[$g]}
  be=/local/domain/0/backend/vpio-vif/$id/0 fe=/local/domain/$id/device/vpio-vif/0
  xenstore-exists "$be" && xenstore-exists "$fe" && ! xenstore-exists /local/domain/0/backend/vif/$id && ! xenstore-exists /local/domain/$id/device/vif &&
    lab_pass "$g-device-type" "$be, $fe; perms fe $(xenstore-ls -p "$fe" 2>/dev/null | head -n 1 | sed 's/.*(\(.*\))/\1/'), be $(xenstore-ls -p /local/domain/0/backend/vpio-vif/$id 2>/dev/null | head -n 1 | sed 's/.*(\(.*\))/\1/')" ||
    lab_fail "$g-device-type" "$(xenstore-ls -f /local/domain/$id/device 2>&1 | head -n 5 | tr '\n' ' ')"
done

# ---- 3 connect
for g in g1 g2; do
  id=${ID[$g]}
  lab_domu_wait $g booted 600 || lab_fail "$g-booted" "no data/status: $(lab_guest_log $g 5 | tr '\n' ' ')"
  if lab_wait_key /local/domain/0/backend/vpio-vif/$id/0/state 4 300 >/dev/null &&
     [ "$(xenstore-read /local/domain/$id/device/vpio-vif/0/state)" = 4 ]; then
    lab_pass "$g-connected" "backend 4, frontend 4, tx-ring-refs $(xenstore-read /local/domain/$id/device/vpio-vif/0/tx-ring-refs), channels $(xenstore-read /local/domain/$id/device/vpio-vif/0/event-channel-tx)/$(xenstore-read /local/domain/$id/device/vpio-vif/0/event-channel-rx)"
  else
    lab_fail "$g-connected" "backend $(xenstore-read /local/domain/0/backend/vpio-vif/$id/0/state 2>&1), frontend $(xenstore-read /local/domain/$id/device/vpio-vif/0/state 2>&1), error $(xenstore-read /local/domain/0/backend/vpio-vif/$id/0/error 2>&1); $(lab_guest_log $g 5 | tr '\n' ' ')"
  fi
done
$VPIO ls --dir $D >$LAB_TMP/ls1.txt 2>&1; sed 's/^/  /' $LAB_TMP/ls1.txt
ports1=$(dom0_ports); lab_info "lsevtchn 0: $(lsevtchn 0 2>&1 | tail -n 4 | tr "\n" "|")"
[ "$ports1" -ge $((ports0 + 4)) ] && lab_pass channels-bound "dom0 interdomain ports $ports0 -> $ports1" || lab_fail channels-bound "dom0 interdomain ports $ports0 -> $ports1"

# ---- 4 traffic
for g in g1 g2; do xenstore-write /local/domain/${ID[$g]}/data/go 1; done
# the guests finish only after close: wait for each one's traffic to end (the done line reaches its console)
for g in g1 g2; do
  lab_wait_for 300 grep -q '"event":"done"' /var/log/xen/console/guest-$g.log || lab_fail "$g-traffic-end" "no done line: $(lab_guest_log $g 5 | tr '\n' ' ')"
done
$VPIO stats --dir $D --json >$LAB_TMP/stats.json 2>&1
lab_save $LAB_TMP/stats.json vpiod-xen-stats.json
for g in g1 g2; do xenstore-write /local/domain/${ID[$g]}/data/close 1; done
for g in g1 g2; do
  id=${ID[$g]}
  lab_wait_key /local/domain/$id/data/nf-state finished 120 >/dev/null || true
  done_line=$(grep -o '{"event":"done"[^}]*' /var/log/xen/console/guest-$g.log | head -n 1)
  sent=$(echo "$done_line" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p'); recv=$(echo "$done_line" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
  bad=$(echo "$done_line" | sed -n 's/.*"corrupt":\([0-9]*\),"reordered":\([0-9]*\).*/\1+\2/p')
  [ "${sent:-0}" = "$COUNT" ] && [ "${recv:-0}" = "$COUNT" ] && [ "$bad" = "0+0" ] &&
    lab_pass "$g-traffic" "$done_line" || lab_fail "$g-traffic" "${done_line:-no done line}; rc $(xenstore-read /local/domain/$id/data/nf-rc 2>&1)"
done
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const rows = s.ports.filter((p) => p.name === "g1" || p.name === "g2");
  const ok = rows.length === 2 && rows.every((p) => p.inPackets >= +process.argv[2] && p.outPackets >= +process.argv[2]);
  console.log((ok ? "ok " : "bad ") + rows.map((p) => `${p.name} port ${p.port} in ${p.inPackets} out ${p.outPackets} drops ${p.dropsTotal}`).join(", "));
  process.exit(ok ? 0 : 1);' $LAB_TMP/stats.json "$COUNT" >$LAB_TMP/stats.txt 2>&1 &&
  lab_pass switch-stats "$(cat $LAB_TMP/stats.txt)" || lab_fail switch-stats "$(cat $LAB_TMP/stats.txt) $(head -c 400 $LAB_TMP/stats.json)"

# ---- 5 destroy: xl destroy behind vpio's back, then vpio destroy
id1=${ID[g1]} id2=${ID[g2]}
xl destroy g1 >$LAB_TMP/g1.destroy.log 2>&1 || lab_fail g1-xl-destroy "$(cat $LAB_TMP/g1.destroy.log)"
if lab_wait_for 120 sh -c "! xenstore-exists /local/domain/0/backend/vpio-vif/$id1 && ! $VPIO ls --dir $D --json | grep -q '\"name\":\"g1\"'"; then
  $VPIO stats --dir $D --json >$LAB_TMP/stats2.json 2>&1
  grep -q '"name":"g1"' $LAB_TMP/stats2.json && lab_fail g1-gone "its switch port is still there" ||
    lab_pass g1-gone "backend dir, vpio ls row and switch port gone; g2 $($VPIO ls --dir $D --json | grep -q '"name":"g2"' && echo still listed || echo MISSING)"
else
  lab_fail g1-gone "$(xenstore-ls -f /local/domain/0/backend/vpio-vif 2>&1 | head -n 3 | tr '\n' ' ') $($VPIO ls --dir $D 2>&1 | tr '\n' ' ')"
fi
$VPIO destroy --dir $D g2 >$LAB_TMP/g2.destroy.txt 2>&1 && lab_pass g2-vpio-destroy "$(cat $LAB_TMP/g2.destroy.txt)" || lab_fail g2-vpio-destroy "$(cat $LAB_TMP/g2.destroy.txt)"
lab_wait_for 60 sh -c "! xl domid g2 && ! xenstore-exists /local/domain/$id2 && ! xenstore-exists /local/domain/0/backend/vpio-vif/$id2" ||
  lab_fail g2-gone "still: $(xl list 2>&1 | tail -n +2 | tr '\n' ' ')"
lab_sleep 1
ports2=$(dom0_ports); fds2=$(vpiod_fds)
[ "$ports2" -le "$ports0" ] && lab_pass no-leak-evtchn "dom0 interdomain ports $ports0 -> $ports1 -> $ports2" || lab_fail no-leak-evtchn "$ports0 -> $ports1 -> $ports2: $(lsevtchn 0 | grep -i interdomain | tr '\n' ' ')"
[ "$fds2" -le "$fds0" ] && lab_pass no-leak-fds "platform fds $fds0 -> $fds2" || lab_fail no-leak-fds "platform fds $fds0 -> $fds2: $(ls -l /proc/$(cat $D/vpio.pid)/fd | tail -n +2 | awk '{print $NF}' | sort | uniq -c | sort -rn | head -n 5 | tr '\n' ' ')"
[ -z "$(xenstore-ls /local/domain/0/backend/vpio-vif 2>/dev/null)" ] && lab_pass no-leak-xenstore "backend/vpio-vif empty" || lab_fail no-leak-xenstore "$(xenstore-ls -f /local/domain/0/backend/vpio-vif | head -n 3 | tr '\n' ' ')"

$VPIO down --dir $D >$LAB_TMP/down.txt 2>&1 && lab_pass down "$(cat $LAB_TMP/down.txt)" || lab_fail down "$(cat $LAB_TMP/down.txt)"
lab_save $LAB_TMP/up.log vpiod-xen-platform.log
lab_summary
