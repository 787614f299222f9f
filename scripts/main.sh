#!/usr/bin/env bash
# The main job: set up, then run the sensor with the stock policies, its events and alerts on stdout
# (extra arguments go to `vigil run`).
set -euo pipefail
cd "$(dirname "$0")/.."
# Set-up output goes to stderr: stdout carries only events.
./scripts/setup.sh >&2
exec ./bin/vigil run --policies policies "$@"
