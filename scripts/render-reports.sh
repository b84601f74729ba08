#!/usr/bin/env bash
# Renders the HTML reports in a real browser (Debian's headless Chromium), offline, to PNG:
# `check --format html` against a faulty embedded server, and `load --report-file X.html`. With --docs, the screenshots are
# stored in docs/ (the README shows them). Usage: scripts/render-reports.sh BINARY [--docs]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
DOCS=${2:-}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

chrome() {  # chrome ARGS...: headless and offline (no network, no profile, a dead proxy)
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$DIR/profile" \
    --proxy-server=http://127.0.0.1:9 "$@" 2>/dev/null
}

dom() {  # dom HTML OUT: the DOM chromium built from the page
  chrome --dump-dom "file://$1" > "$2"
}

shot() {  # shot NAME HTML PNG: a screenshot, checked to be a PNG
  chrome --window-size=1280,1600 --screenshot="$3" "file://$2"
  [ -s "$3" ] || { echo "chromium rendered nothing for $2"; exit 1; }
  python3 - "$1" "$3" <<'PY'
import struct, sys
data = open(sys.argv[2], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", sys.argv[2]
w, h = struct.unpack(">II", data[16:24])
print(f"{sys.argv[1]} report rendered: {w}x{h} PNG, {len(data)} bytes")
PY
}

set +e
"$H" check --fault query-missing-serial --fault list-allows-non-admin --seed 1 --format html --output "$DIR/check.html" > /dev/null
rc=$?
set -e
[ "$rc" = 1 ] || { echo "check against a faulty server exited $rc, expected 1"; exit 1; }
# The DOM chromium built: the verdict and the failures are there, nothing was fetched.
dom "$DIR/check.html" "$DIR/check.dom"
grep -q '<h1>FAILED' "$DIR/check.dom" && grep -q 'query.success' "$DIR/check.dom" \
  || { echo "the check report's DOM lacks its verdict or failures"; exit 1; }
shot check "$DIR/check.html" "$DIR/check.png"
if [ "$DOCS" = --docs ]; then cp "$DIR/check.png" docs/check-report.png; echo "stored docs/check-report.png"; fi

# The load report: a short run of the embedded server, our HTML (inline SVG), rendered offline.
"$H" load --users 4 --run-time 3s --threshold 'query.p99<2s' --report-file "$DIR/load.html" --json "$DIR/load.json" > /dev/null
dom "$DIR/load.html" "$DIR/load.dom"
grep -q '<h1>PASSED' "$DIR/load.dom" && grep -q '<polyline' "$DIR/load.dom" && ! grep -q '<script' "$DIR/load.dom" \
  || { echo "the load report's DOM lacks its verdict or charts"; exit 1; }
shot load "$DIR/load.html" "$DIR/load.png"
if [ "$DOCS" = --docs ]; then cp "$DIR/load.png" docs/load-report.png; echo "stored docs/load-report.png"; fi
