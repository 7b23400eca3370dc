// Checks that the wasm builds of the test suite compile each shared dependency once: the package's
// builds (Burn alone, tract alone) and the browser test build (both engines) must ask for every
// dependency they share with the same features and profile, or cargo compiles it (and everything
// above it, all of Burn or all of tract) once more. Cargo.toml's `unify-` dependencies keep the
// feature sets equal; when a dependency update changes them, this lists what to add there.
//
// Reads cargo's unit graph (`--unit-graph`, a nightly flag: the threaded build's pinned nightly,
// which reads the same Cargo.lock); builds nothing.
// Usage: node scripts/check-feature-sets.mjs [--profile testing]
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const nightly = readFileSync(new URL("nightly-toolchain", import.meta.url), "utf8").trim();
const profileArg = process.argv.indexOf("--profile");
const profile = profileArg > 0 ? process.argv[profileArg + 1] : "testing";

const builds = {
  "package, Burn alone": ["build", "--lib", "--no-default-features", "--features", "burn,gpu-kernels"],
  "package, tract alone": ["build", "--lib", "--no-default-features", "--features", "tract"],
  "browser tests": ["test", "--features", "gpu-kernels", "--test", "web"],
};

/**
 * The dependencies' library units, by package id and side: those compiled for wasm32 and those for
 * the host (proc macros and what they use). Build scripts follow their package's features.
 */
function wasmLibUnits(args) {
  const out = execFileSync(
    "rustup",
    ["run", nightly, "cargo", ...args, "--target", "wasm32-unknown-unknown", "--profile", profile,
      "--unit-graph", "-Z", "unstable-options"],
    { cwd: root, encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "inherit"] },
  );
  const units = new Map();
  for (const unit of JSON.parse(out).units) {
    const kind = unit.target.kind;
    if (unit.mode !== "build" || !(kind.includes("lib") || kind.includes("proc-macro"))) continue;
    if (unit.pkg_id.startsWith("path+")) continue; // this crate and the vendored tract-linalg
    const side = unit.platform === null ? "host" : "wasm32";
    units.set(`${unit.pkg_id} (${side})`, {
      features: [...unit.features].sort().join(","),
      profile: JSON.stringify(unit.profile),
    });
  }
  return units;
}

const graphs = Object.fromEntries(Object.entries(builds).map(([name, args]) => [name, wasmLibUnits(args)]));
const [referenceName, ...others] = Object.keys(graphs);
const reference = graphs[referenceName];
let drift = 0;
for (const name of others) {
  for (const [id, unit] of graphs[name]) {
    const ref = reference.get(id);
    if (!ref) continue;
    const crate = id.replace(/^.*#/, "");
    if (ref.features !== unit.features) {
      drift++;
      console.log(`${crate}: "${name}" asks for [${unit.features}], "${referenceName}" for [${ref.features}]`);
    }
    if (ref.profile !== unit.profile) {
      drift++;
      console.log(`${crate}: "${name}" builds it with another profile than "${referenceName}"`);
    }
  }
}
if (drift > 0) {
  console.log(`\n${drift} shared dependencies would be compiled more than once: add the features of ` +
    `"${referenceName}" to Cargo.toml's \`unify-\` dependencies (wasm32 dependencies for wasm32, ` +
    `build-dependencies for the host).`);
  process.exit(1);
}
console.log(`the ${Object.keys(builds).length} wasm builds share every common dependency (profile ${profile})`);
