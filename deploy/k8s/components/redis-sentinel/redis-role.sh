# Init container of each Redis pod: decides whether this pod starts as the
# primary or as a replica, and writes the configuration redis-server runs
# with ($CONF, on the data volume: Sentinel rewrites it on every role
# change, so it also remembers the last role). In this order:
#   1. the primary the Sentinels name (asked for up to $SENTINEL_WAIT
#      seconds): after a failover that is not pod 0;
#   2. no Sentinel answers (they are restarting too): the role this pod last
#      ran with, so a restart of everything comes back as it was;
#   3. neither (first boot): pod 0 is the primary, the others its replicas.
# Environment: SELF_HOST and REDIS_PORT (this pod's address), REDIS_NODES
# ("host:port ...", pod 0 first), SENTINELS ("host:port ..."), MASTER_NAME,
# SENTINEL_WAIT, TEMPLATE (redis.conf from the ConfigMap), CONF,
# REPLICATION_PASSWORD_FILE, SENTINEL_LIB (sentinel-lib.sh).
set -eu

# ask_sentinels: "HOST PORT" of the primary the first answering Sentinel
# names.
# shellcheck source=sentinel-lib.sh
. "$SENTINEL_LIB"

password=$(cat "$REPLICATION_PASSWORD_FILE")
# Written into redis.conf unquoted: keep to characters that need no quoting.
case $password in
  '' | *[!A-Za-z0-9._~+=-]*)
    echo "redis-role: the replication password must be non-empty [A-Za-z0-9._~+=-] (e.g. openssl rand -hex 32)" >&2
    exit 1 ;;
esac

primary=""
source=""
deadline=$(($(date +%s) + SENTINEL_WAIT))
while :; do
  if primary=$(ask_sentinels); then
    source="named by the Sentinels"
    break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 2
done
if [ -z "$primary" ] && [ -f "$CONF" ]; then
  # "replicaof HOST PORT" (HOST possibly quoted), as CONFIG REWRITE writes it.
  primary=$(sed -n 's/^replicaof[[:space:]][[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}[[:space:]][[:space:]]*\([0-9][0-9]*\).*$/\1 \2/p' "$CONF" | tail -n 1)
  [ -n "$primary" ] || primary="$SELF_HOST $REDIS_PORT"
  source="no Sentinel answered; the role this pod last ran with"
fi
if [ -z "$primary" ]; then
  # shellcheck disable=SC2086
  set -- $REDIS_NODES
  primary="${1%:*} ${1##*:}"
  source="no Sentinel answered and no earlier role: first boot"
fi

{
  cat "$TEMPLATE"
  echo
  echo "# Added by redis-role.sh at pod start; Sentinel rewrites the role."
  echo "replica-announce-ip $SELF_HOST"
  echo "masteruser accord-replication"
  echo "masterauth $password"
  if [ "$primary" != "$SELF_HOST $REDIS_PORT" ]; then
    echo "replicaof $primary"
  fi
} >"$CONF.new"
chmod 0600 "$CONF.new"
mv "$CONF.new" "$CONF"

if [ "$primary" = "$SELF_HOST $REDIS_PORT" ]; then
  echo "redis-role: $SELF_HOST starts as the primary ($source)"
else
  echo "redis-role: $SELF_HOST starts as a replica of $primary ($source)"
fi
