#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a private Redis and
# the three services on free local ports, starts a watcher, imports the seed
# data set (../shared/seed as data, examples/seed), shows the events the
# watcher received and a few queries. Leaves nothing running unless
# --keep-running is given, in which case it prints where everything listens.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_running=false
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep_running=true ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $arg" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
# Only what the demo runs; scripts/test.sh builds the rest.
scripts/build.sh accord-institution accord-agreement accord-notification accordctl >/dev/null
bin="$PWD/${ACCORD_BUILD_DIR:-build}/bin"
run_dir="$(mktemp -d /tmp/accord-demo.XXXXXX)"
pids=()

cleanup() {
  if ! $keep_running; then
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$run_dir"
  fi
}
trap cleanup EXIT

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir" \
  --appendonly yes --appendfsync everysec --save "" >"$run_dir/redis.log" 2>&1 &
pids+=($!)
wait_for_log "$run_dir/redis.log" "Ready to accept connections" "redis-server"
export ACCORD_REDIS="redis://127.0.0.1:$redis_port"

institution_port=$(free_port)
agreement_port=$(free_port)
notification_port=$(free_port)
export ACCORD_INSTITUTION_TARGET="127.0.0.1:$institution_port"
export ACCORD_AGREEMENT_TARGET="127.0.0.1:$agreement_port"
export ACCORD_NOTIFICATION_TARGET="127.0.0.1:$notification_port"
# Each service's Prometheus /metrics (docs/operations.md).
declare -A metrics_listen
for service in institution agreement notification; do
  metrics_listen[$service]="127.0.0.1:$(free_port)"
done

# Every call is authenticated: an admin key for this demo, and the agreement
# service's own key for its calls to the institution service. Only salted
# hashes go into the credentials file.
export ACCORD_CREDENTIALS_FILE="$run_dir/credentials.json"
export ACCORD_TOKEN
ACCORD_TOKEN=$("$bin/accordctl" make-key demo-operator admin \
  --credentials-file="$ACCORD_CREDENTIALS_FILE")
"$bin/accordctl" make-key agreement-service viewer \
  --credentials-file="$ACCORD_CREDENTIALS_FILE" >"$run_dir/agreement-token"

"$bin/accord-institution" --listen="$ACCORD_INSTITUTION_TARGET" \
  --metrics_listen="${metrics_listen[institution]}" \
  >"$run_dir/institution.log" 2>&1 &
pids+=($!)
"$bin/accord-agreement" --listen="$ACCORD_AGREEMENT_TARGET" \
  --metrics_listen="${metrics_listen[agreement]}" \
  --institution_token_file="$run_dir/agreement-token" \
  >"$run_dir/agreement.log" 2>&1 &
pids+=($!)
"$bin/accord-notification" --listen="$ACCORD_NOTIFICATION_TARGET" \
  --metrics_listen="${metrics_listen[notification]}" \
  >"$run_dir/notification.log" 2>&1 &
pids+=($!)
for service in institution agreement notification; do
  wait_for_log "$run_dir/$service.log" "msg=serving" "accord-$service"
done

echo "== Prometheus metrics (what each service runs: accord_build_info)"
for service in institution agreement notification; do
  printf '  %-13s http://%s/metrics\n' "$service" "${metrics_listen[$service]}"
  curl -fsS "http://${metrics_listen[$service]}/metrics" |
    grep '^accord_build_info' | sed 's/^/                /' || true
done
echo

echo "== Watching for new agreements, committee sessions and milestones"
"$bin/accordctl" watch --output=table \
  --types='accord.agreement.v1.*,accord.committee.v1.session_recorded,accord.milestone.v1.*' \
  >"$run_dir/watch.log" 2>&1 &
pids+=($!)
sleep 0.5

echo "== Importing the seed scenario (examples/seed)"
"$bin/accordctl" import examples/seed --output=table 2>&1 | tail -n 1

# Give the watcher a moment to print the last events.
for _ in $(seq 1 50); do
  [ "$(grep -c milestone "$run_dir/watch.log" || true)" -ge 4 ] && break
  sleep 0.1
done
echo
echo "== Events the watcher received (position, type, subject)"
cat "$run_dir/watch.log"

echo
echo "== Agreements between Iran and Russia"
"$bin/accordctl" list agreements --all --output=table \
  --filter='party_country_codes: "IR" AND party_country_codes: "RU"'
echo
echo "== Agreements in force between IR and RU today"
in_force=$("$bin/accordctl" call QueryAgreementsInForce '{"countryCodes": ["IR", "RU"]}')
names=$(printf '%s' "$in_force" | grep -o '"name":"agreements/[^"]*"' | cut -d'"' -f4 || true)
if [ -z "$names" ]; then
  echo "(none)"
else
  echo "$names"
fi
echo
# A value of a compact JSON line: the first string field called $1 in $2.
json_field() {
  printf '%s' "$2" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4 || true
}
echo "== Each party today, with its own dates (derived from the agreement's"
echo "   entry-into-force rule: the MOU on signature, the treaty on the last"
echo "   notification that internal procedures are complete, none recorded yet)"
for agreement in agreements/iran-russia-comprehensive-strategic-partnership \
                 agreements/tums-pcgtrc-nmrc-hematology-mou-2025; do
  echo "$agreement"
  "$bin/accordctl" call QueryPartyStatus "{\"agreement\": \"$agreement\"}" |
    sed 's/},{"party"/}\n{"party"/g' |
    while IFS= read -r line; do
      state=$(json_field state "$line")
      consent=$(json_field consentDate "$line")
      entry=$(json_field entryIntoForceDate "$line")
      printf '  %-46s %-9s consented %-10s in force from %s\n' \
        "$(json_field party "$line")" "${state#STATE_}" "${consent:--}" "${entry:--}"
    done
done
echo
echo "== Milestones still open"
"$bin/accordctl" list agreements/-/milestones --all --output=table \
  --filter='state != STATE_ACHIEVED AND state != STATE_CANCELLED'
echo
echo "== Who is the Russian party? (search in Cyrillic)"
"$bin/accordctl" search "гематологии" --output=table

if $keep_running; then
  echo
  echo "Still running (logs in $run_dir):"
  echo "  redis          $ACCORD_REDIS"
  echo "  institution    $ACCORD_INSTITUTION_TARGET"
  echo "  agreement      $ACCORD_AGREEMENT_TARGET"
  echo "  notification   $ACCORD_NOTIFICATION_TARGET"
  for service in institution agreement notification; do
    printf '  %-14s http://%s/metrics\n' "$service /metrics" "${metrics_listen[$service]}"
  done
  echo "  process ids    ${pids[*]}"
  echo "  admin token    export ACCORD_TOKEN=$ACCORD_TOKEN"
  echo "Use accordctl with the ACCORD_*_TARGET values above; stop with: kill ${pids[*]}"
fi
