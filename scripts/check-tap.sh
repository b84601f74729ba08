#!/usr/bin/env bash
# Runs `check --format tap` against the embedded server, correct and with faults, and reads it
# back with a real TAP parser (PyPI tap.py, with its YAML support), comparing it with the JSON
# report of the same target: test points, failures, skips, and every finding in the YAML
# blocks. Usage: scripts/check-tap.sh [path/to/mfa-harness]
set -euo pipefail
H=${1:-target/debug/mfa-harness}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
python3 -c 'import tap, yaml, more_itertools' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore 'tap.py[yaml]'

run() {  # run NAME EXPECTED_EXIT ARGS...
  local name=$1 expected=$2; shift 2
  set +e
  "$H" check "$@" --seed 7 --format tap --output "$DIR/$name.tap" > /dev/null
  local rc=$?
  "$H" check "$@" --seed 7 --format json --output "$DIR/$name.json" > /dev/null
  set -e
  [ "$rc" = "$expected" ] || { echo "check $* --format tap exited $rc, expected $expected"; exit 1; }
}
run correct 0
run faulty 1 --fault query-missing-serial --fault list-allows-non-admin --fault json-content-type-missing

python3 - "$DIR" <<'PY'
import json, sys
from tap.parser import Parser
d = sys.argv[1]
for name in ("correct", "faulty"):
    report = json.load(open(f"{d}/{name}.json"))
    lines = list(Parser().parse_text(open(f"{d}/{name}.tap").read()))
    version = [l for l in lines if l.category == "version"]
    plan = [l for l in lines if l.category == "plan"]
    points = [l for l in lines if l.category == "test"]
    unknown = [l for l in lines if l.category == "unknown"]
    assert version and version[0].version == 13, "no TAP version 13 line"
    assert plan and plan[0].expected_tests == len(points), (plan, len(points))
    assert not unknown, [str(l) for l in unknown[:5]]
    cases = {c["id"]: c for c in report["cases"]}
    assert len(points) == len(cases), (len(points), len(cases))
    for p in points:
        case = cases[p.description.lstrip("- ").strip()]
        failing = case["status"] in ("failed", "error")
        assert p.ok != failing, (p.description, case["status"])
        assert p.skip == (case["status"] == "skipped"), p.description
        block = p.yaml_block or {}
        found = block.get("findings", [])
        assert len(found) == len(case["findings"]), (p.description, len(found), len(case["findings"]))
        for f, g in zip(found, case["findings"]):
            # Two runs (fresh ids in the messages): the same checks at the same steps.
            assert (f["severity"], f["check"], f["step"]) == (g["severity"], g["check"], g["step"]), (f, g)
    failed = sum(1 for p in points if not p.ok)
    with_should = sum(1 for p in points if p.ok and any(f["severity"] != "must" for f in (p.yaml_block or {}).get("findings", [])))
    print(f"tap {name}: {len(points)} test points, {failed} not ok, {with_should} passing with should/open findings shown: ok")
    if name == "faulty":
        assert failed >= 2 and with_should > 0, (failed, with_should)
PY
