# Readiness of a Redis pod: it answers (not LOADING its AOF) and is the
# primary, or a replica whose link to the primary is up. A replica still
# copying the data set is not ready, so a rolling update or a drain (PDB)
# never takes the next pod while one is resynchronising.
set -eu
REDISCLI_AUTH=$(cat "$REPLICATION_PASSWORD_FILE")
export REDISCLI_AUTH
cli() { timeout 2 redis-cli -e --raw --no-auth-warning --user accord-replication -p "$REDIS_PORT" "$@"; }
[ "$(cli PING)" = PONG ]
# shellcheck disable=SC2046
set -- $(cli ROLE)
case ${1:-} in
  master) exit 0 ;;
  slave) [ "${4:-}" = connected ] ;;
  *) exit 1 ;;
esac
