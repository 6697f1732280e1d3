#!/usr/bin/env bash
# Runs every test. Installs what the tests need when it is missing (a fresh
# machine has only the Rust toolchain): redis-server, which the tests start
# themselves on free loopback ports (Debian's is built with TLS), the openssl
# CLI, which makes the certificates of the TLS Redis tests, and Chromium with
# chromedriver for the browser test (tests/browser.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

cargo test --locked "$@"
