#!/usr/bin/env bash
# Benchmarks (README "Benchmarks"): set up, install the peer tools they compare with, run them all
# (or those whose name contains an argument).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >&2
for p in bpftrace libbpf-tools; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
exec node dist/bench/run.js "$@"
