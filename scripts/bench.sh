#!/usr/bin/env bash
# The load benchmark (docs/performance.md): builds a release Detour and the
# load generator, starts a throw-away redis-server, three Detour servers and
# two JavaScript-free floor servers (the load binary run as
# `load floor <config>`, benches/load/floor.rs) on free loopback ports, runs
# benches/load/ against them, and stops everything it started. Prints one
# table: A (allow path), B (full detour), their JS-free floors, the ratios,
# p99 at half of peak, RSS and Redis bytes per suspended login; then good
# logins alone (L) and beside logins that loop in an Action until their
# time limit (LL).
#
# Knobs (environment): BENCH_SECS (3) seconds per phase, BENCH_ROUNDS (3),
# BENCH_CONNECTIONS (32), BENCH_LOOPERS (2), BENCH_ONLY (e.g. A,FA).
# The run takes about 150 s after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing: redis-server"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq redis-server >/dev/null
fi

echo "building (release)…" >&2
# The server as it ships (release: whole-program LTO); the load generator
# with LTO off, as it was built before the release profile had LTO: a
# faster client turns L into a server-bound run, and LL/L then measured
# 80-87 % instead of 90-98 % against the same server (docs/performance.md,
# Session 8). The measuring tool stays the same when the server's build
# changes. The client has a target directory of its own: building it in
# the default one rebuilds the package's binary there without LTO, and a
# later `compare.py` (which runs target/release/detour) then measured
# that build, not the shipped one (docs/performance.md, item 50).
executable() { # build json, target kind, name
  printf '%s\n' "$1" | grep "\"kind\":\[\"$2\"\]" | grep "\"name\":\"$3\"" \
    | sed -E 's/.*"executable":"([^"]+)".*/\1/' | tail -1
}
server_json=$(cargo build --release --locked --bin detour \
  --message-format=json-render-diagnostics)
detour_bin=$(executable "$server_json" bin detour)
client_json=$(CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo build --release --locked --bench load --target-dir target/load-client \
  --message-format=json-render-diagnostics)
load_bin=$(executable "$client_json" bench load)
[ -x "$detour_bin" ] && [ -x "$load_bin" ] || { echo "build produced no binaries" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A port nobody listens on now (checked again by the server's own bind).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# Waits until GET $2 on port $1 answers 200.
wait_http() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1" \
        && printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3 \
        && head -1 <&3 | grep -q ' 200 ') 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --logfile "$work/redis.log" --daemonize no &
pids+=($!)
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping | grep -q PONG || { echo "redis-server did not start" >&2; exit 1; }

export DETOUR_DEMO_API_KEY=demo-api-key
export DETOUR_DEMO_RESULT_SECRET=demo-result-secret-for-laptops-only
export DETOUR_FAVORITE_COLOR_SECRET=demo-favorite-color-secret
export DETOUR_STORE__REDIS_URL="redis://127.0.0.1:$redis_port"
# Per-login info lines would measure the terminal, not Detour.
export RUST_LOG=warn

start_detour() { # config, port -> pid
  DETOUR_SERVER__LISTEN="127.0.0.1:$2" "$detour_bin" --config "$1" \
    >"$work/detour-$2.log" 2>&1 &
  echo $!
}
allow_port=$(free_port)
allow_pid=$(start_detour tests/fixtures/bench/allow.toml "$allow_port")
pids+=("$allow_pid")
detour_port=$(free_port)
detour_pid=$(start_detour tests/fixtures/bench/detour.toml "$detour_port")
pids+=("$detour_pid")
loops_port=$(free_port)
loops_pid=$(start_detour tests/fixtures/bench/loops.toml "$loops_port")
pids+=("$loops_pid")
start_floor() { # config, port -> pid
  DETOUR_SERVER__LISTEN="127.0.0.1:$2" "$load_bin" floor "$1" \
    >"$work/floor-$2.log" 2>&1 &
  echo $!
}
floor_allow_port=$(free_port)
floor_allow_pid=$(start_floor tests/fixtures/bench/allow.toml "$floor_allow_port")
pids+=("$floor_allow_pid")
floor_detour_port=$(free_port)
floor_detour_pid=$(start_floor tests/fixtures/bench/detour.toml "$floor_detour_port")
pids+=("$floor_detour_pid")
for port in "$allow_port" "$detour_port" "$loops_port" "$floor_allow_port" "$floor_detour_port"; do
  wait_http "$port" /readyz || { echo "the server on $port did not start:" >&2; cat "$work"/*.log >&2; exit 1; }
done

echo
echo "Detour load benchmark, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo) GiB"
echo "$(rustc --version); $(redis-server --version | cut -d' ' -f1-3); Detour and the load generator on the same cores"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the numbers)"

BENCH_ALLOW_URL="http://127.0.0.1:$allow_port" BENCH_ALLOW_PID="$allow_pid" \
BENCH_DETOUR_URL="http://127.0.0.1:$detour_port" BENCH_DETOUR_PID="$detour_pid" \
BENCH_FLOOR_ALLOW_URL="http://127.0.0.1:$floor_allow_port" BENCH_FLOOR_ALLOW_PID="$floor_allow_pid" \
BENCH_FLOOR_DETOUR_URL="http://127.0.0.1:$floor_detour_port" BENCH_FLOOR_DETOUR_PID="$floor_detour_pid" \
BENCH_LOOPS_URL="http://127.0.0.1:$loops_port" BENCH_LOOPS_PID="$loops_pid" \
BENCH_REDIS_URL="redis://127.0.0.1:$redis_port" BENCH_REDIS_PID="$redis_pid" \
  "$load_bin"
