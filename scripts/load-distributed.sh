#!/usr/bin/env bash
# A distributed load run on one machine, by hand: `serve` on a free loopback port, N shards
# (`load --shard K/N`) that provision their users and begin together at one `--start-at`, each
# printing its JSON summary as the last line of stdout (`--json -`, collected with `tail -1` as
# `kubectl logs POD | tail -1` would), then `load merge`, whose summary is printed. An
# independent HdrHistogram implementation (PyPI hdrhistogram, installed by .ci/run) then
# decodes every shard's histograms, adds them, and checks that they equal the merged ones.
# Usage: scripts/load-distributed.sh [path/to/mfa-harness] [N] [RUN_TIME]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
N=${2:-4}
RUN_TIME=${3:-2s}
python3 -c 'import hdrh' 2>/dev/null || { echo "PyPI hdrhistogram is needed: pip install hdrhistogram" >&2; exit 2; }
OUT=$(mktemp -d)
$H serve --listen 127.0.0.1:0 --admin-password 'Shard-pass-1' > "$OUT/url" 2>"$OUT/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
BASE=$(head -1 "$OUT/url")
START=$(( $(date +%s) + 3 + N / 2 ))
echo "$N shards against $BASE, starting at $(date -u -d "@$START" +%FT%TZ)"
PIDS=()
for K in $(seq 0 $((N - 1))); do
  MFA_ADMIN_PASSWORD='Shard-pass-1' $H load --target "$BASE" --domain mfa-harness --admin-name admin \
    --flow create-bind-query --users $((3 * N)) --run-time "$RUN_TIME" --totp-margin 300ms \
    --shard "$K/$N" --start-at "$START" --json - > "$OUT/shard-$K.log" 2>"$OUT/shard-$K.err" &
  PIDS+=($!)
done
for K in $(seq 0 $((N - 1))); do
  if ! wait "${PIDS[$K]}"; then
    echo "shard $K/$N failed:"; cat "$OUT/shard-$K.log" "$OUT/shard-$K.err"; exit 1
  fi
  tail -1 "$OUT/shard-$K.log" > "$OUT/shard-$K.json"
done
sed -n 3p "$OUT/shard-0.log"
$H load merge "$OUT"/shard-*.json --json "$OUT/merged.json" --report-file "$OUT/merged.html"
python3 - "$OUT" "$N" <<'EOF'
import json, math, sys
from hdrh.histogram import HdrHistogram
out, n = sys.argv[1], int(sys.argv[2])
shards = [json.load(open(f"{out}/shard-{k}.json")) for k in range(n)]
merged = json.load(open(f"{out}/merged.json"))
for field in ["flows_completed", "requests", "failed_requests"]:
    assert merged[field] == sum(s[field] for s in shards), field
assert merged["users"] == 3 * n and merged["merged"]["missing"] == []
for step in merged["steps"]:
    total = HdrHistogram(1, 60_000_000, 3)
    for s in shards:
        for own in (x for x in s["steps"] if x["name"] == step["name"]):
            total.add(HdrHistogram.decode(own["histogram"]))
    ours = HdrHistogram.decode(step["histogram"])
    assert total.equals(ours), f"{step['name']}: the merged histogram is not the sum of the shards'"
    assert total.get_total_count() >= step["count"]
    # The merged percentiles, read from hdrh's sum with HdrHistogram's definition (the value
    # whose cumulative count first reaches ceil(q x total), as its bucket's highest value).
    for q, field in [(0.50, "p50_ms"), (0.90, "p90_ms"), (0.99, "p99_ms")]:
        target = max(1, math.ceil(q * total.get_total_count()))
        value = next(i.value_iterated_to for i in total.get_recorded_iterator() if i.total_count_to_this_value >= target)
        value = total.get_highest_equivalent_value(value)
        assert value == round(step["latency"][field] * 1000), f"{step['name']} {field}: {value} us vs {step['latency'][field]} ms"
    print(f"{step['name']:7} {step['count']:7} requests; p50/p90/p99 {step['latency']['p50_ms']:.3f}/"
          f"{step['latency']['p90_ms']:.3f}/{step['latency']['p99_ms']:.3f} ms, as hdrh reads the sum of {n} shards'")
late = [s["shard"]["late_by_s"] for s in shards]
print(f"merged histograms equal the sums of the {n} shards' (PyPI hdrhistogram); shards began "
      f"{min(late):.3f} to {max(late):.3f} s after --start-at")
EOF
echo "load-distributed passed"
