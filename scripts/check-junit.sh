#!/usr/bin/env bash
# Runs `check --format junit` against the embedded server, correct and with a fault, and reads
# the XML back with a real JUnit parser (Python junitparser), comparing its counts with the
# JSON report of the same run. Then two consumers render the XML of a run with failures (`must`)
# and warnings (`should`, in <system-out>): junit2html (PyPI) to HTML, xunit-viewer (npm) to
# its console view; every finding of the run's JSON report, with its case id, must show in
# both. Usage: scripts/check-junit.sh [path/to/mfa-harness]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
python3 -c 'import junitparser' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore junitparser
command -v junit2html >/dev/null || python3 -m pip install --quiet --root-user-action=ignore junit2html==31.1.4
XUNIT_VIEWER=xunit-viewer@10.6.1

run() {  # run NAME EXPECTED_EXIT ARGS...
  local name=$1 expected=$2; shift 2
  set +e
  "$H" check "$@" --format junit --output "$DIR/$name.xml" > "$DIR/$name.txt"
  local rc=$?
  set -e
  [ "$rc" = "$expected" ] || { echo "check $* exited $rc, expected $expected"; cat "$DIR/$name.txt"; exit 1; }
}
run correct 0
run faulty 1 --fault query-missing-serial --fault list-allows-non-admin

python3 - "$DIR" <<'PY'
import sys, re
from junitparser import JUnitXml, Failure, Error, Skipped
d = sys.argv[1]
for name, want_failed in (("correct", set()), ("faulty", {"query.success", "list.forbids-non-admin"})):
    xml = JUnitXml.fromfile(f"{d}/{name}.xml")
    cases = [c for suite in xml for c in suite]
    failed = {c.name for c in cases if any(isinstance(r, Failure) for r in c.result)}
    errors = {c.name for c in cases if any(isinstance(r, Error) for r in c.result)}
    text = open(f"{d}/{name}.txt").read()
    m = re.search(r"(\d+) passed, (\d+) failed, (\d+) warned, (\d+) errors, (\d+) skipped of (\d+) cases", text)
    assert m, text
    passed, nfailed, warned, nerrors, skipped, total = map(int, m.groups())
    assert len(cases) == total >= 40, (len(cases), total)
    assert len(failed) == nfailed and len(errors) == nerrors, (failed, errors, m.groups())
    assert want_failed <= failed, (want_failed, failed)
    if name == "correct":
        assert not failed and not errors, (failed, errors)
    print(f"junit {name}: {len(cases)} testcases, {len(failed)} failures, {len(errors)} errors: ok")
PY

# The consumers: one run, its JUnit XML and its JSON report (--report), failures and warnings.
set +e
"$H" check --fault query-missing-serial --fault bind-accepts-non-consecutive --seed 7 --format junit \
  --output "$DIR/shown.xml" --report "json:$DIR/shown.json" > /dev/null
rc=$?
set -e
[ "$rc" = 1 ] || { echo "check with two faults exited $rc, expected 1"; exit 1; }
junit2html "$DIR/shown.xml" "$DIR/junit2html.html"
# xunit-viewer's HTML page parses the XML in the browser (it embeds it compressed and
# base64-encoded); its console view is the same parser's rendering as text.
npx --yes "$XUNIT_VIEWER" --results "$DIR/shown.xml" --output "$DIR/xunit-viewer.html" > /dev/null
npx --yes "$XUNIT_VIEWER" --results "$DIR/shown.xml" --console --output /dev/null > "$DIR/xunit-viewer.txt"
python3 - "$DIR" <<'PY'
import html, json, re, sys
d = sys.argv[1]
report = json.load(open(f"{d}/shown.json"))
findings = [(c["id"], f["severity"], f["message"]) for c in report["cases"] for f in c.get("findings", [])]
severities = {s for _, s, _ in findings}
assert {"must", "should"} <= severities, severities
page = open(f"{d}/xunit-viewer.html", encoding="utf-8").read()
assert re.search(r'window\.files = \[\{"file":"[^"]*shown\.xml","contents":"[A-Za-z0-9+/=]{1000,}"', page), "xunit-viewer's page embeds the report"
for tool, file in (("junit2html", "junit2html.html"), ("xunit-viewer", "xunit-viewer.txt")):
    shown = html.unescape(open(f"{d}/{file}", encoding="utf-8").read())
    missing = [(case, severity, message) for case, severity, message in findings if case not in shown or message not in shown]
    assert not missing, f"{tool} does not show {len(missing)} finding(s): {missing[:3]}"
    print(f"{tool}: all {len(findings)} findings shown ({', '.join(sorted(severities))}), with their case ids")
PY
