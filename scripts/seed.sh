#!/usr/bin/env bash
# The seed topology from nothing: installs what promha needs, writes the seed's
# topology (if absent), checks it, renders every member's configuration, and runs
# the whole topology with the real binaries (Ctrl-C stops everything).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
mkdir -p seed
[ -e seed/promha.yaml ] || node bin/promha.js init seed/promha.yaml
node bin/promha.js schema --out seed/promha.schema.json
node bin/promha.js check seed/promha.yaml
node bin/promha.js render seed/promha.yaml --out out/seed
cd seed
exec node ../bin/promha.js up promha.yaml "$@"
