#!/usr/bin/env bash
# Exports the OpenAPI document and validates it with openapi-spec-validator (PyPI).
# Usage: scripts/validate-openapi.sh [path/to/mfa-harness]
set -euo pipefail
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
