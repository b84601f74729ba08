#!/usr/bin/env bash
# Scrapes `load --metrics-listen` twice while a run goes and reads each scrape with a real
# parser (PyPI prometheus_client: its strict OpenMetrics parser and its Prometheus text parser).
# Checks the families are there, the counters rise between the scrapes, the histograms are
# cumulative, and the contract violations of a faulty target show up by reason; and that
# `--progress plain` printed its lines. Usage: scripts/check-metrics.sh [path/to/mfa-harness]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
python3 -c 'import prometheus_client' 2>/dev/null \
  || python3 -m pip install --quiet --root-user-action=ignore prometheus_client
python3 - "$H" <<'PY'
import re, subprocess, sys, time, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as prometheus

harness = sys.argv[1]
run = subprocess.Popen(
    [harness, "load", "--users", "4", "--run-time", "6s", "--fault", "query-missing-serial",
     "--metrics-listen", "127.0.0.1:0", "--progress", "plain", "--progress-interval", "2s"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    first = run.stderr.readline()
    found = re.search(r"http://(127\.0\.0\.1:\d+)/metrics", first)
    assert found, f"no metrics address on stderr: {first!r}"
    url = f"http://{found.group(1)}/metrics"

    def scrape():
        with urllib.request.urlopen(url, timeout=5) as answer:
            kind = answer.headers["Content-Type"]
            assert kind.startswith("application/openmetrics-text; version=1.0.0"), kind
            return answer.read().decode()

    def samples(text):
        families = {f.name: f for f in openmetrics(text)}  # strict: raises on any error
        assert {f.name for f in prometheus(text)} >= {"mfa_harness_users"}, "the Prometheus parser reads it too"
        return families

    time.sleep(2.5)
    one = samples(scrape())
    time.sleep(2)
    two = samples(scrape())
finally:
    out, err = run.communicate(timeout=60)
assert run.returncode == 1, f"a faulty target fails the run, got {run.returncode}: {out}{err}"

def total(families, name, **labels):
    return sum(s.value for s in families[name].samples
               if s.name.endswith("_total") and all(s.labels.get(k) == v for k, v in labels.items()))

for name in ("mfa_harness_requests", "mfa_harness_flows", "mfa_harness_violations",
             "mfa_harness_request_duration_seconds", "mfa_harness_users", "mfa_harness_totp_window_retries"):
    assert name in one and name in two, f"{name} missing: {sorted(one)}"
for labels in ({"step": "create", "status": "201", "outcome": "ok"}, {"step": "query", "outcome": "violation"}):
    a, b = total(one, "mfa_harness_requests", **labels), total(two, "mfa_harness_requests", **labels)
    assert 0 < a < b, f"requests {labels} did not rise: {a} then {b}"
    print(f"requests{labels}: {a:.0f} then {b:.0f}")
a, b = total(one, "mfa_harness_violations", step="query"), total(two, "mfa_harness_violations", step="query")
assert 0 < a < b, f"violations did not rise: {a} then {b}"
reasons = {s.labels["reason"] for s in two["mfa_harness_violations"].samples}
assert any("serial_number" in r for r in reasons), reasons
users = two["mfa_harness_users"].samples[0].value
assert users == 4, users
buckets = [s for s in two["mfa_harness_request_duration_seconds"].samples
           if s.name.endswith("_bucket") and s.labels["step"] == "bind"]
counts = [s.value for s in buckets]
assert counts == sorted(counts) and buckets[-1].labels["le"] == "+Inf", counts
count = next(s.value for s in two["mfa_harness_request_duration_seconds"].samples
             if s.name.endswith("_count") and s.labels["step"] == "bind")
assert counts[-1] == count > 0, (counts, count)
progress = [l for l in err.splitlines() if l.startswith("progress: ")]
assert len(progress) >= 2, f"--progress plain printed {progress}"
print(f"2 scrapes parsed (OpenMetrics and Prometheus parsers), counters rise; {len(progress)} plain progress lines")
PY
