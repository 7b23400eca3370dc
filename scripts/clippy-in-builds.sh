# Sourced, not run: from here on clippy lints this crate inside every cargo build, as `cargo clippy`
# itself runs it (clippy-driver as the workspace's compiler wrapper, `-D warnings`), so the test
# suite's builds are also its lint runs and no separate `cargo clippy` graph is compiled. Only this
# crate goes through clippy; dependencies are compiled by plain rustc and shared with every other
# build. Cargo tracks CLIPPY_ARGS, so this crate's linted artifacts never stand in for plain ones.
#
# What scripts/test.sh builds, and so lints, covers the configurations of scripts/lint.sh:
#   native tests        native, burn + tract + threads, every target (lib, unit and integration
#                       tests, examples);
#   native wgpu test    native, burn with wgpu (no tract): the library and tests/burn_wgpu.rs;
#   browser tests       wasm32, burn + tract (both engines) and tests/web.rs;
#   npm run build       wasm32 with Burn alone (pkg/webgpu/), tract alone (pkg/cpu/), and tract with
#                       threads on the pinned nightly (pkg/threaded/; its clippy is that nightly's).
# `clippy-driver` is found on PATH: rustup's proxy picks the toolchain cargo runs under.
export RUSTC_WORKSPACE_WRAPPER=clippy-driver
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
