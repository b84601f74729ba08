#!/usr/bin/env bash
# Load-generator figures, measured in one run on this machine against a release `serve`
# (not run in CI):
#  (a) `load --flow query-only` req/s vs wrk req/s, same connection count, same endpoint
#      (and the same with `--client goose`, goose's reqwest client, for comparison);
#  (a1) the same with one thread each: wrk -t1 and `load --threads 1`;
#  (b) `lifecycle` flows/s;
#  (c) peak RSS of `load --users 1000`;
#  and for (a) and (a1): requests per generator CPU-second (user + system time of the generator process,
#  from GNU time) for wrk and for `load`: the leaner the generator, the more of the machine is
#  left to the target. `load`'s CPU includes provisioning its users and the summary.
# Usage: scripts/bench-load.sh [connections=64] [seconds=10] [runs=1]
# runs > 1 repeats (a) and (a1), wrk and load interleaved, and prints their medians as well.
# Needs wrk, curl, python3 and GNU time (apt-get install -y wrk time).
# serve runs on this host with this clock, so binds need only a short TOTP margin (300ms);
# see docs/load.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-64}; SECS=${2:-10}; RUNS=${3:-1}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "runs must be a positive number, not $RUNS" >&2; exit 2; }
for tool in wrk curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y wrk curl python3 time" >&2; exit 2; }
done
cargo build --release --quiet
H=${CARGO_TARGET_DIR:-target}/release/mfa-harness
OUT=$(mktemp -d)
RUST_LOG=warn "$H" serve --listen 127.0.0.1:0 --admin-password 'Bench-pass1' > "$OUT/url" 2>/dev/null &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
BASE=$(head -1 "$OUT/url")
LOAD=(load --target "$BASE" --domain mfa-harness --admin-name admin --admin-password Bench-pass1 --totp-margin 300ms)
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
echo "machine: $(nproc) CPUs, $(uname -sr); serve, wrk and load share them; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# (a) wrk against the query of one bound device, then load query-only with as many users
token() {
  curl -s -D - -o /dev/null "$BASE/v3/auth/tokens?nocatalog=true" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"password\":\"$2\",\"domain\":{\"name\":\"mfa-harness\"}}}},\"scope\":{\"domain\":{\"name\":\"mfa-harness\"}}}}" \
    | tr -d '\r' | awk 'tolower($1)=="x-subject-token:" {print $2}'
}
ADMIN=$(token admin Bench-pass1)
DOMAIN_ID=$(curl -s "$BASE/v3/users" -H "X-Auth-Token: $ADMIN" | json '["users"][0]["domain_id"]')
USER_ID=$(curl -s "$BASE/v3.0/OS-USER/users" -H "X-Auth-Token: $ADMIN" -H 'Content-Type: application/json' \
  -d "{\"user\":{\"name\":\"wrk\",\"domain_id\":\"$DOMAIN_ID\",\"password\":\"Bench-pass2\"}}" | json '["user"]["id"]')
USER=$(token wrk Bench-pass2)
CREATED=$(curl -s "$BASE/v3.0/OS-MFA/virtual-mfa-devices" -H "X-Auth-Token: $USER" -H 'Content-Type: application/json' \
  -d "{\"virtual_mfa_device\":{\"name\":\"wrk\",\"user_id\":\"$USER_ID\"}}")
SERIAL=$(echo "$CREATED" | json '["virtual_mfa_device"]["serial_number"]')
SEED=$(echo "$CREATED" | json '["virtual_mfa_device"]["base32_string_seed"]')
while [ $(( 30 - $(date +%s) % 30 )) -lt 3 ]; do sleep 1; done
read -r FIRST SECOND < <(MFA_TOTP_SEED="$SEED" "$H" totp --only bind)
curl -s -f -X PUT "$BASE/v3.0/OS-MFA/mfa-devices/bind" -H "X-Auth-Token: $USER" -H 'Content-Type: application/json' \
  -d "{\"user_id\":\"$USER_ID\",\"serial_number\":\"$SERIAL\",\"authentication_code_first\":\"$FIRST\",\"authentication_code_second\":\"$SECOND\"}"
# requests per CPU-second: per_cpu REQUESTS CPU_FILE (GNU time's "user system")
# (GNU time adds a "Command exited with non-zero status" line first when it did: the last line counts)
per_cpu() { tail -1 "$2" | awk -v n="$1" '{ cpu = $1 + $2; if (cpu > 0) printf "%.0f", n / cpu; else print "n/a" }'; }
cpu_s() { tail -1 "$1" | awk '{print $1 + $2}'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# A run that found violations or missed a threshold exits 1; its figures are still printed.
run() { local out=$1 rc=0; shift; "$@" > "$out" || rc=$?; [ "$rc" -le 1 ] || { echo "$* failed with exit $rc" >&2; exit 3; }; echo "$rc"; }
# RUNS rounds of two pairs, interleaved: wrk -t2 then `load` (its default, a worker thread
# per CPU), wrk -t1 then `load --threads 1` (one thread each: the like-for-like figure when the
# target shares the machine). This machine drifts by ±15% from one minute to the next, so one
# pair cannot show a 10% change; the medians are the figures to quote.
declare -A RPS CPU
WRK="" # the last wrk -t2 req/s, for (a')
pair() { # pair LABEL WRK_THREADS [load flags...]: one wrk run and one load run
  local label=$1 threads=$2 i=$3; shift 3
  /usr/bin/time -f '%U %S' -o "$OUT/wrk.cpu" wrk -t"$threads" -c"$CONNS" -d"${SECS}s" -H "X-Auth-Token: $USER" \
    "$BASE/v3.0/OS-MFA/users/$USER_ID/virtual-mfa-device" > "$OUT/wrk"
  local wrk wrk_n q q_n qrc
  wrk=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk")
  wrk_n=$(awk '/requests in/ {print $1}' "$OUT/wrk")
  qrc=$(run "$OUT/q.txt" /usr/bin/time -f '%U %S' -o "$OUT/q.cpu" "$H" "${LOAD[@]}" --flow query-only --users "$CONNS" \
    --run-time "${SECS}s" --progress none --json "$OUT/q.json" "$@")
  q=$(json '["requests_per_second"]' < "$OUT/q.json")
  q_n=$(json '["requests"]' < "$OUT/q.json")
  echo "($label) run $i/$RUNS, query, $CONNS connections, ${SECS}s: wrk -t$threads $wrk req/s · mfa-harness load query-only $* $(printf %.0f "$q") req/s (failed $(json '["failed_requests"]' < "$OUT/q.json"), p99 $(json '["all"]["p99_ms"]' < "$OUT/q.json") ms) · ratio $(python3 -c "print(round($q/$wrk, 3))") · exit $qrc"
  echo "($label) run $i/$RUNS, requests per generator CPU-second: wrk -t$threads $(per_cpu "$wrk_n" "$OUT/wrk.cpu") ($wrk_n requests, $(cpu_s "$OUT/wrk.cpu") s CPU) · load $* $(per_cpu "$q_n" "$OUT/q.cpu") ($q_n requests, $(cpu_s "$OUT/q.cpu") s CPU, every answer validated)"
  RPS[$label.wrk]+=" $wrk"; RPS[$label.load]+=" $q"
  if [ "$label" = a ]; then WRK=$wrk; fi
  CPU[$label.wrk]+=" $(per_cpu "$wrk_n" "$OUT/wrk.cpu")"; CPU[$label.load]+=" $(per_cpu "$q_n" "$OUT/q.cpu")"
}
for i in $(seq "$RUNS"); do
  pair a 2 "$i"
  pair a1 1 "$i" --threads 1
done
if [ "$RUNS" -gt 1 ]; then
  for label in a a1; do
    W_MED=$(echo "${RPS[$label.wrk]}" | median); Q_MED=$(echo "${RPS[$label.load]}" | median)
    WC_MED=$(echo "${CPU[$label.wrk]}" | median); QC_MED=$(echo "${CPU[$label.load]}" | median)
    echo "($label) median of $RUNS: req/s wrk $(printf %.0f "$W_MED") · load $(printf %.0f "$Q_MED") (ratio $(python3 -c "print(round($Q_MED/$W_MED, 3))")) · req per generator CPU-second wrk $(printf %.0f "$WC_MED") · load $(printf %.0f "$QC_MED") (ratio $(python3 -c "print(round($QC_MED/$WC_MED, 3))"))"
  done
fi
# the same through goose's own reqwest client, for comparison (scripts/bench-tls.sh: the same over TLS)
GRC=$(run "$OUT/g.txt" "$H" "${LOAD[@]}" --flow query-only --client goose --users "$CONNS" --run-time "${SECS}s" --progress none --json "$OUT/g.json")
G=$(json '["requests_per_second"]' < "$OUT/g.json")
echo "(a') the same with --client goose: $(printf %.0f "$G") req/s (failed $(json '["failed_requests"]' < "$OUT/g.json"), p99 $(json '["all"]["p99_ms"]' < "$OUT/g.json") ms) · ratio $(python3 -c "print(round($G/$WRK, 3))") · exit $GRC"

# (b) lifecycle flows/s
LRC=$(run "$OUT/l.txt" "$H" "${LOAD[@]}" --flow lifecycle --users "$CONNS" --run-time "${SECS}s" --progress none --json "$OUT/l.json")
echo "(b) lifecycle, $CONNS users, ${SECS}s: $(json '["flows_per_second"]' < "$OUT/l.json" | xargs printf %.1f) flows/s, $(json '["requests_per_second"]' < "$OUT/l.json" | xargs printf %.0f) req/s, p99 $(json '["all"]["p99_ms"]' < "$OUT/l.json") ms, failed $(json '["failed_requests"]' < "$OUT/l.json"), totp-window $(json '["totp_window_retries"]' < "$OUT/l.json"), exit $LRC"

# (c) peak RSS with 1,000 users (the harness process only; the server is separate)
MRC=$(run "$OUT/m.txt" /usr/bin/time -v -o "$OUT/time" "$H" "${LOAD[@]}" --flow create-bind-query --users 1000 \
  --increase-rate 500 --run-time "${SECS}s" --progress none --json "$OUT/m.json")
echo "(c) load --users 1000, create-bind-query, ${SECS}s: peak RSS $(awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2/1024}' "$OUT/time"), $(json '["flows_per_second"]' < "$OUT/m.json" | xargs printf %.1f) flows/s, failed $(json '["failed_requests"]' < "$OUT/m.json"), exit $MRC"
for f in q l m; do grep -A20 '^contract violations' "$OUT/$f.txt" || true; done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine skew every figure)"
