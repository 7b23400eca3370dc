#!/usr/bin/env bash
# Builds the package's threaded wasm (CPU path only) into pkg/threaded/: tract's matrix products on
# a pool of Web Workers sharing one memory. Threads in wasm need std rebuilt with atomics, so this
# uses a pinned nightly (installed by scripts/setup.sh) and its own target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
NIGHTLY=$(cat scripts/nightly-toolchain)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}-threaded
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
# --shared-memory: `+atomics` alone yields an unshared memory on current nightly (rust-lang/rust#147225).
# The TLS exports let wasm-bindgen give every worker its own thread-local storage.
export RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
  -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
if [ "${FASTSAM_WASM_PROFILE:-release}" = release ]; then profile=(--release); else profile=(--profile "$FASTSAM_WASM_PROFILE"); fi
rustup run "$NIGHTLY" wasm-pack build "${profile[@]}" --target web --out-dir pkg/threaded \
  --out-name fastsam_web_threaded --no-pack -- \
  --no-default-features --features threads -Z build-std=std,panic_abort
wasm=pkg/threaded/fastsam_web_threaded_bg.wasm
node scripts/strip-wasm-names.mjs "$wasm"
# Check the memory really is shared: without it the workers would each get their own copy.
node -e '
const m = new WebAssembly.Module(require("fs").readFileSync(process.argv[1]));
const mem = WebAssembly.Module.imports(m).find((i) => i.kind === "memory");
if (!mem) { console.error("the threaded build imports no memory"); process.exit(1); }
' "$wasm"
grep -Eq "shared: ?true" pkg/threaded/fastsam_web_threaded.js || {
  echo "the threaded build's memory is not shared (see rust-lang/rust#147225)" >&2
  exit 1
}
