#!/usr/bin/env bash
# Creates (once) the virtualenv with the Standard Webhooks reference library the
# webhook tests verify deliveries with. Idempotent and safe to run from many
# test processes at once (flock); prints the venv's python.
set -euo pipefail
VERSION=1.3.0
root="$(cd "$(dirname "$0")/../../.." && pwd)"
venv="${WEBHOOKS_VENV:-$root/target/webhooks-venv}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('standardwebhooks') != '$VERSION')" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "standardwebhooks==$VERSION" >&2
fi
echo "$venv/bin/python"
