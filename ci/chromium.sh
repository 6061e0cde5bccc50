#!/bin/bash
# Installs what the dashboard's browser tests need: Debian's chromium, and
# npm's playwright-core (the driver only: it never downloads a browser) in
# build/node/, which git ignores. The tests find them there.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/apt.sh
source ci/apt.sh
ensure_packages chromium chromium
if [ ! -d build/node/node_modules/playwright-core ]; then
    mkdir -p build/node
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix build/node --no-save --no-audit \
        --no-fund playwright-core@1
fi
