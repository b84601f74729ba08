#!/usr/bin/env bash
# The README's curl walk-through, runnable: serve on a free loopback port, then
# create a user, a device, bind it with codes from oathtool (an independent TOTP tool),
# query, list, unbind and delete it. Usage: scripts/walkthrough.sh [path/to/mfa-harness]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
command -v oathtool >/dev/null || { echo "oathtool is needed: apt-get install oathtool" >&2; exit 2; }
# 1. start the reference server
OUT=$(mktemp -d)
$H serve --listen 127.0.0.1:0 --admin-password 'Adm1n-pass' > "$OUT/url" 2>"$OUT/log" &
SERVE=$!
trap 'kill $SERVE; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
BASE=$(head -1 "$OUT/url")
# bind needs codes of the previous and the current 30-s step: stay clear of a step boundary
while [ $(( 30 - $(date +%s) % 30 )) -lt 3 ]; do sleep 1; done
token() {  # token NAME PASSWORD → prints the X-Subject-Token
  curl -s -D - -o /dev/null "$BASE/v3/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"password\":\"$2\",\"domain\":{\"name\":\"mfa-harness\"}}}},\"scope\":{\"domain\":{\"name\":\"mfa-harness\"}}}}" \
    | tr -d '\r' | awk 'tolower($1)=="x-subject-token:" {print $2}'
}
ADMIN=$(token admin 'Adm1n-pass')
DOMAIN_ID=$(curl -s "$BASE/v3/users" -H "X-Auth-Token: $ADMIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"][0]["domain_id"])')
# 2. an IAM user and its token
ALICE_ID=$(curl -s "$BASE/v3.0/OS-USER/users" -H "X-Auth-Token: $ADMIN" -H 'Content-Type: application/json' \
  -d "{\"user\":{\"name\":\"alice\",\"domain_id\":\"$DOMAIN_ID\",\"password\":\"Alice-pass1\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')
ALICE=$(token alice 'Alice-pass1')
# 3. create a device
CREATED=$(curl -s "$BASE/v3.0/OS-MFA/virtual-mfa-devices" -H "X-Auth-Token: $ALICE" -H 'Content-Type: application/json' \
  -d "{\"virtual_mfa_device\":{\"name\":\"alice-phone\",\"user_id\":\"$ALICE_ID\"}}")
SERIAL=$(echo "$CREATED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual_mfa_device"]["serial_number"])')
SEED=$(echo "$CREATED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual_mfa_device"]["base32_string_seed"])')
echo "serial $SERIAL"
# 4. bind with two consecutive codes (previous and current 30-s step), from oathtool
FIRST=$(oathtool --totp -b "$SEED" -N "now - 30 seconds"); SECOND=$(oathtool --totp -b "$SEED")
OURS=$($H totp --seed "$SEED" --only bind)
echo "mfa-harness totp: $OURS   oathtool: $FIRST $SECOND"; [ "$OURS" = "$FIRST $SECOND" ]
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$BASE/v3.0/OS-MFA/mfa-devices/bind" -H "X-Auth-Token: $ALICE" -H 'Content-Type: application/json' \
  -d "{\"user_id\":\"$ALICE_ID\",\"serial_number\":\"$SERIAL\",\"authentication_code_first\":\"$FIRST\",\"authentication_code_second\":\"$SECOND\"}")
echo "bind $STATUS"; [ "$STATUS" = 204 ]
# 5. query (the user itself), list (administrators only)
Q=$(curl -s "$BASE/v3.0/OS-MFA/users/$ALICE_ID/virtual-mfa-device" -H "X-Auth-Token: $ALICE")
echo "query: $Q"
echo "$Q" | grep -q "\"serial_number\":\"$SERIAL\"" && echo "$Q" | grep -q "\"user_id\":\"$ALICE_ID\""
L=$(curl -s "$BASE/v3.0/OS-MFA/virtual-mfa-devices" -H "X-Auth-Token: $ADMIN")
echo "list: $L"; echo "$L" | grep -q "$SERIAL"
DENIED=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v3.0/OS-MFA/virtual-mfa-devices" -H "X-Auth-Token: $ALICE")
echo "list as alice: $DENIED"; [ "$DENIED" = 403 ]
# 6. unbind (an administrator's code is not verified) and delete
U=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$BASE/v3.0/OS-MFA/mfa-devices/unbind" -H "X-Auth-Token: $ADMIN" \
  -H 'Content-Type: application/json' \
  -d "{\"user_id\":\"$ALICE_ID\",\"authentication_code\":\"000000\",\"serial_number\":\"$SERIAL\"}")
echo "unbind $U"; [ "$U" = 204 ]
D=$(curl -s -o /dev/null -w '%{http_code}' -G -X DELETE "$BASE/v3.0/OS-MFA/virtual-mfa-devices" -H "X-Auth-Token: $ADMIN" \
  --data-urlencode "user_id=$ALICE_ID" --data-urlencode "serial_number=$SERIAL")
echo "delete $D"; [ "$D" = 204 ]
FINAL=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v3.0/OS-MFA/users/$ALICE_ID/virtual-mfa-device" -H "X-Auth-Token: $ALICE")
echo "query after delete $FINAL"; [ "$FINAL" = 404 ]
echo "walk-through passed"
