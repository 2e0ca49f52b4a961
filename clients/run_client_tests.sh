#!/usr/bin/env bash
# Builds the five client packages, installs each into a fresh place, and
# runs each language's example against the real suite with authentication
# on: a private redis-server and the three services on free loopback
# ports, an admin key in ACCORD_TOKEN. Each example must read its MOU back,
# decode the google.rpc details (ErrorInfo, BadRequest) of a refused create
# and receive the MOU's event.
#
#   C++     cmake --install of the accord_client component into a fresh
#           prefix; clients/cpp built as a separate project against it
#           with find_package(accord_client)
#   Python  the accord-client wheel, pip-installed into a fresh venv
#           (--system-site-packages for Debian's grpcio and protobuf)
#   Go      the github.com/accord-suite/accord-go module (proxy zip),
#           vendored into a fresh program with Debian's Go libraries and
#           built offline with -mod=vendor
#   Node    `npm pack` of accord-client, npm-installed into a fresh folder
#   Java    the accord-client jar, copied into a fresh folder; the example
#           compiled against it and run
#
# Code is generated once from clients/buf.gen.yaml; compiled artefacts that
# are slow to make (Java classes, GOCACHE, ccache) are kept under
# BUILD_DIR/clients, so later runs are quick. Prints one line per language
# and a closing `N passed, N failed`; exits non-zero if any failed. Leaves
# nothing running. ACCORD_CLIENT_LANGUAGES="go node" runs only some.
#
# Usage: clients/run_client_tests.sh [BUILD_DIR]   (default: build)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$(cd "${1:-$root/build}" && pwd)"
bin="$build_dir/bin"
work="$build_dir/clients"
packages="$work/packages"
run_dir="$(mktemp -d /tmp/accord-clients.XXXXXX)"
version="$(cat "$root/clients/VERSION")"
read -r -a languages <<<"${ACCORD_CLIENT_LANGUAGES:-cpp python go node java}"
pids=()
mkdir -p "$work"

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"

# --- Packages, built and installed afresh. Each prepare_LANGUAGE prints
# what went wrong and fails; its language is then reported as failed.
declare -A prepare_error=()
declare -A command=()
declare -A prepare_seconds=()

prepare_cpp() {
  # The accord_client component comes from the main build (accord_proto).
  [ -f "$build_dir/CMakeCache.txt" ] || { echo "$build_dir is not a CMake build"; return 1; }
  cmake --build "$build_dir" --target accord_proto >/dev/null &&
    cmake --install "$build_dir" --component accord_client --prefix "$run_dir/cpp/prefix" >/dev/null &&
    cmake -S "$root/clients/cpp" -B "$run_dir/cpp/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_PREFIX_PATH="$run_dir/cpp/prefix" >/dev/null &&
    CCACHE_BASEDIR="$run_dir" CCACHE_NOHASHDIR=true cmake --build "$run_dir/cpp/build" >/dev/null ||
    return 1
  command[cpp]="$run_dir/cpp/build/accord-example-cpp"
}

prepare_python() {
  "$root/clients/python/package.sh" "$packages/python" "$work/gen" &&
    /usr/bin/python3 -m venv --system-site-packages --without-pip "$run_dir/python/venv" &&
    # No index: its requirements (grpcio, protobuf) must be met by Debian's.
    /usr/bin/python3 -m pip --python "$run_dir/python/venv/bin/python" install -q \
      --no-index "$packages/python/accord_client-$version-py3-none-any.whl" || return 1
  command[python]="$run_dir/python/venv/bin/python $root/clients/python/example.py"
}

prepare_go() {
  command -v go >/dev/null || { echo "go is not installed (scripts/install-deps.sh)"; return 1; }
  local program="$run_dir/go/program"
  mkdir -p "$program"
  cp "$root/clients/go/example/main.go" "$program/"
  sed "s/@VERSION@/$version/" "$root/clients/go/example/go.mod.in" >"$program/go.mod"
  "$root/clients/go/package.sh" "$packages/go" "$work/gen" &&
    "$root/clients/go/vendor.sh" "$program" "$packages/go" &&
    # -trimpath keeps GOCACHE entries valid across fresh program folders.
    (cd "$program" && env GOFLAGS=-mod=vendor GOPROXY=off GOSUMDB=off \
      GOCACHE="$work/go-cache" go build -trimpath -o accord-example-go .) || return 1
  command[go]="$program/accord-example-go"
}

prepare_node() {
  local place="$run_dir/node"
  mkdir -p "$place"
  cp "$root/clients/node/example.js" "$place/"
  echo '{"private": true}' >"$place/package.json"
  # Dependencies come from npm's cache when `npm ci` in clients/node (run
  # by scripts/install-deps.sh) already fetched them.
  "$root/clients/node/package.sh" "$packages/node" &&
    (cd "$place" && npm install --prefer-offline --no-audit --no-fund --loglevel=error \
      "$packages/node/accord-client-$version.tgz") || return 1
  command[node]="node $place/example.js"
}

prepare_java() {
  command -v javac >/dev/null || { echo "javac is not installed (scripts/install-deps.sh)"; return 1; }
  local place="$run_dir/java"
  mkdir -p "$place/lib" "$place/classes"
  find "$root/clients/java/example/src" -name '*.java' >"$place/sources.txt"
  "$root/clients/java/build.sh" "$packages/java" "$work/gen" &&
    cp "$packages/java/accord-client-$version.jar" "$place/lib/" &&
    # The jar's manifest names Debian's grpc-java jars, for javac and java.
    javac -encoding UTF-8 --release 17 -cp "$place/lib/accord-client-$version.jar" \
      -d "$place/classes" @"$place/sources.txt" || return 1
  command[java]="java -cp $place/lib/accord-client-$version.jar:$place/classes org.accord.example.Example"
}

rm -rf "$work/gen"
if ! "$root/clients/generate.sh" "$work/gen" >"$run_dir/generate.log" 2>&1; then
  for language in "${languages[@]}"; do
    prepare_error[$language]="clients/generate.sh failed: $(cat "$run_dir/generate.log")"
  done
fi
for language in "${languages[@]}"; do
  [ -n "${prepare_error[$language]:-}" ] && continue
  mkdir -p "$run_dir/$language"
  start_ms=$(( ${EPOCHREALTIME/./} / 1000 ))
  if ! "prepare_$language" >"$run_dir/$language-prepare.log" 2>&1; then
    prepare_error[$language]="package build or install failed: $(cat "$run_dir/$language-prepare.log")"
  fi
  elapsed_ms=$(( ${EPOCHREALTIME/./} / 1000 - start_ms ))
  prepare_seconds[$language]="$((elapsed_ms / 1000)).$(( (elapsed_ms % 1000) / 100 ))"
done

# --- The suite.
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir" \
  --appendonly no --save "" >"$run_dir/redis.log" 2>&1 &
pids+=($!)
wait_for_log "$run_dir/redis.log" "Ready to accept connections" "redis-server"
export ACCORD_REDIS="redis://127.0.0.1:$redis_port"
export ACCORD_INSTITUTION_TARGET="127.0.0.1:$(free_port)"
export ACCORD_AGREEMENT_TARGET="127.0.0.1:$(free_port)"
export ACCORD_NOTIFICATION_TARGET="127.0.0.1:$(free_port)"
# Authentication is on, as in production. The examples get an admin key,
# since they create institutions of their own (an editor may only change
# records of the institutions it acts for); the agreement service gets its
# own key for its calls to the institution service.
export ACCORD_CREDENTIALS_FILE="$run_dir/credentials.json"
export ACCORD_TOKEN
ACCORD_TOKEN=$("$bin/accordctl" make-key client-examples admin \
  --credentials-file="$ACCORD_CREDENTIALS_FILE")
"$bin/accordctl" make-key agreement-service viewer \
  --credentials-file="$ACCORD_CREDENTIALS_FILE" >"$run_dir/agreement-token"
for service in institution agreement notification; do
  target_var="ACCORD_${service^^}_TARGET"
  extra=()
  [ "$service" = agreement ] && extra=(--institution_token_file="$run_dir/agreement-token")
  "$bin/accord-$service" --listen="${!target_var}" "${extra[@]}" \
    >"$run_dir/$service.log" 2>&1 &
  pids+=($!)
done
for service in institution agreement notification; do
  wait_for_log "$run_dir/$service.log" "msg=serving" "accord-$service"
done

# --- The examples.
passed=0
failed=0
for language in "${languages[@]}"; do
  log="$run_dir/$language.log"
  if [ -n "${prepare_error[$language]:-}" ]; then
    echo "FAIL $language: ${prepare_error[$language]}"
    failed=$((failed + 1))
    continue
  fi
  start_ms=$(( ${EPOCHREALTIME/./} / 1000 ))
  # shellcheck disable=SC2086  # the command is split on purpose
  timeout 30 ${command[$language]} >"$log" 2>&1
  code=$?
  elapsed_ms=$(( ${EPOCHREALTIME/./} / 1000 - start_ms ))
  seconds="$((elapsed_ms / 1000)).$(( (elapsed_ms % 1000) / 100 ))"
  # Each example must have read its MOU back, decoded the details of the
  # second, refused create (ErrorInfo and the BadRequest field) and
  # received the event.
  if [ "$code" -eq 0 ] &&
     grep -q "^read agreements/.* kind=KIND_MEMORANDUM_OF_UNDERSTANDING" "$log" &&
     grep -q "^error ALREADY_EXISTS: " "$log" &&
     grep -q "^detail ErrorInfo reason=ALREADY_EXISTS domain=accord$" "$log" &&
     grep -q "^detail BadRequest field=agreement_id: " "$log" &&
     grep -q "^event .* accord.agreement.v1.recorded agreements/" "$log"; then
    echo "PASS $language (package ${prepare_seconds[$language]}s, run ${seconds}s): $(grep '^event ' "$log"); $(grep '^detail ErrorInfo' "$log")"
    passed=$((passed + 1))
  else
    echo "FAIL $language (exit $code); its output:"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
  fi
done

if ((failed)); then
  for service in institution agreement notification; do
    echo "--- last lines of accord-$service's log"
    tail -n 20 "$run_dir/$service.log"
  done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
