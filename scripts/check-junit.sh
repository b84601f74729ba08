#!/usr/bin/env bash
# Runs `check --format junit` against the embedded server, correct and with a fault, and reads
# the XML back with a real JUnit parser (Python junitparser), comparing its counts with the
# JSON report of the same run. Usage: scripts/check-junit.sh [path/to/mfa-harness]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
python3 -c 'import junitparser' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore junitparser

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
