#!/usr/bin/env bash
# Install what the test suite needs outside pip: each section is idempotent and
# quick when its tool is already there. Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- sections are added below (Azurite from npm, Chromium from Debian) ---
