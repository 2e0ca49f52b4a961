#!/usr/bin/env bash
# Generates the Go code of the module github.com/accord-suite/accord-go
# (clients/go/go.mod) from clients/buf.gen.yaml into OUT_DIR (default
# clients/go, beside go.mod, so that the folder is the module):
# OUT/accord/<service>/v1/*.pb.go. google/api and google/rpc come from
# Debian's golang-google-genproto-dev. package.sh turns the same code into
# a versioned module; vendor.sh installs it into a program offline.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/clients/go}"
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
"$root/clients/generate.sh" "$gen"
mkdir -p "$out"
rm -rf "$out/accord"
cp -r "$gen/go/accord" "$out/accord"
echo "generated Go code in $out/accord"
