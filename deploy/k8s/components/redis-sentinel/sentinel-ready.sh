# Readiness of a Sentinel: it can reach the quorum and elect a failover
# leader with its peers (CKQUORUM), and it knows every replica of the
# primary. A Sentinel learns replicas from the primary's INFO, every 10s; one
# that leads a failover without knowing a replica never points that replica
# at the new primary. So a rolling update moves on, and a drain may take
# another Sentinel, only once this one knows them all.
set -eu
REDISCLI_AUTH=$(cat "$SENTINEL_PASSWORD_FILE")
export REDISCLI_AUTH
cli() { timeout 2 redis-cli -e --raw --no-auth-warning --user accord-sentinel -p "$SELF_PORT" "$@"; }
cli SENTINEL CKQUORUM "$MASTER_NAME" | grep -q '^OK'
known=$(cli SENTINEL MASTER "$MASTER_NAME" | sed -n '/^num-slaves$/{n;p;}')
# shellcheck disable=SC2086
set -- $REDIS_NODES
[ "${known:-0}" -ge $(($# - 1)) ]
