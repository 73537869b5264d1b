#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what it needs (the only step that
# uses the network), type-checks, then tests with the network cut where root can cut it:
# in a network namespace of its own, whose only interface is its loopback, so a test
# that tried to fetch anything would fail instead of depending on the world.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc --noEmit -p .
npm run build
if [ "$(id -u)" = 0 ]; then
  exec unshare --net bash -c 'ip link set lo up && exec node scripts/test-tier.mjs all'
fi
echo "not root: the tests run with this machine's network (root runs them without one)" >&2
exec node scripts/test-tier.mjs all
