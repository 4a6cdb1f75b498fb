# guests.sh - vpio guests for the dom0 test scripts of xen/tests (bash): minios
# PV guests and Linux PV guests started by `vpio run` on a platform that is up
# (`vpio up --mode xen`), and what they report (xenstore data/, console).
#
#   . /lab/lib/dom0.sh                     # the lab's helpers (lab_now, lab_domid, lab_domu_initrd, ...)
#   REPO=/vpio VPIO="node $REPO/packages/cli/dist/bin/vpio.js" DIR=/tmp/vpio
#   . $REPO/xen/tests/lib/guests.sh
#
# Functions return 0 on success, 1 on failure (what failed on stderr); none
# exits. Each `vpio run` leaves its output in $LAB_TMP/NAME.run.json and
# .run.err and its start time (lab_now) in $LAB_TMP/NAME.t0.
#
#   vg_read DOMID KEY          xenstore-read /local/domain/DOMID/KEY (nothing when absent)
#   vg_log NAME                the guest's console so far (xenconsoled's log)
#   vg_event NAME EVENT        its last JSON line {"event":"EVENT",...} (minios)
#   vg_ls                      vpio ls --json
#   vg_minios_run NAME CONFIG VIF...
#                              vpio run --minios CONFIG, a --vif per VIF, --stats-interval
#                              $VG_STATS_MS (5000); prints the domid
#   vg_linux_initrd NAME       the lab's domU initramfs plus xen/tests/linux-guest-job.sh as
#                              its job, vpio-linux-netfront and lnf-xfer (their libraries
#                              follow); prints its path
#   vg_linux_run NAME MIB WORDS VIF...
#                              vpio run --kernel (the lab's domU kernel) --ramdisk (the above)
#                              --memory MIB --cmdline "console=hvc0 ... WORDS", a --vif per VIF;
#                              WORDS are the job's (lnf_role=, lnf_ip=, ...: see
#                              linux-guest-job.sh); prints the domid
#   vg_linux_up NAME TIMEOUT   waits for the job's data/lnf/state; prints it; 0 when "up"

vg_read() { xenstore-read "/local/domain/$1/$2" 2>/dev/null; }
vg_log() { cat "/var/log/xen/console/guest-$1.log" 2>/dev/null; }
vg_event() { vg_log "$1" | grep -F "\"event\":\"$2\"" | tail -n 1; }
vg_ls() { $VPIO ls --dir "$DIR" --json 2>&1; }

# _vg_run NAME ARGS...: vpio run --name NAME ARGS; prints the domid
_vg_run() {
  local name=$1 t
  shift
  t=$(lab_now)
  $VPIO run --dir "$DIR" --json --name "$name" "$@" >"$LAB_TMP/$name.run.json" 2>"$LAB_TMP/$name.run.err" ||
    { cat "$LAB_TMP/$name.run.json" "$LAB_TMP/$name.run.err" >&2; return 1; }
  lab_time "vpio-run-$name" "$(lab_elapsed "$t")" >&2
  echo "$t" >"$LAB_TMP/$name.t0"
  lab_domid "$name" || { echo "vpio run $name: no domain $name after it" >&2; return 1; }
}

vg_minios_run() {
  local name=$1 conf=$2 v vifs=()
  shift 2
  for v in "$@"; do vifs+=(--vif "$v"); done
  _vg_run "$name" --minios "$conf" --stats-interval "${VG_STATS_MS:-5000}" "${vifs[@]}"
}

vg_linux_initrd() {
  lab_domu_initrd "$1" /lab/domu/initrd "$REPO/xen/tests/linux-guest-job.sh" '' \
    "$REPO/linux-netfront/build/vpio-linux-netfront:/usr/bin/vpio-linux-netfront" \
    "$REPO/linux-netfront/build/test/lnf-xfer:/usr/bin/lnf-xfer"
}

vg_linux_run() {
  local name=$1 mem=$2 words=$3 rd v vifs=()
  shift 3
  for v in "$@"; do vifs+=(--vif "$v"); done
  rd=$(vg_linux_initrd "$name") || return 1
  _vg_run "$name" --memory "$mem" --kernel /lab/domu/vmlinux --ramdisk "$rd" \
    --cmdline "console=hvc0 loglevel=4 mitigations=off $words" "${vifs[@]}"
}

vg_linux_up() {
  local id v
  id=$(lab_domid "$1") || { echo "no domain $1"; return 1; }
  v=$(lab_wait_key "/local/domain/$id/data/lnf/state" '' "$2") || v="no data/lnf/state after $2 s"
  echo "$v"
  [ "$v" = up ]
}
