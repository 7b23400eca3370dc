#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there:
# the wasm32 Rust target, the pinned nightly for the threaded build, wasm-pack and the matching wasm-bindgen CLI, npm packages, and (with
# --browser) Debian's Chromium and ChromeDriver for the headless browser tests and Mesa's lavapipe
# (a Vulkan driver on the CPU) for the native wgpu test of the Burn port.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=..."` pin in Cargo.toml
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
source scripts/steps.sh

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# tract-linalg's own tests of the vendored wasm kernels run on wasm32-wasip1 (vendor/test-linalg.sh).
if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  say "adding the wasm32-wasip1 target (tract-linalg's kernel tests)"
  rustup target add wasm32-wasip1
fi

# The threaded wasm build rebuilds std with atomics: a pinned nightly with its sources.
NIGHTLY=$(cat scripts/nightly-toolchain)
# Its clippy lints the threaded build's code (scripts/clippy-in-builds.sh).
if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
  || ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^rust-src' \
  || ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^clippy' \
  || ! rustup target list --toolchain "$NIGHTLY" --installed | grep -qx wasm32-unknown-unknown; then
  say "installing the $NIGHTLY toolchain with rust-src and clippy (threaded wasm build)"
  step "set-up: nightly toolchain" rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src,clippy --target wasm32-unknown-unknown
fi

# wasm-pack only runs cargo and wasm-bindgen: compiled at opt-level 0 it installs in 98 s instead
# of 133 s. wasm-bindgen-cli rewrites 20-60 MB wasm files and keeps cargo's release default (its
# build took longer at opt-level 1, not shorter).
if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION (1-2 minutes)"
  step "set-up: wasm-pack (compiled)" env CARGO_PROFILE_RELEASE_OPT_LEVEL=0 cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  # Not --locked: with its lock file the resolution of webpki-roots fails.
  step "set-up: wasm-bindgen-cli (compiled)" cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$browser" = 1 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  say "installing Debian's chromium and chromium-driver"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  install_chromium() {
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
  }
  step "set-up: chromium and chromium-driver (apt)" install_chromium
fi

if [ "$browser" = 1 ] && ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1; then
  say "installing Debian's mesa-vulkan-drivers (lavapipe)"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  install_lavapipe() {
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers >/dev/null
  }
  step "set-up: mesa-vulkan-drivers (apt)" install_lavapipe
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  step "set-up: npm ci" npm ci --no-audit --no-fund
fi
say "ready"
