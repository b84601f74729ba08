#!/usr/bin/env bash
# Runs the `run:` steps of .github/workflows/contract.yml (the README's CI recipe) here, as a
# GitHub runner would (RUNNER_TEMP, GITHUB_PATH, the job's env; `uses:` steps are GitHub's
# own and are skipped), and checks the JUnit report it leaves. Usage: scripts/ci-recipe.sh
set -euo pipefail
cd "$(dirname "$0")/.."
workflow=.github/workflows/contract.yml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$workflow" "$work" <<'PY'
import json, re, sys, yaml
workflow, work = sys.argv[1], sys.argv[2]
job = yaml.safe_load(open(workflow))["jobs"]["contract"]
# `${{ secrets.X || 'fallback' }}`: no secrets here, so the fallback.
def value(v):
    return re.sub(r"\$\{\{\s*secrets\.\w+\s*\|\|\s*'([^']*)'\s*\}\}", r"\1", str(v))
env = {k: value(v) for k, v in job.get("env", {}).items()}
assert not any("${{" in v for v in env.values()), env
steps = [s for s in job["steps"] if "run" in s]
assert len(steps) >= 3, steps
json.dump({"env": env, "steps": [{"name": s.get("name", ""), "run": s["run"], "always": s.get("if") == "always()"} for s in steps]},
          open(f"{work}/plan.json", "w"))
# The README shows this workflow as the CI recipe: the same text.
assert open(workflow).read() in open("README.md").read(), "README's CI recipe differs from " + workflow
PY
export RUNNER_TEMP="$work/runner" GITHUB_PATH="$work/github_path"
# The install step's `cargo install` builds the release profile: 8-9 minutes here, a third of
# the CI run. What this script proves is that the recipe's steps work as written, not how well
# the optimiser does, so it builds that profile unoptimised (≈ 3.5 minutes); the step's text,
# `--locked` (Cargo.lock must be current) and the installed layout are exactly the workflow's.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256
mkdir -p "$RUNNER_TEMP"; : > "$GITHUB_PATH"
while IFS= read -r line; do export "$line"; done < <(python3 -c 'import json,sys; [print(f"{k}={v}") for k,v in json.load(open(sys.argv[1]))["env"].items()]' "$work/plan.json")
count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["steps"]))' "$work/plan.json")
failed=0
for i in $(seq 0 $((count - 1))); do
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][int(sys.argv[2])]["name"])' "$work/plan.json" "$i")
  always=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][int(sys.argv[2])]["always"])' "$work/plan.json" "$i")
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][int(sys.argv[2])]["run"])' "$work/plan.json" "$i" > "$work/step.sh"
  if [ "$failed" = 1 ] && [ "$always" != True ]; then echo "== skipped: $name"; continue; fi
  echo "== step: $name"
  PATH="$(paste -sd: "$GITHUB_PATH"):$PATH" bash -e "$work/step.sh" || { echo "step failed: $name"; failed=1; }
done
[ "$failed" = 0 ] || exit 1
python3 - <<'PY'
from junitparser import JUnitXml
xml = JUnitXml.fromfile("contract.xml")
tests = sum(s.tests for s in xml); failures = sum(s.failures + s.errors for s in xml)
print(f"recipe: contract.xml holds {tests} test cases, {failures} failed")
assert tests > 100 and failures == 0
PY
rm -f contract.xml
echo "the CI recipe works"
