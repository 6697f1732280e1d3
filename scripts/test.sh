#!/usr/bin/env bash
# Runs every test. Installs what the tests need when it is missing (a fresh
# machine has only the Rust toolchain): redis-server, which the tests start
# themselves on free loopback ports (Debian's is built with TLS), the openssl
# CLI, which makes the certificates of the TLS Redis tests, and Chromium with
# chromedriver for the browser test (tests/browser.rs), and node/npm with
# the real npm packages the Actions of tests/api/npm_real.rs load
# (tests/fixtures/npm-real).
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
npm_fixtures=tests/fixtures/npm-real
if [ ! -d "$npm_fixtures/node_modules" ] ||
  [ "$npm_fixtures/package-lock.json" -nt "$npm_fixtures/node_modules" ]; then
  echo "installing the npm test fixtures ($npm_fixtures)"
  (cd "$npm_fixtures" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$npm_fixtures/node_modules"
fi

cargo test --locked "$@"
