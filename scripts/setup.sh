#!/usr/bin/env bash
# Installs what Vigil needs on Debian 12 (packages, npm dependencies) and builds it.
# Safe to run again: it installs only what is missing and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (the sensor loads BPF programs; packages are installed with apt-get)"

# Build: BPF objects, native addon, tester programs. Test: peers and helpers the tests drive;
# QEMU, busybox, cpio and xz for the guest kernel of the BPF-LSM tests (scripts/setup-guest.sh).
PACKAGES=(
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make gcc g++ python3
  ca-certificates procps iproute2 util-linux
  qemu-system-x86 busybox-static cpio xz-utils
  # The container tests run real containers: Podman with runc, from an image built of busybox-static.
  podman runc
  # The package inventory's test imports a Debian-packaged Python module (and its C library).
  python3-yaml
  # The team server's store tests start a real PostgreSQL in a temporary directory.
  postgresql
)
PACKAGES+=("${VIGIL_EXTRA_PACKAGES[@]:-}")

missing=()
for p in "${PACKAGES[@]}"; do
  [ -n "$p" ] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

./scripts/setup-guest.sh

command -v node >/dev/null || die "Node.js 20 or newer is required (node not found)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required (found $(node --version))"

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

log "building"
npm run --silent build
