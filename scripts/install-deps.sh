#!/usr/bin/env bash
# Installs what promha and its tests need: the Debian packages of the real components,
# Chromium for the dashboard tests, and the npm packages. Safe to run again: it installs
# only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# systemd: systemd-analyze verifies the rendered units. chromium: the dashboard's browser
# tests. openssl: secure mode's certificates. openssh-client: `apply` over SSH; libwrap0:
# the one library of Debian 12's sshd (fetched below, not installed) that the client lacks.
packages=(prometheus prometheus-alertmanager prometheus-pushgateway keepalived haproxy iproute2 systemd chromium openssl openssh-client libwrap0)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages; run: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  # Keep the packages' own services from starting: promha runs the binaries itself.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ "$created_policy" = 1 ] && rm -f "$policy"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# The other releases' binaries, from Debian's archive into promha's cache (the host's apt
# setup is never touched): tests render for and run every release.
# Tests read this cache only (test/release.test.ts checks what setup left there); the
# host's package database must come out of the fetch unchanged.
status_before=$(sha256sum /var/lib/dpkg/status)
for release in trixie sid; do
  node bin/promha.js setup --release "$release" >/dev/null
done
if [ "$(sha256sum /var/lib/dpkg/status)" != "$status_before" ]; then
  echo "promha setup --release changed /var/lib/dpkg/status: it must never touch the host's apt state" >&2
  exit 1
fi

# sshd for the SSH tests of `apply` and Debian 12's kubectl, extracted, never installed.
bash scripts/fetch-test-tools.sh
# Each Debian release's nodejs, for the test that runs the packed CLI under each.
bash scripts/fetch-node.sh
