#!/usr/bin/env bash
# A real API client against `serve`: Schemathesis (PyPI) generates requests from our own
# OpenAPI document and checks every answer of the reference server against it.
# Usage: scripts/schemathesis.sh [path/to/mfa-harness] [max-examples=30]
set -euo pipefail
H=${1:-target/debug/mfa-harness}; N=${2:-30}
command -v schemathesis >/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore schemathesis
OUT=$(mktemp -d)
"$H" openapi --output "$OUT/openapi.json"
RUST_LOG=warn "$H" serve --listen 127.0.0.1:0 --admin-password 'Schema-pass1' > "$OUT/url" 2>/dev/null &
SERVE=$!
trap 'kill $SERVE; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
BASE=$(head -1 "$OUT/url")
ADMIN=$(curl -s -D - -o /dev/null "$BASE/v3/auth/tokens" -H 'Content-Type: application/json' \
  -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","password":"Schema-pass1","domain":{"name":"mfa-harness"}}}}}}' \
  | tr -d '\r' | awk 'tolower($1)=="x-subject-token:" {print $2}')
schemathesis run "$OUT/openapi.json" --url "$BASE" -H "X-Auth-Token: $ADMIN" --max-examples "$N" --seed 1 --no-color
