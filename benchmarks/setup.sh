#!/usr/bin/env bash
# Install the comparison tools of `make bench`: django-storages, boto3 and awscli in
# their own venv (their botocore pins conflict with s3fs's aiobotocore), rclone from
# Debian's packages when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv-compare/bin/aws ] || [ ! -f .venv-compare/.installed ]; then
    "$PYTHON" -m venv .venv-compare
    .venv-compare/bin/python -m pip install --quiet --upgrade pip
    .venv-compare/bin/python -m pip install --quiet "django-storages[s3]>=1.14,<2" boto3 awscli "Django>=5.2,<6"
    touch .venv-compare/.installed
fi
if ! command -v rclone >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone
fi
