#!/usr/bin/env bash
# Builds the accord-client npm package (OUT/accord-client-VERSION.tgz,
# VERSION from clients/VERSION) with `npm pack`: index.js and package.json
# from clients/node/accord-client, and the .proto files it loads (Accord's,
# and the google/api and google/rpc ones they need) exported by buf.
#
# Install it with `npm install OUT/accord-client-VERSION.tgz`; its
# dependencies (@grpc/grpc-js, @grpc/proto-loader, protobufjs) are the ones
# clients/node uses, so `--offline` works once `npm ci` ran there.
#
# Usage: clients/node/package.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
version="$(cat "$root/clients/VERSION")"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp "$root/clients/node/accord-client/package.json" \
  "$root/clients/node/accord-client/index.js" "$staging/"
rpc=node_modules/google-proto-files/google/rpc
(cd "$root/proto" && ./node_modules/.bin/buf export . -o "$staging/protos" \
  --path accord --path "$rpc/status.proto" --path "$rpc/error_details.proto")
cd "$staging"
npm pkg set version="$version"
rm -f "$out/accord-client-$version.tgz"
npm pack --silent --pack-destination "$out" >/dev/null
echo "built $out/accord-client-$version.tgz"
