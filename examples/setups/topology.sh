#!/usr/bin/env bash
# The ping pair from a topology file (paths in it are relative to it):
# checked whole first (vpio up -f FILE --check), then started in order by
# one `vpio up -f`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

HERE="$(dirname "$0")"
vpio up -f "$HERE/topology.yaml" --check
vpio up -f "$HERE/topology.yaml" --cores=-1
vpio ls
wait_for ping '"family":6' 30
vpio console ping | grep '"event":"ping"'
