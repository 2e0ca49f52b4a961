#!/usr/bin/env bash
# Generates the Python message and gRPC stubs for Accord's protos, and the
# google/api protos they import, into OUT_DIR (default clients/python/gen).
# Uses Debian's protoc and grpc_python_plugin (protobuf-compiler-grpc); the
# google/* protos come from proto/node_modules/google-proto-files.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/clients/python/gen}"
googleapis="$root/proto/node_modules/google-proto-files"
mkdir -p "$out"
cd "$root/proto"
protoc -I . -I "$googleapis" \
  --python_out="$out" --grpc_out="$out" \
  --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin \
  accord/events/v1/event.proto \
  accord/institution/v1/institution.proto \
  accord/institution/v1/institution_service.proto \
  accord/agreement/v1/agreement.proto \
  accord/agreement/v1/agreement_service.proto \
  accord/notification/v1/notification.proto \
  accord/notification/v1/notification_service.proto \
  "$googleapis/google/api/field_behavior.proto" \
  "$googleapis/google/api/resource.proto" \
  "$googleapis/google/rpc/status.proto" \
  "$googleapis/google/rpc/error_details.proto"
echo "generated Python stubs in $out"
