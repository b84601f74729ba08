#!/usr/bin/env bash
# Wall time of the default `check` (every case against the embedded reference server), release
# build: N runs (default 5), each line the wall time and the report's own figure.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/mfa-harness"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  "$bin" check > /tmp/check-speed.out
  end=$(date +%s.%N)
  printf 'run %d: %.3f s wall  (%s)\n' "$i" "$(echo "$end - $start" | bc)" "$(grep -o 'of [0-9]* cases.*' /tmp/check-speed.out)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
