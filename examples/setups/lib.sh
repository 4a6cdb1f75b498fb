# Shared by the setup scripts: where things are, a private platform, cleanup.
# Sourced, not run. Needs a built tree (npm run build) and root (the sandbox).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VPIO_JS="$ROOT/packages/cli/dist/bin/vpio.js"
MINIOS="$ROOT/minios/build/vpio-minios"
CONFIGS="$ROOT/minios/configs"
SECONDS_TO_RUN="${SECONDS_TO_RUN:-5}"

for f in "$VPIO_JS" "$MINIOS"; do
	[ -e "$f" ] || { echo "$f is missing: run npm run build first" >&2; exit 1; }
done

vpio() { node "$VPIO_JS" "$@"; }

# A private platform in a temporary directory, taken down on exit (also on Ctrl-C or an error).
BASE="$(mktemp -d /tmp/vpio-example-XXXXXX)"
chmod 755 "$BASE"
export VPIO_DIR="$BASE/run"
cleanup() {
	vpio down >/dev/null 2>&1 || true
	rm -rf "$BASE"
}
trap cleanup EXIT

# wait_for NAME TEXT [TIMEOUT_S]: until the guest's console contains TEXT.
wait_for() {
	local end=$((SECONDS + ${3:-20}))
	until vpio console "$1" 2>/dev/null | grep -q "$2"; do
		[ $SECONDS -lt $end ] || { echo "timed out waiting for '$2' from $1:" >&2; vpio console "$1" >&2; return 1; }
		sleep 0.2
	done
}
