# shellcheck shell=bash
# Host side: one lab run. Boots Xen + the PV dom0 in QEMU/TCG with no network
# device, runs a dom0 script there, watches the serial console, and returns
# the script's exit status (124: timeout, 125: crash, panic or no END marker).
#
# Runs queue on $LAB_CACHE/run.lock (one emulator at a time: each takes ~1 GiB
# and a core or two) and each gets its own dir under $LAB_CACHE/runs/. QEMU
# is killed by its pid on any exit of this shell (EXIT/INT/TERM trap); one
# left by a killed (-9) runner is found through $LAB_CACHE/qemu.pid by the
# next run and killed then.
#
# Needs lib/host.sh and lib/image.sh. Settings (environment; lab.sh maps its
# options onto them):
#   LAB_TIMEOUT=900 (s, from QEMU start)  LAB_QUIET=0 (1: print only LAB lines)
#   LAB_RESULTS=dir (read-write at /results in dom0; default: the run's dir)
#   LAB_ENV="K=V ..." (exported to the dom0 script)   LAB_SHARE_VPIO=1 (repo at /vpio)
#   LAB_MEM=2048 (MiB)  LAB_SMP=2  LAB_DOM0_MEM=1024M  LAB_CPU=qemu64
#   LAB_XEN_ARGS / LAB_DOM0_ARGS (more Xen / dom0 kernel command-line words)
#   LAB_KEEP_RUNS=5 (run dirs kept)

LAB_PANIC_RE='Panic on CPU|Kernel panic - not syncing|Hardware Dom0 crashed|Domain 0 crashed|FATAL TRAP'

lab_kill_stale() { # a QEMU of an earlier run whose runner died (we hold the run lock)
  local pid
  pid=$(cat "$LAB_CACHE/qemu.pid" 2>/dev/null) || return 0
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$LAB_CACHE/runs/"; then
    lab_log "killing QEMU pid $pid left by an earlier run"
    kill "$pid" 2>/dev/null; sleep 1; kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$LAB_CACHE/qemu.pid"
}

# Runs and builds of one cache take turns: a build swaps the images a running
# QEMU reads over 9p. Held until this shell exits (or lab_run unlocks it).
lab_run_lock() {
  [ -n "${LAB_LOCKED:-}" ] && return 0
  mkdir -p "$LAB_CACHE/runs"
  exec 8>"$LAB_CACHE/run.lock"
  if ! flock -n 8; then
    lab_log "waiting for another lab run to finish ($LAB_CACHE/run.lock)"
    flock -w "${LAB_LOCK_WAIT:-1800}" 8 || lab_die "another lab run still holds $LAB_CACHE/run.lock"
  fi
  LAB_LOCKED=1
}

lab_no_commas() { # QEMU option syntax: paths may not hold commas (or spaces, for -initrd)
  case $2 in *,* | *' '*) lab_die "$1 path '$2' holds a comma or a space; QEMU can't take it" ;; esac
}

lab_write_run_env() { # the per-run /lab/run/env, sourced by dom0's /init
  local kv a
  echo "export LAB_SHARE_VPIO=${LAB_SHARE_VPIO:-1} LAB_SHARE_RESULTS=1"
  local node; node=$(lab_node_path)   # the one baked into dom0
  printf 'export LAB_NODE_VERSION=%q LAB_REPO_COMMIT=%q\n' \
    "$([ -n "$node" ] && "$node" --version 2>/dev/null)" "$(git -C "$LAB_REPO" rev-parse --short HEAD 2>/dev/null)"
  for kv in ${LAB_ENV:-}; do
    [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || lab_die "--env wants NAME=VALUE, got '$kv'"
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
  printf 'LAB_ARGS=('
  for a in "$@"; do printf ' %q' "$a"; done
  printf ' )\n'
}

lab_first_seen() { # marker -> seconds since QEMU start when the watcher first saw it
  local var=$1 re=$2
  [ -z "${!var}" ] && grep -qaE "$re" "$LAB_CONSOLE" && printf -v "$var" '%s' "$(lab_since "$LAB_T0")"
  return 0
}

# lab_prepare: the lock, no orphaned QEMU, up-to-date images. Call it with
# `set -e` on (the build relies on it), then lab_run with `set -e` off.
lab_prepare() {
  [ -n "${LAB_LOCKED:-}" ] && [ -n "${LAB_PREPARE_S:-}" ] && return 0   # done, lock still held
  local tb; tb=$(date +%s.%N)
  lab_run_lock
  lab_kill_stale
  lab_build
  LAB_PREPARE_S=$(lab_since "$tb")
}

# lab_run SCRIPT [ARGS...] (after lab_prepare)
lab_run() {
  local script=$1; shift
  [ -n "${LAB_LOCKED:-}" ] || lab_die "lab_run: call lab_prepare first"

  local run; run=$(mktemp -d "$LAB_CACHE/runs/run.XXXXXX")
  local results=${LAB_RESULTS:-$run/results}
  mkdir -p "$results"; results=$(cd "$results" && pwd)
  lab_no_commas "run dir" "$run"; lab_no_commas "images dir" "$LAB_IMAGES"
  lab_no_commas "results dir" "$results"; lab_no_commas "repository" "$LAB_REPO"

  local R=$run/root
  mkdir -p "$R/lab/run" "$R/lab/lib"
  cp "$script" "$R/lab/run/dom0.sh"
  cp "$LAB_HOME/lib/dom0.sh" "$R/lab/lib/dom0.sh"
  lab_write_run_env "$@" >"$R/lab/run/env"
  lab_mkcpio "$R" "$run/run.cpio"
  # one initrd module: Xen hands dom0 only the first one after its kernel
  cat "$LAB_IMAGES/dom0.cpio" "$run/run.cpio" >"$run/dom0-run.cpio"
  rm -rf "$R"

  local share=(-virtfs "local,path=$LAB_IMAGES/share,mount_tag=images,security_model=none,readonly=on")
  [ "${LAB_SHARE_VPIO:-1}" = 1 ] &&
    share+=(-virtfs "local,path=$LAB_REPO,mount_tag=vpio,security_model=none,readonly=on")
  share+=(-virtfs "local,path=$results,mount_tag=results,security_model=none")

  LAB_CONSOLE=$run/console.log
  : >"$LAB_CONSOLE"
  local dom0_mem=${LAB_DOM0_MEM:-1024M}
  LAB_T0=$(date +%s.%N)
  # -nic none: no network device at all; bridges and vifs live inside the machine.
  qemu-system-x86_64 -accel tcg -cpu "${LAB_CPU:-qemu64}" -m "${LAB_MEM:-2048}" -smp "${LAB_SMP:-2}" \
    -nodefaults -display none -monitor none -serial "file:$LAB_CONSOLE" -nic none -no-reboot \
    -kernel "$LAB_IMAGES/xen.elf" \
    -append "console=com1 com1=115200,8n1 dom0_mem=$dom0_mem,max:$dom0_mem bootscrub=false console_timestamps=boot ${LAB_XEN_ARGS:-}" \
    -initrd "$LAB_IMAGES/vmlinuz console=hvc0 loglevel=4 mitigations=off ${LAB_DOM0_ARGS:-},$run/dom0-run.cpio" \
    "${share[@]}" </dev/null >"$run/qemu.out" 2>&1 8>&- 9>&- &   # no lock fds: an orphan must not hold the lock
  local qpid=$!
  echo "$qpid" >"$LAB_CACHE/qemu.pid"
  # never leave the emulator behind: any exit of this shell kills it by pid
  trap 'kill '"$qpid"' 2>/dev/null; sleep 0.2; kill -9 '"$qpid"' 2>/dev/null; rm -f "$LAB_CACHE/qemu.pid"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  lab_log "run: QEMU pid $qpid, console $LAB_CONSOLE, results $results, timeout ${LAB_TIMEOUT:-900}s"

  local streampid=''
  # sed -u: line by line (tr or grep would buffer when stdout is a file)
  if [ "${LAB_QUIET:-0}" = 1 ]; then
    (tail -n +1 -f "$LAB_CONSOLE" --pid "$qpid" | sed -u -n 's/\r*$//; /^LAB /p') 8>&- 9>&- &
  else
    (tail -n +1 -f "$LAB_CONSOLE" --pid "$qpid" | sed -u 's/\r*$//') 8>&- 9>&- &
  fi
  streampid=$!

  local deadline=$(($(date +%s) + ${LAB_TIMEOUT:-900})) hwm=0 h how='' timed_out='' panicked=''
  T_INIT='' T_TOOLS='' T_SCRIPT='' T_END=''
  while kill -0 "$qpid" 2>/dev/null; do
    h=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$qpid/status" 2>/dev/null)
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    lab_first_seen T_INIT '^LAB DOM0-INIT'
    lab_first_seen T_TOOLS '^LAB TOOLSTACK-UP'
    lab_first_seen T_SCRIPT '^LAB SCRIPT-END'
    lab_first_seen T_END '^LAB END rc='
    if [ -n "$T_END" ]; then   # dom0 powers off; QEMU exits by itself within a second or two
      for h in $(seq 40); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.25; done
      break
    fi
    if grep -qaE "$LAB_PANIC_RE" "$LAB_CONSOLE"; then
      panicked=1; lab_log "crash or panic on the console"; sleep 2; break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then timed_out=1; lab_log "TIMEOUT after ${LAB_TIMEOUT:-900}s"; break; fi
    sleep 0.5
  done
  how='exited by itself'
  if kill -0 "$qpid" 2>/dev/null; then
    how='killed'; kill "$qpid" 2>/dev/null; sleep 1; kill -9 "$qpid" 2>/dev/null
  fi
  wait "$qpid" 2>/dev/null
  rm -f "$LAB_CACHE/qemu.pid"
  trap - EXIT INT TERM HUP
  wait "$streampid" 2>/dev/null
  local total; total=$(lab_since "$LAB_T0")
  rm -f "$run/dom0-run.cpio" "$run/run.cpio"
  cp "$LAB_CONSOLE" "$results/console.log" 2>/dev/null

  local rc
  rc=$(grep -a '^LAB END rc=' "$LAB_CONSOLE" | tr -d '\r' | sed 's/^LAB END rc=\([0-9]*\).*/\1/' | tail -n 1)
  if [ -z "$rc" ]; then
    if [ -n "$timed_out" ]; then rc=124; else rc=125; fi
    [ -z "$timed_out" ] && [ -z "$panicked" ] && lab_log "QEMU exited without 'LAB END' (crash or reboot?)"
    grep -aE "$LAB_PANIC_RE" "$LAB_CONSOLE" | tr -d '\r' | head -n 3 >&2
  fi

  echo >&2
  lab_log "run: status $rc ($([ "$rc" = 124 ] && echo timeout || { [ "$rc" = 125 ] && echo 'crash/panic/no END'; } || echo "the dom0 script's")); QEMU $how"
  lab_log "times from QEMU start: dom0 /init ${T_INIT:-?}s, toolstack up ${T_TOOLS:-?}s, script end ${T_SCRIPT:-?}s, total ${total}s (before: lock + build check ${LAB_PREPARE_S:-?}s)"
  lab_log "QEMU peak RSS ${hwm} MiB; $(grep -a '^LAB MEM' "$LAB_CONSOLE" | tr -d '\r' | sed 's/^LAB MEM //')"
  grep -a '^LAB TIME' "$LAB_CONSOLE" | tr -d '\r' | sed 's/^LAB TIME /  time: /' >&2
  lab_log "console: $results/console.log; guest consoles: $results/guests/"
  # shellcheck disable=SC2034  # read by lab.sh
  LAB_RUN_RC=$rc LAB_RUN_RESULTS=$results LAB_RUN_TOTAL=$total LAB_RUN_HWM=$hwm
  # keep the newest few run dirs
  find "$LAB_CACHE/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn |
    tail -n +$((${LAB_KEEP_RUNS:-5} + 1)) | cut -d' ' -f2- | xargs -r rm -rf
  flock -u 8; LAB_LOCKED='' LAB_PREPARE_S=''
  return "$rc"
}

# Counts LAB PASS / LAB FAIL lines of the last run's console, plus extra
# host-side results, and prints the plain "N passed, N failed" line last.
lab_report() { # [host_passed] [host_failed]
  local p f
  p=$(grep -ac '^LAB PASS' "$LAB_CONSOLE" || true); f=$(grep -ac '^LAB FAIL' "$LAB_CONSOLE" || true)
  p=$((p + ${1:-0})); f=$((f + ${2:-0}))
  case $LAB_RUN_RC in
    124) f=$((f + 1)); echo "LAB FAIL lab-run: timeout" ;;
    125) f=$((f + 1)); echo "LAB FAIL lab-run: crash, panic or no END marker" ;;
  esac
  grep -a '^LAB FAIL' "$LAB_CONSOLE" | tr -d '\r' || true
  echo "$p passed, $f failed"
  [ "$f" = 0 ]
}
