#!/usr/bin/env bash
# Print the absolute path of a Python interpreter >= MIN_VERSION (default 3.12),
# for the Django 6 venv of `make test` (Django 6 needs Python 3.12 or later).
#
#   bash scripts/find-python.sh [MIN_VERSION]
#
# Looked for, in this order:
#   1. $PYTHON_DJANGO6, if set: used as given, or the script fails (no fallback);
#   2. python3.13, then python3.12 on PATH (pyenv shims that answer
#      "command not found" without PYENV_VERSION are skipped);
#   3. the newest matching interpreter under $(pyenv root)/versions/.
# Nothing found is an error (exit status 1): the Django 6 run is never skipped.
set -euo pipefail

MIN_VERSION="${1:-3.12}"
if ! [[ "$MIN_VERSION" =~ ^[0-9]+\.[0-9]+$ ]]; then
    echo "find-python.sh: MIN_VERSION must look like 3.12, not '$MIN_VERSION'" >&2
    exit 2
fi
MIN_MAJOR="${MIN_VERSION%%.*}"
MIN_MINOR="${MIN_VERSION#*.}"

# Run the candidate; on success print "MAJOR MINOR MICRO /abs/path/of/executable".
probe() {
    "$1" -c 'import sys; v = sys.version_info; print(v[0], v[1], v[2], sys.executable)' \
        2>/dev/null </dev/null
}

# Does the probe output (MAJOR MINOR ...) reach MIN_VERSION?
new_enough() {
    local major minor
    read -r major minor _ <<<"$1"
    [ "$major" -gt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -ge "$MIN_MINOR" ]; }
}

# 1. An explicit choice is honoured, or fails: never silently replaced.
if [ -n "${PYTHON_DJANGO6:-}" ]; then
    if ! info="$(probe "$PYTHON_DJANGO6")" || [ -z "$info" ]; then
        echo "find-python.sh: PYTHON_DJANGO6=$PYTHON_DJANGO6 does not run" >&2
        exit 1
    fi
    if ! new_enough "$info"; then
        read -r major minor micro _ <<<"$info"
        echo "find-python.sh: PYTHON_DJANGO6=$PYTHON_DJANGO6 is Python $major.$minor.$micro, need >= $MIN_VERSION" >&2
        exit 1
    fi
    echo "${info#* * * }"
    exit 0
fi

# 2. Versioned commands on PATH (possibly pyenv shims that fail).
for name in python3.13 python3.12; do
    command -v "$name" >/dev/null 2>&1 || continue
    if info="$(probe "$name")" && [ -n "$info" ] && new_enough "$info"; then
        echo "${info#* * * }"
        exit 0
    fi
done

# 3. The newest matching interpreter that pyenv has installed.
pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root 2>/dev/null || true)"
fi
best="" best_key=-1
if [ -n "$pyenv_root" ] && [ -d "$pyenv_root/versions" ]; then
    for candidate in "$pyenv_root"/versions/*/bin/python3; do
        [ -x "$candidate" ] || continue
        # pyenv-virtualenv environments are venvs, not installations: skip them.
        [ -e "${candidate%/bin/python3}/pyvenv.cfg" ] && continue
        info="$(probe "$candidate")" || continue
        [ -n "$info" ] && new_enough "$info" || continue
        read -r major minor micro _ <<<"$info"
        key=$((major * 1000000 + minor * 1000 + micro))
        if [ "$key" -gt "$best_key" ]; then
            best_key=$key
            best="${info#* * * }"
        fi
    done
fi
if [ -n "$best" ]; then
    echo "$best"
    exit 0
fi

{
    echo "find-python.sh: no Python >= $MIN_VERSION found (tried \$PYTHON_DJANGO6, python3.13 and"
    echo "python3.12 on PATH${pyenv_root:+, and $pyenv_root/versions/*/bin/python3})."
    echo "The Django 6 test run needs one: install it, or set PYTHON_DJANGO6=/path/to/python3.12."
} >&2
exit 1
