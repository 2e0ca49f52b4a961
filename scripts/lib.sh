# Shell helpers shared by scripts that start the suite by hand
# (scripts/demo.sh, clients/run_client_tests.sh). Source it; not a command.

# A loopback TCP port nobody listens on right now.
free_port() {
  # Below the ephemeral range where the kernel can, so a port that no one
  # listens on yet cannot meanwhile be some outgoing connection's local
  # port (which a connect probe would not notice; seen under ctest -j2).
  local low=32768 high port first=20000 span=40000
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  if ((low > 12000)); then
    first=10000
    span=$((low - 10000))
  fi
  # A chosen port is reserved until the calling script ends, with the same
  # lock file the C++ test harness takes (tests/harness/processes.cc), so
  # that tests running side by side never choose the same port before its
  # process listens. This runs in $(...): a background holder that inherits
  # the locked descriptor keeps the lock after the subshell returns.
  local locks="${TMPDIR:-/tmp}/accord-test-ports"
  mkdir -p "$locks" 2>/dev/null && chmod 777 "$locks" 2>/dev/null
  while true; do
    port=$((first + (RANDOM * 32768 + RANDOM) % span))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if exec 9>"$locks/$port" 2>/dev/null; then
      flock -n 9 || { exec 9>&-; continue; }
      (while kill -0 "$$" 2>/dev/null; do sleep 2; done) >/dev/null 2>&1 </dev/null &
      exec 9>&-
    fi
    echo "$port"
    return
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
