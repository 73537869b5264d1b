#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what it needs, type-checks, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc --noEmit -p .
npm test
