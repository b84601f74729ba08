#!/usr/bin/env bash
# Exports the OpenAPI document, validates it with openapi-spec-validator (PyPI) and lints it with
# `redocly lint` (npm, @redocly/cli; configuration and its justifications in redocly.yaml): any
# error fails the script, and so does any warning.
# Usage: scripts/validate-openapi.sh [path/to/mfa-harness]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
H=${1:-target/debug/mfa-harness}
python3 -c 'import openapi_spec_validator' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore openapi-spec-validator
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$H" openapi --output "$OUT/openapi.json"
python3 - "$OUT/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
doc = json.load(open(sys.argv[1]))
validate(doc)
print(f"openapi: {doc['openapi']} document with {len(doc['paths'])} paths and {len(doc['components']['schemas'])} schemas is valid")
PY
echo "== redocly lint"
npx --yes @redocly/cli@2.77.0 lint "$OUT/openapi.json" --config "$ROOT/redocly.yaml" --format=stylish \
  --max-problems 50 > "$OUT/lint" 2>&1 || { grep -v '[║╔╚]' "$OUT/lint"; exit 1; }
grep -v '[║╔╚]' "$OUT/lint" | grep -v '^ *$'
if grep -q ' warning ' "$OUT/lint"; then echo "redocly lint: warnings (see above)"; exit 1; fi
