# Shell helpers shared by scripts that start the suite by hand
# (scripts/demo.sh, clients/run_client_tests.sh). Source it; not a command.

# A loopback TCP port nobody listens on right now.
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# wait_for_log FILE PATTERN WHAT: waits up to 15 s for PATTERN in FILE;
# otherwise prints the log and exits 1.
wait_for_log() {
  for _ in $(seq 1 150); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$3 did not start; its log:" >&2
  cat "$1" >&2
  exit 1
}
