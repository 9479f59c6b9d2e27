#!/usr/bin/env bash
# Makes the Python environment the management API tests run in (boto3, the AWS CLI, pytest):
# target/pyenv, rebuilt when requirements.txt changes. Prints the interpreter's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
env="${PORTICO_PYENV:-$root/target/pyenv}"
stamp="$env/.requirements"
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null; then
    python3 -m venv "$env" >&2
    "$env/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    cp "$here/requirements.txt" "$stamp"
fi
echo "$env/bin/python"
