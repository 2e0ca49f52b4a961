#!/usr/bin/env bash
# Installs everything Accord needs to build and test on Debian 12:
# Debian packages (compiler, gRPC, protobuf, Abseil, hiredis, GoogleTest,
# Redis, cpp-httplib, ICU, OpenSSL, Node.js, the JDK and grpc-java for the
# Java client, wheel and venv for the Python one; prometheus only for
# promtool, which checks and unit-tests the alert rules, its daemon is never
# started) and the npm tooling in proto/ (buf, google-proto-files) and
# tests/node (peers used by the tests).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libgtest-dev libgmock-dev libbenchmark-dev
  redis-server redis-tools libcpp-httplib-dev libicu-dev libssl-dev curl
  python3-grpcio python3-protobuf golang-go protoc-gen-go protoc-gen-go-grpc
  golang-google-grpc-dev golang-google-protobuf-dev golang-google-genproto-dev
  golang-github-golang-protobuf-1-5-dev clang-14 libclang-rt-14-dev
  prometheus
  python3-setuptools python3-wheel python3-venv python3-pip
  openjdk-17-jdk-headless libgrpc-java libprotobuf-java
  protobuf-compiler-grpc-java-plugin libnetty-java libperfmark-java libguava-java
  libgeronimo-annotation-1.3-spec-java zip unzip
)
# Node.js runs buf and the test peers; keep a node that is already there.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The distro's redis-server unit is not needed: tests and the demo start
# their own private servers on free ports.
for dir in proto tests/node tests/deploy clients/node; do
  if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" -o "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
