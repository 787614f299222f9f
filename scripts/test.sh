#!/usr/bin/env bash
# Every test: set up, lint, then unit and kernel end-to-end tests (as root; under CI=true a
# missing privilege or kernel feature fails instead of skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npm run --silent lint
node bpf/gen-layout.mjs --check
npm test
