#!/usr/bin/env bash
# Builds the accord-client wheel (OUT/accord_client-VERSION-py3-none-any.whl,
# VERSION from clients/VERSION) from the Python code clients/generate.sh
# makes, with Debian's python3-setuptools and python3-wheel; offline. With
# GEN_DIR, reuses code generated there.
#
# Install it into a virtual environment that sees Debian's grpcio and
# protobuf:
#   python3 -m venv --system-site-packages venv
#   venv/bin/pip install --no-index OUT/accord_client-*.whl
#
# Usage: clients/python/package.sh OUT_DIR [GEN_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
gen="${2:-$out/gen}"
[ -n "${2:-}" ] || "$root/clients/generate.sh" "$gen" >/dev/null
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -r "$gen/python/." "$staging/"
cp "$root/clients/python/setup.py" "$staging/"
cd "$staging"
ACCORD_CLIENT_VERSION="$(cat "$root/clients/VERSION")" \
  /usr/bin/python3 setup.py -q bdist_wheel --dist-dir "$out" >/dev/null 2>"$staging/log" || {
  cat "$staging/log" >&2
  exit 1
}
echo "built $(ls "$out"/accord_client-*.whl)"
