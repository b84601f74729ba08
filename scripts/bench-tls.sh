#!/usr/bin/env bash
# What TLS costs `load`: the same `load --flow query-only` (same users, same run time) against
# a release `serve` over plain HTTP and over HTTPS (`serve --tls-cert`, a CA and server
# certificate made here with openssl; `load --ca-cert`), with the default client
# (`connection`: one keep-alive connection per user, tokio-rustls for https) and with
# `--client goose`. Prints requests/s and p50/p99 for each. Not run in CI.
# Usage: scripts/bench-tls.sh BINARY [users=64] [seconds=10]
# Needs openssl and python3. serve and load share this machine's CPUs.
set -euo pipefail
H=${1:?usage: scripts/bench-tls.sh BINARY [users] [seconds]}
USERS=${2:-64}; SECS=${3:-10}
for tool in openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y $tool" >&2; exit 2; }
done
OUT=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$OUT"' EXIT

# A CA and a server certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$OUT/ca.key" -out "$OUT/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$OUT/server.key" -out "$OUT/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$OUT/ext"
openssl x509 -req -in "$OUT/server.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial -days 2 \
  -extfile "$OUT/ext" -out "$OUT/server.pem" 2>/dev/null

start() { # name, serve args…
  local name=$1; shift
  RUST_LOG=warn "$H" serve --listen 127.0.0.1:0 --admin-password 'Bench-pass1' "$@" > "$OUT/$name.url" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 50); do [ -s "$OUT/$name.url" ] && break; sleep 0.1; done
  head -1 "$OUT/$name.url"
}
PLAIN=$(start plain)
TLS=$(start tls --tls-cert "$OUT/server.pem" --tls-key "$OUT/server.key")
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" < "$2"; }
echo "machine: $(nproc) CPUs, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load --flow query-only --users $USERS --run-time ${SECS}s"
for client in connection goose; do
  for target in "$PLAIN" "$TLS"; do
    name=$(echo "$target" | cut -d: -f1)-$client
    rc=0
    "$H" load --target "$target" --domain mfa-harness --admin-name admin --admin-password Bench-pass1 \
      --ca-cert "$OUT/ca.pem" --flow query-only --client "$client" --users "$USERS" --run-time "${SECS}s" \
      --json "$OUT/$name.json" > "$OUT/$name.txt" || rc=$?
    [ "$rc" -le 1 ] || { echo "load against $target failed with exit $rc" >&2; cat "$OUT/$name.txt" >&2; exit 3; }
    printf '%-6s %-10s %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms  failed %s  exit %s\n' \
      "${target%%:*}" "$client" "$(json 'd["requests_per_second"]' "$OUT/$name.json")" \
      "$(json 'd["all"]["p50_ms"]' "$OUT/$name.json")" "$(json 'd["all"]["p99_ms"]' "$OUT/$name.json")" \
      "$(json 'd["failed_requests"]' "$OUT/$name.json")" "$rc"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine skew every figure)"
