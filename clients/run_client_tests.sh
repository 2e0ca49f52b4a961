#!/usr/bin/env bash
# Runs the four client examples (C++, Python, Go, Node) against the real
# suite, authentication on: a private redis-server and the three services
# on free loopback ports, an admin key in ACCORD_TOKEN. Each example must
# read its MOU back, decode the google.rpc details of a refused create and
# receive the MOU's event. ACCORD_CLIENT_LANGUAGES="go node" runs only some. Generates the Python and Go code and builds the Go example first,
# under BUILD_DIR/clients (GOCACHE kept there, so later runs are quick).
# Prints one line per language and a closing `N passed, N failed`; exits
# non-zero if any example failed. Leaves nothing running.
#
# Usage: clients/run_client_tests.sh [BUILD_DIR]   (default: build)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$(cd "${1:-$root/build}" && pwd)"
bin="$build_dir/bin"
work="$build_dir/clients"
run_dir="$(mktemp -d /tmp/accord-clients.XXXXXX)"
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

# --- Generation and builds; a language whose step fails is reported as failed.
declare -A prepare_error=()

# C++: built by CMake with the rest (target accord-example-cpp).
[ -x "$bin/accord-example-cpp" ] ||
  prepare_error[cpp]="$bin/accord-example-cpp is missing (cmake --build $build_dir)"

# Python: stubs from protoc + grpc_python_plugin.
rm -rf "$work/python/gen"
if ! "$root/clients/python/generate.sh" "$work/python/gen" >"$run_dir/python-gen.log" 2>&1; then
  prepare_error[python]="generation failed: $(cat "$run_dir/python-gen.log")"
fi

# Go: protoc-gen-go + protoc-gen-go-grpc, built in GOPATH mode against
# Debian's Go libraries, offline.
go_env=(GO111MODULE=off GOPATH="$work/go/gen:/usr/share/gocode"
        GOCACHE="$work/go/cache" GOFLAGS= GOPROXY=off GOSUMDB=off)
rm -rf "$work/go/gen"
if ! command -v go >/dev/null; then
  prepare_error[go]="go is not installed (scripts/install-deps.sh installs golang-go)"
elif ! "$root/clients/go/generate.sh" "$work/go/gen" >"$run_dir/go-gen.log" 2>&1; then
  prepare_error[go]="generation failed: $(cat "$run_dir/go-gen.log")"
elif ! (cd "$root" && env "${go_env[@]}" go build -o "$work/go/accord-example-go" ./clients/go/example) \
      >"$run_dir/go-build.log" 2>&1; then
  prepare_error[go]="go build failed: $(cat "$run_dir/go-build.log")"
fi

# Node: @grpc/grpc-js and @grpc/proto-loader from clients/node/node_modules.
[ -d "$root/clients/node/node_modules/@grpc/grpc-js" ] ||
  prepare_error[node]="clients/node/node_modules is missing (scripts/install-deps.sh runs npm ci there)"

# Java: the accord-client jar and the example jar, with Debian's JDK and
# grpc-java (classes kept under BUILD_DIR/clients/java between runs).
if ! command -v javac >/dev/null; then
  prepare_error[java]="javac is not installed (scripts/install-deps.sh installs openjdk-17-jdk-headless)"
elif ! "$root/clients/java/build.sh" "$work/java" >"$run_dir/java-build.log" 2>&1; then
  prepare_error[java]="build failed: $(cat "$run_dir/java-build.log")"
fi

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
declare -A command=(
  [cpp]="$bin/accord-example-cpp"
  [python]="env ACCORD_PYTHON_GEN=$work/python/gen /usr/bin/python3 $root/clients/python/example.py"
  [go]="$work/go/accord-example-go"
  [node]="node $root/clients/node/example.js"
  [java]="java -cp $work/java/accord-client-$(cat "$root/clients/VERSION").jar:$work/java/accord-client-example-$(cat "$root/clients/VERSION").jar org.accord.example.Example"
)
passed=0
failed=0
for language in ${ACCORD_CLIENT_LANGUAGES:-cpp python go node java}; do
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
    echo "PASS $language (${seconds}s): $(grep '^event ' "$log"); $(grep '^detail ErrorInfo' "$log")"
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
