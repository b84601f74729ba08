#!/usr/bin/env bash
# Throughput of the reference server: wrk against GET /v3.0/OS-MFA/users/{id}/virtual-mfa-device
# (a bound device, the user's own token) on `serve` built in release.
# Usage: scripts/bench-serve.sh [connections=64] [duration=10s]   (needs wrk, oathtool, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-64}; DURATION=${2:-10s}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
command -v oathtool >/dev/null || { echo "oathtool is needed: apt-get install oathtool" >&2; exit 2; }
cargo build --release --quiet
H=target/release/mfa-harness
OUT=$(mktemp -d)
RUST_LOG=warn $H serve --listen 127.0.0.1:0 --admin-password 'Bench-pass1' > "$OUT/url" 2>/dev/null &
SERVE=$!
trap 'kill $SERVE; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
BASE=$(head -1 "$OUT/url")
token() {
  curl -s -D - -o /dev/null "$BASE/v3/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"password\":\"$2\",\"domain\":{\"name\":\"mfa-harness\"}}}},\"scope\":{\"domain\":{\"name\":\"mfa-harness\"}}}}" \
    | tr -d '\r' | awk 'tolower($1)=="x-subject-token:" {print $2}'
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
ADMIN=$(token admin 'Bench-pass1')
DOMAIN_ID=$(curl -s "$BASE/v3/users" -H "X-Auth-Token: $ADMIN" | json '["users"][0]["domain_id"]')
USER_ID=$(curl -s "$BASE/v3.0/OS-USER/users" -H "X-Auth-Token: $ADMIN" -H 'Content-Type: application/json' \
  -d "{\"user\":{\"name\":\"bench\",\"domain_id\":\"$DOMAIN_ID\",\"password\":\"Bench-pass2\"}}" | json '["user"]["id"]')
USER=$(token bench 'Bench-pass2')
CREATED=$(curl -s "$BASE/v3.0/OS-MFA/virtual-mfa-devices" -H "X-Auth-Token: $USER" -H 'Content-Type: application/json' \
  -d "{\"virtual_mfa_device\":{\"name\":\"bench\",\"user_id\":\"$USER_ID\"}}")
SERIAL=$(echo "$CREATED" | json '["virtual_mfa_device"]["serial_number"]')
SEED=$(echo "$CREATED" | json '["virtual_mfa_device"]["base32_string_seed"]')
while [ $(( 30 - $(date +%s) % 30 )) -lt 3 ]; do sleep 1; done
FIRST=$(oathtool --totp -b "$SEED" -N "now - 30 seconds"); SECOND=$(oathtool --totp -b "$SEED")
curl -s -f -X PUT "$BASE/v3.0/OS-MFA/mfa-devices/bind" -H "X-Auth-Token: $USER" -H 'Content-Type: application/json' \
  -d "{\"user_id\":\"$USER_ID\",\"serial_number\":\"$SERIAL\",\"authentication_code_first\":\"$FIRST\",\"authentication_code_second\":\"$SECOND\"}"
URL="$BASE/v3.0/OS-MFA/users/$USER_ID/virtual-mfa-device"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL" -H "X-Auth-Token: $USER")" = 200 ]
echo "wrk -t2 -c$CONNS -d$DURATION --latency GET /v3.0/OS-MFA/users/{id}/virtual-mfa-device on $(nproc) cores"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "X-Auth-Token: $USER" "$URL" | tee "$OUT/wrk"
echo "requests/s: $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk")   median latency: $(awk '$1=="50%" {print $2}' "$OUT/wrk")"
