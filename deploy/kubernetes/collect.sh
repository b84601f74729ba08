#!/usr/bin/env bash
# Collects a distributed load run (docs/distributed.md): waits until the Job has finished,
# writes each shard's JSON summary — the last JSON line of its pod's log — to OUT/shard-K.json,
# then merges them: `mfa-harness load merge OUT/shard-*.json --json OUT/merged.json
# --report-file OUT/merged.html MERGE_OPTIONS…` (e.g. --threshold 'bind.p95<50ms'), whose
# exit code (0 passed, 1 a threshold or the contract violated) is this script's.
# Usage: deploy/kubernetes/collect.sh [OUT=results] [MERGE_OPTIONS…]
#   KUBECTL=… another kubectl; MFA_HARNESS=… the binary that merges (default mfa-harness);
#   COLLECT_TIMEOUT=seconds to wait for the Job (default 7500, past its activeDeadlineSeconds).
set -euo pipefail
OUT=results
if [ $# -gt 0 ] && [[ $1 != -* ]]; then OUT=$1; shift; fi
KUBECTL=${KUBECTL:-kubectl}
H=${MFA_HARNESS:-mfa-harness}
TIMEOUT=${COLLECT_TIMEOUT:-7500}
NS=mfa-harness-load
JOB=mfa-harness-load
mkdir -p "$OUT"

N=$("$KUBECTL" get job "$JOB" -n "$NS" -o jsonpath='{.spec.completions}')
deadline=$((SECONDS + TIMEOUT))
while :; do
  done_as=$("$KUBECTL" get job "$JOB" -n "$NS" \
    -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}' | grep -xE 'Complete|Failed' || true)
  [ -n "$done_as" ] && break
  (( SECONDS < deadline )) || { echo "the Job $NS/$JOB has not finished after ${TIMEOUT}s" >&2; exit 3; }
  sleep 10
done
echo "job $NS/$JOB: $done_as ($N shards)"

missing=()
while read -r pod index code; do
  file="$OUT/shard-$index.json"
  if [ -s "$file" ]; then
    echo "shard $index: more than one pod; kept the summary of the first, not $pod's" >&2
    continue
  fi
  "$KUBECTL" logs -n "$NS" "$pod" -c load > "$OUT/shard-$index.log"
  grep '^{' "$OUT/shard-$index.log" | tail -n 1 > "$file" || true
  if [ -s "$file" ]; then
    echo "shard $index: $pod exited ${code:-?}, summary in $file"
  else
    rm -f "$file"
    missing+=("$index")
    echo "shard $index: $pod exited ${code:-?} without a summary; the end of its log ($OUT/shard-$index.log):" >&2
    tail -n 5 "$OUT/shard-$index.log" >&2
  fi
done < <("$KUBECTL" get pods -n "$NS" -l "batch.kubernetes.io/job-name=$JOB" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{" "}{.status.containerStatuses[0].state.terminated.exitCode}{"\n"}{end}')

for ((k = 0; k < N; k++)); do
  [ -s "$OUT/shard-$k.json" ] || [[ " ${missing[*]} " == *" $k "* ]] || missing+=("$k")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "no summary from shard(s) ${missing[*]} of $N: not merging a partial run" \
    "(merge the others by hand if that is what you want: $H load merge --partial $OUT/shard-*.json)" >&2
  exit 3
fi
set -x
exec "$H" load merge "$OUT"/shard-*.json --json "$OUT/merged.json" --report-file "$OUT/merged.html" "$@"
