#!/usr/bin/env bash
# The local demo stack without Docker: the processes of docker-compose.yml,
# on loopback.
#
#   redis-server (AOF on, data in a temporary directory)
#   detour       on examples/demo/detour.toml (Redis store, roles, deny-blocked
#                and terms Actions)
#   demo upstream  (cargo example demo_upstream): the login page, the one URL to open
#   demo site      (cargo example demo_site): the terms-of-service page
# and with --oidc (needs node; runs `npm ci` in integrations/oidc-provider once):
#   OpenID Provider  (integrations/oidc-provider/provider.js): Detour is its post-login step
#   relying party    (integrations/oidc-provider/rp.js): the one URL to open
#
# It waits until all of them answer, prints the URL to open, and stops them
# all on Ctrl-C, on SIGTERM, or when any of them exits.
#
#   scripts/local-stack.sh            # debug build of detour and the examples
#   scripts/local-stack.sh --release  # optimised build
#   scripts/local-stack.sh --oidc     # also the OpenID Provider and the relying party
#
# Environment (defaults in brackets):
#   DEMO_HOST [localhost]       host name in the URLs the browser follows
#   DEMO_SITE_HOST [DEMO_HOST]  the terms site's host name; e.g. 127.0.0.1 makes
#       it another site than Detour, as a real external site is
#   DEMO_REDIS_PORT [6380]  DEMO_DETOUR_PORT [8080]
#   DEMO_UPSTREAM_PORT [8081]  DEMO_SITE_PORT [8082]
#   DEMO_OP_PORT [8083]  DEMO_RP_PORT [8084]   (--oidc)
#   DEMO_API_KEY, DEMO_RESULT_SECRET, DEMO_TOS_SECRET, OIDC_API_KEY,
#   OIDC_RESULT_SECRET, RP_CLIENT_SECRET   [well-known demo values]
#   DEMO_DETOUR_BIN, DEMO_UPSTREAM_BIN, DEMO_SITE_BIN   prebuilt binaries; when
#       all three are set nothing is built
#   DEMO_WAIT_SECS [60]         how long to wait for the processes to answer
#   RUST_LOG                    passed on to detour
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD

profile=debug
oidc=0
for arg in "$@"; do
  case "$arg" in
    --release) profile=release ;;
    --oidc) oidc=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "local-stack: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

host=${DEMO_HOST:-localhost}
site_host=${DEMO_SITE_HOST:-$host}
redis_port=${DEMO_REDIS_PORT:-6380}
detour_port=${DEMO_DETOUR_PORT:-8080}
upstream_port=${DEMO_UPSTREAM_PORT:-8081}
site_port=${DEMO_SITE_PORT:-8082}
op_port=${DEMO_OP_PORT:-8083}
rp_port=${DEMO_RP_PORT:-8084}
wait_secs=${DEMO_WAIT_SECS:-60}

detour_url="http://$host:$detour_port"
upstream_url="http://$host:$upstream_port"
site_url="http://$site_host:$site_port"
op_url="http://$host:$op_port"
rp_url="http://$host:$rp_port"

say() { echo "local-stack: $*"; }
die() { echo "local-stack: $*" >&2; exit 1; }

command -v redis-server >/dev/null 2>&1 ||
  die "redis-server is not installed (Debian: apt-get install redis-server)"

# A port answers a TCP connect.
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# GET path on 127.0.0.1:port answers 200.
http_ok() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&3
    IFS= read -r -t 5 status <&3 || exit 1
    [[ $status == HTTP/1.?" 200"* ]]
  ) 2>/dev/null
}

ports=("$redis_port" "$detour_port" "$upstream_port" "$site_port")
[[ $oidc -eq 0 ]] || ports+=("$op_port" "$rp_port")
for port in "${ports[@]}"; do
  if answers "$port"; then
    die "port $port is already in use (see DEMO_*_PORT in scripts/local-stack.sh --help)"
  fi
done

# --- binaries -----------------------------------------------------------------
if [[ -n ${DEMO_DETOUR_BIN:-} && -n ${DEMO_UPSTREAM_BIN:-} && -n ${DEMO_SITE_BIN:-} ]]; then
  # Relative to where the script was started from.
  absolute() { case $1 in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }
  detour_bin=$(absolute "$DEMO_DETOUR_BIN")
  upstream_bin=$(absolute "$DEMO_UPSTREAM_BIN")
  site_bin=$(absolute "$DEMO_SITE_BIN")
else
  build=(cargo build --bin detour --example demo_upstream --example demo_site)
  [[ $profile == release ]] && build+=(--release)
  say "building: ${build[*]}"
  "${build[@]}"
  out=${CARGO_TARGET_DIR:-$root/target}/$profile
  detour_bin=$out/detour upstream_bin=$out/examples/demo_upstream site_bin=$out/examples/demo_site
fi
for bin in "$detour_bin" "$upstream_bin" "$site_bin"; do
  [[ -x $bin ]] || die "not an executable: $bin"
done

integration=$root/integrations/oidc-provider
if [[ $oidc -eq 1 ]]; then
  command -v node >/dev/null 2>&1 || die "--oidc needs node (Debian: apt-get install nodejs npm)"
  if [[ ! -d $integration/node_modules ]]; then
    say "installing the integration's npm packages (npm ci in $integration)"
    (cd "$integration" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
fi

# --- secrets, shared by the parties that must agree --------------------------
defaulted=()
[[ -n ${DEMO_API_KEY:-} ]] || { DEMO_API_KEY=demo-api-key; defaulted+=(DEMO_API_KEY); }
[[ -n ${DEMO_RESULT_SECRET:-} ]] || { DEMO_RESULT_SECRET=demo-result-secret-for-laptops-only; defaulted+=(DEMO_RESULT_SECRET); }
[[ -n ${DEMO_TOS_SECRET:-} ]] || { DEMO_TOS_SECRET=demo-tos-secret; defaulted+=(DEMO_TOS_SECRET); }
[[ -n ${OIDC_API_KEY:-} ]] || { OIDC_API_KEY=demo-oidc-api-key; defaulted+=(OIDC_API_KEY); }
[[ -n ${OIDC_RESULT_SECRET:-} ]] || { OIDC_RESULT_SECRET=demo-oidc-result-secret-for-laptops-only; defaulted+=(OIDC_RESULT_SECRET); }
[[ -n ${RP_CLIENT_SECRET:-} ]] || { RP_CLIENT_SECRET=demo-rp-secret; defaulted+=(RP_CLIENT_SECRET); }
export DEMO_API_KEY DEMO_RESULT_SECRET DEMO_TOS_SECRET OIDC_API_KEY OIDC_RESULT_SECRET RP_CLIENT_SECRET
[[ ${#defaulted[@]} -eq 0 ]] || say "using the well-known demo values of ${defaulted[*]}"

# --- the run directory: the rendered config and Redis's data -----------------
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/detour-local-stack.XXXXXX")
# The demo config with this run's callback URLs and absolute Action paths.
sed -e "s#\"http://localhost:8081/callback\"#\"$upstream_url/callback\"#" \
    -e "s#\"http://localhost:8083/detour/callback\"#\"$op_url/detour/callback\"#" \
    -e "s#^file = \"\\([^/][^\"]*\\)\"#file = \"$root/examples/demo/\\1\"#" \
    examples/demo/detour.toml >"$run_dir/detour.toml"
grep -q "\"$upstream_url/callback\"" "$run_dir/detour.toml" ||
  die "could not set return_to in $run_dir/detour.toml"

# --- processes ----------------------------------------------------------------
pids=()
names=()
stopping=0

# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() {
  local status=$?
  [[ $stopping -eq 1 ]] && return
  stopping=1
  # A second signal (a process-group kill, Ctrl-C again) must not cut the
  # clean-up short.
  trap '' INT TERM
  if [[ ${#pids[@]} -gt 0 ]]; then
    say "stopping ${names[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$run_dir"
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs it in the background, its output prefixed.
start() {
  local name=$1
  shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
  names+=("$name")
}

start redis redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir" \
  --appendonly yes --save "" --loglevel warning

DETOUR_CONFIG="$run_dir/detour.toml" \
DETOUR_SERVER__LISTEN="127.0.0.1:$detour_port" \
DETOUR_SERVER__PUBLIC_URL="$detour_url" \
DETOUR_STORE__REDIS_URL="redis://127.0.0.1:$redis_port" \
DEMO_SITE_URL="$site_url" \
  start detour "$detour_bin"

DEMO_UPSTREAM_LISTEN="127.0.0.1:$upstream_port" \
DEMO_UPSTREAM_URL="$upstream_url" \
DEMO_UPSTREAM_ID=demo-upstream \
DETOUR_API_URL="http://127.0.0.1:$detour_port" \
DETOUR_PUBLIC_URL="$detour_url" \
  start upstream "$upstream_bin"

DEMO_SITE_LISTEN="127.0.0.1:$site_port" \
DEMO_SITE_URL="$site_url" \
DETOUR_PUBLIC_URL="$detour_url" \
  start site "$site_bin"

if [[ $oidc -eq 1 ]]; then
  OP_LISTEN="127.0.0.1:$op_port" \
  OP_ISSUER="$op_url" \
  RP_URL="$rp_url" \
  DETOUR_API_URL="http://127.0.0.1:$detour_port" \
  DETOUR_PUBLIC_URL="$detour_url" \
    start provider node "$integration/provider.js"

  RP_LISTEN="127.0.0.1:$rp_port" \
  RP_URL="$rp_url" \
  OP_ISSUER="$op_url" \
    start rp node "$integration/rp.js"
fi

# --- wait until all of them answer ---------------------------------------------
ready() {
  answers "$redis_port" && http_ok "$detour_port" /readyz &&
    http_ok "$upstream_port" /healthz && http_ok "$site_port" /healthz &&
    { [[ $oidc -eq 0 ]] || { http_ok "$op_port" /healthz && http_ok "$rp_port" /healthz; }; }
}
deadline=$((SECONDS + wait_secs))
until ready; do
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || die "${names[$i]} exited before the stack was ready"
  done
  ((SECONDS < deadline)) || die "the stack did not answer within ${wait_secs}s"
  sleep 0.2
done

if [[ $oidc -eq 1 ]]; then
  say "ready: open $rp_url (the relying party) or $upstream_url (the demo upstream)"
  say "  OpenID Provider $op_url, detour $detour_url, terms site $site_url, redis 127.0.0.1:$redis_port"
else
  say "ready: open $upstream_url"
  say "  detour $detour_url, terms site $site_url, redis 127.0.0.1:$redis_port"
fi
say "  Ctrl-C stops everything"

# Until a signal, or until one of them exits.
set +e
wait -n "${pids[@]}"
status=$?
for i in "${!pids[@]}"; do
  kill -0 "${pids[$i]}" 2>/dev/null || say "${names[$i]} exited (status $status)"
done
exit 1
