#!/usr/bin/env bash
# Submits a distributed load run (docs/distributed.md): START_AT = now + DELAY seconds (default
# 60) into start-at.env, then `kubectl apply -k` of this folder. Every shard provisions its
# users, waits for START_AT and starts with the others; DELAY must cover pulling the image,
# scheduling and provisioning (a shard that starts late says so in its summary).
# Usage: deploy/kubernetes/submit.sh [DELAY_SECONDS]    (KUBECTL=… for another kubectl)
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
DELAY=${1:-60}
KUBECTL=${KUBECTL:-kubectl}
NS=mfa-harness-load
JOB=mfa-harness-load

[[ $DELAY =~ ^[0-9]+$ ]] || { echo "usage: $0 [DELAY_SECONDS]" >&2; exit 2; }
[ -f "$DIR/credentials.env" ] || {
  echo "no $DIR/credentials.env: copy credentials.env.example to it and fill it in" >&2; exit 2; }
if grep -q '^[A-Z_]*=REPLACE-ME' "$DIR/credentials.env"; then
  echo "$DIR/credentials.env still holds REPLACE-ME placeholders" >&2; exit 2
fi
# A Job's pod template cannot change, and a second run must not mix with the first's logs.
if "$KUBECTL" get job "$JOB" -n "$NS" >/dev/null 2>&1; then
  echo "the previous run's Job $NS/$JOB is still there: collect it (collect.sh), then" \
    "kubectl delete -k $DIR" >&2
  exit 2
fi
START_AT=$(( $(date +%s) + DELAY ))
printf 'START_AT=%s\n' "$START_AT" > "$DIR/start-at.env"
"$KUBECTL" apply -k "$DIR"
echo "shards start at $START_AT ($(date -u -d "@$START_AT" +%FT%TZ 2>/dev/null || date -u -r "$START_AT" +%FT%TZ)); then: $DIR/collect.sh"
