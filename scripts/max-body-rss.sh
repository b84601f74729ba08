#!/usr/bin/env bash
# Peak RSS of check, load and snapshot against a hostile target that streams an endless
# chunked body, to show that --max-body keeps memory flat (each must stay under 64 MB):
#  (a) on every path: the token request is cut at --max-body and the command exits 3;
#  (b) on the MFA paths only, in front of a real `serve` (tokens and users pass through):
#      every contract case and every measured load request meets an endless answer, is cut,
#      check and load exit 1; snapshot records the cut answers as its first baseline (exit 0).
# Usage: scripts/max-body-rss.sh            (builds the release binary)
#        MFA_HARNESS=path/to/mfa-harness scripts/max-body-rss.sh
# Needs python3 and GNU time (apt-get install -y time). Everything listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y python3 time" >&2; exit 2; }
done
if [ -z "${MFA_HARNESS:-}" ]; then
  cargo build --release --quiet
  MFA_HARNESS=${CARGO_TARGET_DIR:-target}/release/mfa-harness
fi
LIMIT_KB=$((64 * 1024))
OUT=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$OUT"' EXIT

# The hostile server: `all` streams an endless body on every path; `mfa UPSTREAM` does so on
# /v3.0/OS-MFA/… and forwards everything else to UPSTREAM. It prints its URL first.
cat > "$OUT/hostile.py" <<'PY'
import http.client, http.server, sys, urllib.parse
MODE = sys.argv[1]
UPSTREAM = urllib.parse.urlsplit(sys.argv[2]) if len(sys.argv) > 2 else None
CHUNK = b"10000\r\n" + b" " * 0x10000 + b"\r\n"

class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if MODE == "mfa" and not self.path.startswith("/v3.0/OS-MFA"):
            upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=10)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            upstream.request(self.command, self.path, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
            self.send_response(reply.status)
            for k, v in reply.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()
            return
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("content-type", "application/json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            self.wfile.write(b"1\r\n{\r\n")
            while True:
                self.wfile.write(CHUNK)
        except OSError:
            self.close_connection = True
    do_GET = do_POST = do_PUT = do_DELETE = answer

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
server.daemon_threads = True
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
PY

launch() { # launch NAME CMD...: runs CMD in the background (killed on exit), stdout to $OUT/NAME.url
  "${@:2}" > "$OUT/$1.url" 2>/dev/null &
  PIDS+=($!)
}
url_of() { # url_of NAME: the first stdout line of what `launch NAME` started
  for _ in $(seq 100); do [ -s "$OUT/$1.url" ] && break; sleep 0.1; done
  head -1 "$OUT/$1.url"
}
launch serve env RUST_LOG=warn "$MFA_HARNESS" serve --listen 127.0.0.1:0 --admin-password 'Rss-pass-1'
launch all python3 "$OUT/hostile.py" all
SERVE=$(url_of serve)
launch mfa python3 "$OUT/hostile.py" mfa "$SERVE"
ALL=$(url_of all)
MFA=$(url_of mfa)

failed=0
measure() { # measure LABEL EXPECTED_EXIT ARGS...: prints exit code, wall time and peak RSS
  local label=$1 expected=$2; shift 2
  local started=$SECONDS code=0
  /usr/bin/time -v -o "$OUT/time" "$MFA_HARNESS" "$@" > "$OUT/stdout" 2> "$OUT/stderr" || code=$?
  local kb; kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$OUT/time")
  local verdict=ok
  if [ "$code" != "$expected" ] || [ "$kb" -ge "$LIMIT_KB" ]; then verdict=FAILED; failed=1; fi
  printf '%-34s exit %s (expected %s)  %3ss  peak RSS %6.1f MB  %s\n' "$label" "$code" "$expected" \
    $((SECONDS - started)) "$(awk -v kb="$kb" 'BEGIN {print kb / 1024}')" "$verdict"
  if [ "$verdict" = FAILED ]; then sed 's/^/    /' "$OUT/stderr" | tail -5; fi
  grep -m1 -o "exceeds [0-9]* bytes" "$OUT/stdout" "$OUT/stderr" | head -1 | sed 's/^[^:]*:/    first: /' || true
}

SNAP=$OUT/snapshots
echo "mfa-harness $("$MFA_HARNESS" --version | cut -d' ' -f2) · --max-body 1MiB (default) · --timeout 5s · limit 64 MB"
echo "(a) endless body on every path: $ALL"
CREDS=(--target "$ALL" --domain d --admin-name a --admin-password 'Hostile-pass-1' --timeout 5s)
measure "check" 3 check "${CREDS[@]}"
measure "load --run-time 2s" 3 load --users 4 --run-time 2s "${CREDS[@]}"
measure "snapshot" 3 snapshot --dir "$SNAP" "${CREDS[@]}"
echo "(b) endless body on the MFA paths, identity calls proxied to serve: $MFA"
CREDS=(--target "$MFA" --domain mfa-harness --admin-name admin --admin-password 'Rss-pass-1' --timeout 5s)
measure "check (every case)" 1 check "${CREDS[@]}"
measure "load --users 4 --run-time 2s" 1 load --users 4 --run-time 2s --totp-margin 300ms "${CREDS[@]}"
measure "load --client goose --run-time 2s" 1 load --client goose --users 4 --run-time 2s --totp-margin 300ms "${CREDS[@]}"
measure "snapshot (every case, baseline)" 0 snapshot --dir "$SNAP" "${CREDS[@]}"
exit $failed
