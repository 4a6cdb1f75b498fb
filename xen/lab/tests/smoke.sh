#!/bin/bash
# The lab's smoke test, run in dom0 by `lab.sh smoke` (npm run lab:xen).
# Objective: everything a vpio xen-mode test stands on works in this lab:
#   1. dom0 is the control domain and has Xen's devices
#   2. the toolstack: xenstored answers, xl works
#   3. Node.js (the host's) runs in dom0 and loads the repo's built native
#      addon and dist/ from /vpio (virtio-9p, read-only)
#   4. two PV domUs without any vif come up and report data/status=booted
#   5. a grant and an event channel cross domains (labgnt: domU offers, dom0
#      maps and notifies, domU acks); also a loopback in dom0
#   6. the domU image has the tools and devices guest programs need and runs
#      the project's C guest programs, copied in through a per-guest initramfs
#   7. guests' consoles reach dom0's log (xenconsoled --log=guest)
#   8. xl destroy: the domains are gone, from xl and xenstore
#   9. results reach the host (/results, read-write 9p; checked by lab.sh)
# Prints LAB PASS/FAIL lines and "N passed, N failed"; exit 1 if anything failed.
. /lab/lib/dom0.sh
R=/results/smoke
mkdir -p "$R"
GUEST=/vpio/xen/lab/tests/guest

# 1
caps=$(cat /proc/xen/capabilities 2>/dev/null)
if [ "$caps" = control_d ]; then lab_pass dom0-control-domain; else lab_fail dom0-control-domain "/proc/xen/capabilities is '$caps'"; fi
missing=''
for d in evtchn gntdev gntalloc privcmd xenbus; do [ -c /dev/xen/$d ] || missing="$missing /dev/xen/$d"; done
if [ -z "$missing" ]; then lab_pass dom0-xen-devices; else lab_fail dom0-xen-devices "missing$missing"; fi

# 2
if lab_toolstack_up; then lab_pass toolstack-up; else lab_fail toolstack-up "see the lines above"; fi
lab_check xenstore-rw sh -c 'xenstore-write /lab/smoke hello && [ "$(xenstore-read /lab/smoke)" = hello ]'
lab_check xl-list xl list
xl info | grep -E '^(xen_version|xen_caps|nr_cpus|total_memory|free_memory)'

# 3
t0=$(lab_now)
v=$(node --version 2>&1)
lab_time node-startup "$(lab_elapsed "$t0")"
if [ "$v" = "$LAB_NODE_VERSION" ] && [ "${v#v20.}" != "$v" ]; then lab_pass node-in-dom0 "$v"
else lab_fail node-in-dom0 "dom0 node says '$v', the host's is '$LAB_NODE_VERSION' (want v20)"; fi
lab_check node-loads-repo-addon node /vpio/xen/lab/tests/node-addon.mjs /vpio

# 4
t0=$(lab_now)
u1=$(lab_domu_create smoke-u1 --job "$GUEST/gnt-offer.sh") || lab_fail xl-create-u1 "$(tail -n 3 "$LAB_TMP/smoke-u1.create.log")"
files=()
for f in /vpio/linux-netfront/build/vpio-linux-netfront /vpio/minios/build/vpio-minios.stripped; do
  [ -x "$f" ] && files+=(--file "$f:/usr/bin/$(basename "$f" .stripped)")
done
u2=$(lab_domu_create smoke-u2 --job "$GUEST/tools.sh" "${files[@]}") || lab_fail xl-create-u2 "$(tail -n 3 "$LAB_TMP/smoke-u2.create.log")"
lab_info "smoke-u1 is dom${u1:-?}, smoke-u2 is dom${u2:-?}; guest programs:${files[*]:- none built}"
xl list
if lab_domu_wait smoke-u1 booted 300; then lab_pass smoke-u1-booted; else lab_fail smoke-u1-booted "data/status is '$(lab_domu_read smoke-u1 data/status)'"; fi

# 5 (first: smoke-u1's job is waiting for dom0)
if offer=$(lab_wait_key "/local/domain/$u1/data/gnt/offer" '' 120); then
  lab_info "smoke-u1 offers grant ref and port: $offer"
  # shellcheck disable=SC2086  # "REF PORT"
  lab_check gnt-dom0-maps-domu-page labgnt accept "$u1" $offer 60000
  r=$(lab_wait_key "/local/domain/$u1/data/gnt/result" '' 120)
  case $r in ok*) lab_pass gnt-domu-got-event "$r" ;; *) lab_fail gnt-domu-got-event "domU says '$r'" ;; esac
else
  lab_fail gnt-dom0-maps-domu-page "no data/gnt/offer from smoke-u1"
fi
lab_check gnt-dom0-loopback labgnt self 0 200

if lab_domu_wait smoke-u2 booted 300; then lab_pass smoke-u2-booted; else lab_fail smoke-u2-booted "data/status is '$(lab_domu_read smoke-u2 data/status)'"; fi
lab_time two-domus-booted "$(lab_elapsed "$t0")"
for id in $u1 $u2; do
  if xenstore-exists "/local/domain/$id/device/vif" || xenstore-exists "/local/domain/0/backend/vif/$id"; then
    lab_fail "no-vif-dom$id" "a vif exists: $(xenstore-ls "/local/domain/$id/device" | head -n 3)"
  else lab_pass "no-vif-dom$id"; fi
done

# 6
if lab_domu_wait smoke-u2 'done' 300; then
  t=$(lab_domu_read smoke-u2 data/tools)
  if [ "$t" = ok ]; then lab_pass domu-tools "$(lab_domu_read smoke-u2 data/tools-seen)"; else lab_fail domu-tools "$t"; fi
  p=$(lab_domu_read smoke-u2 data/programs)
  case $p in fail*) lab_fail domu-runs-project-programs "$p" ;; *) lab_pass domu-runs-project-programs "${p:-none built}" ;; esac
else
  lab_fail domu-tools "smoke-u2 did not finish its job (status '$(lab_domu_read smoke-u2 data/status)')"
fi

# 7
lab_domu_wait smoke-u1 'done' 120 >/dev/null
if grep -q 'lab-guest: job rc=0' /var/log/xen/console/guest-smoke-u1.log 2>/dev/null; then lab_pass guest-console-log
else lab_fail guest-console-log "no 'job rc=0' in guest-smoke-u1.log"; lab_guest_log smoke-u1 30; fi
lab_guest_log smoke-u2 12

# 8
for n in smoke-u1 smoke-u2; do lab_check "xl-destroy-$n" lab_domu_destroy "$n"; done
xl list

# 9
{
  echo "node $(node --version)"
  echo "xen $(xl info | awk '/^xen_version/ { print $3 }') dom0 $(uname -r)"
  echo "domus created: $(cat "$LAB_TMP"/*.created 2>/dev/null | grep -c .)"
} >"$R/dom0.txt" 2>&1
lab_check results-write test -s "$R/dom0.txt"

lab_summary
