#!/usr/bin/env bash
# Generates the Go message and gRPC code for Accord's protos, and the
# google/api protos they import, into a GOPATH folder (default
# clients/go/gen): OUT/src/<go import path>/*.pb.go. Uses Debian's protoc,
# protoc-gen-go and protoc-gen-go-grpc; the google/* protos come from
# proto/node_modules/google-proto-files.
#
# The Go libraries (google.golang.org/grpc, google.golang.org/protobuf) are
# Debian's golang-google-grpc-dev and golang-google-protobuf-dev under
# /usr/share/gocode, used in GOPATH mode, so nothing is downloaded:
#   GO111MODULE=off GOPATH=OUT:/usr/share/gocode go build ./clients/go/example
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/clients/go/gen}"
googleapis="$root/proto/node_modules/google-proto-files"
mkdir -p "$out/src"
cd "$root/proto"
# The google/api protos keep their canonical import path
# (google.golang.org/genproto/googleapis/api/annotations); the copy
# generated here comes first in GOPATH, so it is the one compiled in.
protoc -I . -I "$googleapis" \
  --go_out="$out/src" --go-grpc_out="$out/src" \
  accord/events/v1/event.proto \
  accord/institution/v1/institution.proto \
  accord/institution/v1/institution_service.proto \
  accord/agreement/v1/agreement.proto \
  accord/agreement/v1/agreement_service.proto \
  accord/notification/v1/notification.proto \
  accord/notification/v1/notification_service.proto \
  "$googleapis/google/api/field_behavior.proto" \
  "$googleapis/google/api/resource.proto"
echo "generated Go code in $out/src"
