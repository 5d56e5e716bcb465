#!/usr/bin/env bash
# Install the comparison tools of `make bench`: django-storages, boto3 and awscli in
# their own venv (their botocore pins conflict with s3fs's aiobotocore), with Pillow
# for WL4's image row, and rclone from Debian's packages when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
# A venv installed before WL4's image row has no Pillow: complete it.
if [ ! -x .venv-compare/bin/aws ] || [ ! -f .venv-compare/.installed ] \
    || ! .venv-compare/bin/python -c "import PIL" 2>/dev/null; then
    "$PYTHON" -m venv .venv-compare
    .venv-compare/bin/python -m pip install --quiet --upgrade pip
    .venv-compare/bin/python -m pip install --quiet "django-storages[s3]>=1.14,<2" boto3 awscli "Django>=5.2,<6" "Pillow>=10.4,<14"
    touch .venv-compare/.installed
fi
if ! command -v rclone >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone
fi
