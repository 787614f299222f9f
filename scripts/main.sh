#!/usr/bin/env bash
# The main job: set up, then run the sensor with its events on stdout (extra arguments go to `vigil run`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./bin/vigil run "$@"
