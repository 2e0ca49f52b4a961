# Sourced by redis-role.sh (Redis pods' init container) and
# sentinel-config.sh (Sentinels' init container), from $SENTINEL_LIB: what
# both ask the Sentinels. Environment: SENTINELS ("host:port ..."),
# MASTER_NAME.

# "HOST PORT" of the primary the first answering Sentinel names, skipping
# the Sentinel at "host:port" $1 if given (a Sentinel asking its peers).
ask_sentinels() {
  skip=${1:-}
  for sentinel in $SENTINELS; do
    [ "$sentinel" = "$skip" ] && continue
    answer=$(timeout 3 redis-cli -e --raw -h "${sentinel%:*}" -p "${sentinel##*:}" \
      SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null) || continue
    # shellcheck disable=SC2086
    set -- $answer
    [ $# -eq 2 ] || continue
    case $2 in '' | *[!0-9]*) continue ;; esac
    echo "$1 $2"
    return 0
  done
  return 1
}
