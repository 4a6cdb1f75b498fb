#!/bin/bash
# drivers.sh - the xen drivers of @vpio/grant, @vpio/evtchn and netfront on
# real Xen 4.17 (a PV dom0 and a Linux PV domU inside QEMU/TCG).
#
#   xen/tests/drivers.sh            on the host: checks the builds, then boots
#                                   the lab with this script as dom0's job
#                                   (exit status: the number of failures)
#
# Host knobs: XENLAB=project|shared (default: project, the repository's own
# lab xen/lab/lab.sh, with its own cache LAB_CACHE=/tmp/vpio-xenlab-drivers
# because this test bakes its C programs into dom0; shared: the shared lab
# /work/shared/xenlab/xenlab.sh, XENLAB_DIR=/tmp/xenlab-drivers), NPAGES (1100:
# about a vif's rings and pool, past gntalloc's default limit), ROUNDS (1000),
# GNTTAB_MAX_FRAMES (unset: Xen's default; a number boots Xen with
# gnttab_max_frames=N and adds a check that sharing past dom0's grant table
# fails with GRANT_XEN_LIMIT naming it). Xen gets conring_size=1m so dom0 can
# read the whole 'g' debug-key dump (one line per grant in use) with xl dmesg.
#
# In dom0 (the lab's dom0 script) it proves, printing "LAB PASS|FAIL name":
#   c/...      the C drivers' TAP programs with real grants and channels to
#              dom0 itself (test-grant-xen, test-evtchn-xen, test-nf-xen)
#   ts-...     the TS xen drivers in Node (drivers-dom0.mjs): open, the
#              gntalloc limit error and raising it, a self grant, a self
#              channel ping-pong, a refused bind
#   then with a PV domU running xen-peer (netfront's xen ops, the xenstore
#   over /dev/xen/xenbus): a multi-page region shared, mapped, checked and
#   answered; two channels ping-ponged both ways; dom0 releases while the
#   domU still maps, the domU unmaps; nothing left in dom0 (descriptors,
#   mappings, Xen grant-table entries), `xl destroy`.
# and a total line "LAB TOTAL n passed, m failed".
set -u

if [ "$0" != /lab/dom0.sh ] && [ "$0" != /lab/run/dom0.sh ]; then
  # ------------------------------------------------------------------ host side
  set -e
  REPO=$(cd "$(dirname "$0")/../.." && pwd)
  cd "$REPO"
  need=(packages/grant/build/Release/vpio_grant_xen.node packages/evtchn/build/Release/vpio_evtchn_xen.node
        packages/grant/build/test/test-grant-xen packages/evtchn/build/test/test-evtchn-xen
        packages/netfront/build/test/test-nf-xen packages/netfront/build/test/xen-peer)
  for f in "${need[@]}"; do
    [ -e "$f" ] || { echo "drivers.sh: $f is missing: run npm run build -w @vpio/grant -w @vpio/evtchn and make -s -C packages/{grant,evtchn,netfront} test-bins" >&2; exit 2; }
  done
  grep -q xenGrantDriver packages/grant/dist/index.js && grep -q openXenEventChannels packages/evtchn/dist/index.js || {
    echo "drivers.sh: packages/{grant,evtchn}/dist predate the xen drivers: run npm run build -w @vpio/grant -w @vpio/evtchn" >&2; exit 2; }
  bins=""
  for f in packages/grant/build/test/test-grant-xen packages/evtchn/build/test/test-evtchn-xen packages/netfront/build/test/test-nf-xen; do
    bins="$bins $REPO/$f:/lab/bin/$(basename "$f")"   # baked into dom0 with their libraries (libasan, libxen*)
  done
  xen_args="conring_size=1m ${GNTTAB_MAX_FRAMES:+gnttab_max_frames=$GNTTAB_MAX_FRAMES}"
  conf="NPAGES=${NPAGES:-1100} ROUNDS=${ROUNDS:-1000} ${GNTTAB_MAX_FRAMES:+GNTTAB_MAX_FRAMES=$GNTTAB_MAX_FRAMES}"
  if [ "${XENLAB:-project}" = project ] && [ -f "$REPO/xen/lab/lab.sh" ]; then
    export LAB_CACHE=${LAB_CACHE:-/tmp/vpio-xenlab-drivers}
    export LAB_DOM0_FILES="$bins ${LAB_DOM0_FILES:-}"
    export LAB_XEN_ARGS="$xen_args ${LAB_XEN_ARGS:-}"
    export LAB_ENV="$conf ${LAB_ENV:-}"
    exec bash "$REPO/xen/lab/lab.sh" run --timeout "${LAB_TIMEOUT:-1500}" "$0"
  fi
  add="/usr/bin/node $bins"
  for f in packages/grant/build/Release/vpio_grant_xen.node packages/evtchn/build/Release/vpio_evtchn_xen.node; do
    add="$add $REPO/$f:/lab/deps/$(basename "$f")"   # their ldd deps (libxen*) follow into dom0
  done
  export XENLAB_DIR=${XENLAB_DIR:-/tmp/xenlab-drivers}
  export XENLAB_SHARE=$REPO
  export XENLAB_DOM0_ADD="$add"
  export XENLAB_DOMU_ADD="$REPO/packages/netfront/build/test/xen-peer:/usr/bin/xen-peer"
  export XENLAB_DOMU_SCRIPT=$REPO/xen/tests/drivers-domu.sh
  export XENLAB_LAB_CONF="$conf ${XENLAB_LAB_CONF:-}"
  export XENLAB_TIMEOUT=${XENLAB_TIMEOUT:-1200}   # TCG on a shared 2-core host: minutes
  export XENLAB_XEN_ARGS="$xen_args ${XENLAB_XEN_ARGS:-}"
  exec "${XENLAB_SH:-/work/shared/xenlab/xenlab.sh}" run "$0"
fi

# -------------------------------------------------------------------- dom0 side
if [ -f /lab/lib/dom0.sh ]; then   # the project lab: start the toolstack ourselves
  set +u; . /lab/lib/dom0.sh; set -u
  lab_toolstack_up || { echo "LAB FAIL toolstack"; exit 1; }
  REPO=/vpio
else                               # the shared lab: its /init did
  REPO=/share
fi
LOG=/tmp/drivers.log
: > $LOG
NPAGES=${NPAGES:-1100}
ROUNDS=${ROUNDS:-1000}
DOMU=vpio-drv
say() { echo "$*" | tee -a $LOG; }
pass() { say "LAB PASS $*"; }
fail() { say "LAB FAIL $*"; }
up() { cut -d' ' -f1 /proc/uptime; }

# dom0's Xen grant table from the 'g' debug key: "<entries in use> <frames>
# <max frames>" (drivers-dom0.mjs runs it too, as $DOM0_GRANTS).
cat > /tmp/dom0-grants.sh <<'SH'
#!/bin/sh
xl dmesg -c >/dev/null 2>&1
xl debug-keys g >/dev/null 2>&1
i=0; while ! xl dmesg | grep -q 'gnttab_usage_print_all \] done' && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
xl dmesg -c > /tmp/gnttab.txt 2>&1
# (Xen may prefix lines with a timestamp: match by pattern, not by field)
awk '/grant-table for remote d0 /{f=1; next} /grant-table for remote d[0-9]/{f=0}
     f && / frames \([0-9]+ max\)/{i=index($0," frames ("); n1=split(substr($0,1,i-1),a," "); fr=a[n1];
                                    mx=substr($0,i+9)+0}
     f && /\[0x[0-9a-f]+\]/{n++} END{print n+0, fr+0, mx+0}' /tmp/gnttab.txt
SH
chmod +x /tmp/dom0-grants.sh
export DOM0_GRANTS=/tmp/dom0-grants.sh
dom0_grants() { /tmp/dom0-grants.sh | cut -d' ' -f1; }

say "LAB INFO dom0 uptime=$(up) kernel=$(uname -r) xen=$(xl info 2>/dev/null | awk '/xen_version/{print $3}')"
say "LAB INFO gntalloc limit=$(cat /sys/module/xen_gntalloc/parameters/limit 2>/dev/null) gntdev limit=$(cat /sys/module/xen_gntdev/parameters/limit 2>/dev/null) grant_table free_per_iteration=$(cat /sys/module/grant_table/parameters/free_per_iteration 2>/dev/null || echo absent)"
say "LAB INFO xen cmdline: $(xl info 2>/dev/null | awk -F': ' '/xen_commandline/{print $2}')"
for d in gntalloc gntdev evtchn xenbus; do
  [ -c /dev/xen/$d ] && pass "dom0-device-$d /dev/xen/$d" || fail "dom0-device-$d /dev/xen/$d missing"
done

# 1. the C drivers' own tests, with grants and channels to dom0 itself
for t in test-grant-xen test-evtchn-xen test-nf-xen; do
  out=$(VPIO_XEN_SELF_DOMID=0 ASAN_OPTIONS=abort_on_error=0 /lab/bin/$t 2>&1); rc=$?
  echo "$out" | grep -E '^(ok|not ok|#)' | sed "s/^/  [$t] /"
  echo "$out" | awk -v t="$t" '/^ok /{sub(/^ok [0-9]+ - /,""); print "LAB PASS c/" t " " $0} /^not ok /{sub(/^not ok [0-9]+ - /,""); print "LAB FAIL c/" t " " $0}' | tee -a $LOG
  [ $rc = 0 ] || fail "c/$t exit $rc $(echo "$out" | grep -m3 -E 'Sanitizer|error' | tr '\n' ' ')"
done

set -- $(/tmp/dom0-grants.sh)
base=$1
say "LAB INFO dom0 grant table before the domU: $1 entries mapped by a domain, $2 frames of at most $3 (512 v1 entries per frame)"

# 2. the domU (no vif: only grants, channels and the xenstore), running
#    drivers-domu.sh with xen-peer
t0=$(up)
if [ "$REPO" = /vpio ]; then
  domid=$(lab_domu_create $DOMU --job $REPO/xen/tests/drivers-domu.sh \
            --file $REPO/packages/netfront/build/test/xen-peer:/usr/bin/xen-peer 2>/tmp/xl-create.log) || domid=
else
  cat > /tmp/$DOMU.cfg <<CFG
name = "$DOMU"
type = "pv"
kernel = "/lab/domu/vmlinuz"
ramdisk = "/lab/domu/initrd"
memory = 128
vcpus = 1
extra = "console=hvc0 loglevel=4"
CFG
  xl create /tmp/$DOMU.cfg >/tmp/xl-create.log 2>&1 && domid=$(xl domid $DOMU) || domid=
fi
if [ -n "$domid" ]; then
  pass "domU-create domid $domid in $(awk "BEGIN{print $(up)-$t0}")s"
else
  fail "domU-create $(tail -3 /tmp/xl-create.log | tr '\n' ' ')"
fi

if [ -n "$domid" ]; then
  VPIO_REPO=$REPO node $REPO/xen/tests/drivers-dom0.mjs "$domid" "$NPAGES" "$ROUNDS" 2>&1 | tee -a $LOG
  D=/local/domain/$domid/data/vpio-test
  i=0; while [ -z "$(xenstore-read $D/peer-rc 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
  prc=$(xenstore-read $D/peer-rc 2>/dev/null)
  [ "$prc" = 0 ] && pass "domU-xen-peer-exit 0" || fail "domU-xen-peer-exit '$prc'"
  say "LAB INFO domU gntdev limit=$(xenstore-read $D/gntdev-limit 2>/dev/null)"

  # the domU unmapped: dom0's grants end (the kernel retries deferred ends once a second)
  after=
  for i in 1 2 3 4 5; do after=$(dom0_grants); [ "$after" = "$base" ] && break; sleep 1; done
  [ -n "$base" ] && [ "$after" = "$base" ] && pass "dom0-grant-table-clean $after entries mapped after the domU unmapped (before: $base)" \
    || { fail "dom0-grant-table-clean $after entries mapped after the domU unmapped (before: $base)"; sed -n '1,40p' /tmp/gnttab.txt; }

  t0=$(up)
  xl destroy $DOMU
  xl list | grep -q "^$DOMU " && fail "domU-destroy still listed" || pass "domU-destroy gone in $(awk "BEGIN{print $(up)-$t0}")s"
  after=$(dom0_grants)
  [ "$after" = "$base" ] && pass "dom0-grant-table-after-destroy $after entries" || fail "dom0-grant-table-after-destroy $after entries (before: $base)"
  if grep -q 'LAB FAIL' $LOG; then
    echo "---- domU console"; cat /var/log/xen/console/guest-$DOMU.log 2>/dev/null | tail -60
  fi
fi

np=$(grep -c '^LAB PASS' $LOG); nf=$(grep -c '^LAB FAIL' $LOG)
say "LAB TOTAL $np passed, $nf failed"
exit $nf
