# Init container of each Sentinel: writes its configuration into a writable
# emptyDir (Sentinel rewrites the file as it learns the topology), from the
# ConfigMap's template, naming the primary to monitor:
#   1. the primary the other Sentinels name (this one restarted);
#   2. else the Redis pods (all Sentinels restarted): the one that says it
#      is the primary (ROLE), else the primary a replica follows; the pods
#      that answered are listed as known replicas, so a failover is possible
#      even if that primary is gone;
#   3. else (first boot) pod 0.
# 1 and 2 are retried for up to $BOOT_WAIT seconds.
# Environment: SELF_HOST, SELF_PORT, MASTER_NAME, SENTINELS ("host:port ..."),
# REDIS_NODES ("host:port ...", pod 0 first), BOOT_WAIT, TEMPLATE, CONF,
# SENTINEL_PASSWORD_FILE (the accord-sentinel user's, on Redis and on the
# Sentinels), SENTINEL_LIB (sentinel-lib.sh).
set -eu

password=$(cat "$SENTINEL_PASSWORD_FILE")
case $password in
  '' | *[!A-Za-z0-9._~+=-]*)
    echo "sentinel-config: the Sentinel password must be non-empty [A-Za-z0-9._~+=-] (e.g. openssl rand -hex 32)" >&2
    exit 1 ;;
esac

# ask_sentinels HOST:PORT: "HOST PORT" of the primary the first answering
# Sentinel other than HOST:PORT (this one) names.
# shellcheck source=sentinel-lib.sh
. "$SENTINEL_LIB"

# Sets primary (and known_replicas) from the Redis pods' ROLE, if any answers.
ask_redis() {
  primary=""
  followed=""
  known_replicas=""
  for node in $REDIS_NODES; do
    role=$(REDISCLI_AUTH=$password timeout 3 redis-cli -e --raw --no-auth-warning \
      --user accord-sentinel -h "${node%:*}" -p "${node##*:}" ROLE 2>/dev/null) || continue
    # shellcheck disable=SC2086
    set -- $role
    case ${1:-} in
      master) [ -n "$primary" ] || primary="${node%:*} ${node##*:}" ;;
      slave)
        known_replicas="$known_replicas $node"
        [ -n "$followed" ] || followed="$2 $3" ;;
    esac
  done
  [ -n "$primary" ] || primary=$followed
  [ -n "$primary" ]
}

source=""
known_replicas=""
deadline=$(($(date +%s) + BOOT_WAIT))
while :; do
  if primary=$(ask_sentinels "$SELF_HOST:$SELF_PORT"); then
    source="named by another Sentinel"
    break
  fi
  if ask_redis; then
    source="from the Redis pods' roles"
    break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 2
done
if [ -z "$source" ]; then
  # shellcheck disable=SC2086
  set -- $REDIS_NODES
  primary="${1%:*} ${1##*:}"
  source="nothing answered: first boot"
fi

hash=$(printf %s "$password" | sha256sum | cut -d ' ' -f 1)
# shellcheck disable=SC2086
set -- $primary
sed -e "s|@SELF_HOST@|$SELF_HOST|g" -e "s|@MASTER_NAME@|$MASTER_NAME|g" \
  -e "s|@PRIMARY_HOST@|$1|g" -e "s|@PRIMARY_PORT@|$2|g" \
  -e "s|@SENTINEL_PASSWORD_SHA256@|$hash|g" "$TEMPLATE" >"$CONF.new"
{
  echo
  echo "# Added by sentinel-config.sh at pod start."
  echo "sentinel auth-pass $MASTER_NAME $password"
  echo "sentinel sentinel-pass $password"
  for node in $known_replicas; do
    [ "$node" = "$1:$2" ] || echo "sentinel known-replica $MASTER_NAME ${node%:*} ${node##*:}"
  done
} >>"$CONF.new"
chmod 0600 "$CONF.new"
mv "$CONF.new" "$CONF"
echo "sentinel-config: $SELF_HOST monitors $MASTER_NAME at $1:$2 ($source)"
