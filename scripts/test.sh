#!/usr/bin/env bash
# Runs every test. Installs what the tests need when it is missing (a fresh
# machine has only the Rust toolchain): redis-server, which the tests start
# themselves on free loopback ports (Debian's is built with TLS), the openssl
# CLI, which makes the certificates of the TLS Redis tests, and Chromium with
# chromedriver for the browser tests (tests/browser.rs, tests/oidc.rs), and
# node/npm with the real npm packages the Actions of tests/api/npm_real.rs
# load (tests/fixtures/npm-real) and the OpenID Provider integration of
# tests/oidc.rs (integrations/oidc-provider).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The real npm packages, exactly as the lockfile pins them; installed again
# only when node_modules is missing or older than the lockfile. No install
# scripts run: Detour loads the packages' JavaScript, nothing they build.
# The same for the OpenID Provider integration the browser tests run
# (tests/oidc.rs): oidc-provider, openid-client and jose, run by node.
for npm_dir in tests/fixtures/npm-real integrations/oidc-provider; do
  if [ ! -d "$npm_dir/node_modules" ] ||
    [ "$npm_dir/package-lock.json" -nt "$npm_dir/node_modules" ]; then
    echo "installing the npm packages of $npm_dir"
    (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$npm_dir/node_modules"
  fi
done

cargo test --locked "$@"
