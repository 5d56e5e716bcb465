#!/usr/bin/env bash
# Install what the test suite needs outside pip: each section is idempotent and
# quick when its tool is already there. Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- sections are added below (Azurite from npm, Chromium from Debian) ---

# Azurite, the Azure Blob Storage emulator, for the azure backend tests.
# 3.35.0 is the last release that runs on Node 20.
AZURITE_VERSION=3.35.0
if ! grep -qs "\"version\": \"$AZURITE_VERSION\"" .servers/node_modules/azurite/package.json; then
    mkdir -p .servers
    npm install --prefix .servers --no-audit --no-fund --silent "azurite@$AZURITE_VERSION"
fi

# axe-core, the accessibility checker the admin browser tests inject into Chromium.
AXE_VERSION=4.14.1
if ! grep -qs "\"version\": \"$AXE_VERSION\"" .servers/node_modules/axe-core/package.json; then
    mkdir -p .servers
    npm install --prefix .servers --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
fi

# Redis from Debian, the broker of the storage_copy --celery tests (the suite
# starts its own server on a free port; no service is enabled).
if ! command -v redis-server >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server
fi

# Chromium from Debian, for the admin browser tests (Playwright drives it;
# `playwright install` is never used).
if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
