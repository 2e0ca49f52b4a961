#!/usr/bin/env bash
# Generates the Python, Go and Java code of the client packages from
# clients/buf.gen.yaml into OUT_DIR/{python,go,java} (default clients/gen):
# Accord's protos plus google/rpc/status.proto and error_details.proto.
# Runs buf from proto/node_modules (npm) with Debian's protoc and plugins;
# works offline.
#
# Usage: clients/generate.sh [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/clients/gen}" && cd "${1:-$root/clients/gen}" && pwd)"
rpc=node_modules/google-proto-files/google/rpc
cd "$root/proto"
./node_modules/.bin/buf generate --template "$root/clients/buf.gen.yaml" \
  -o "$out" --path accord --path "$rpc/status.proto" \
  --path "$rpc/error_details.proto"
