#!/usr/bin/env bash
# Builds the npm package `ifmatch` into wasm/pkg/{node,web}:
#   cargo (wasm32, profile wasm-release) -> wasm-bindgen (nodejs + web) -> wasm-opt -Oz --converge (npm binaryen) -> sizes.
# Needs: rust target wasm32-unknown-unknown, wasm-bindgen-cli equal to the pinned crate version, node + npm.
# Writes wasm/pkg/size.json with the measured sizes (docs/performance.md quotes them).
set -euo pipefail
WASM_DIR="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$WASM_DIR/.." && pwd)"
cd "$WASM_DIR"
say() { printf '[build] %s\n' "$*"; }

PINNED=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$ROOT/Cargo.toml")
HAVE=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$HAVE" != "$PINNED" ]; then
  echo "error: wasm-bindgen-cli $PINNED is required (found '${HAVE:-none}'); run scripts/install-tools.sh" >&2
  exit 1
fi

# wasm-opt must come from the npm package `binaryen` (Debian's binaryen 108 writes wasm that fails to load).
if [ ! -x node_modules/.bin/wasm-opt ] || ! node_modules/.bin/wasm-opt --version | grep -q 'version 132'; then
  say "installing npm dev dependencies (binaryen, puppeteer-core, typescript)"
  npm ci --no-audit --no-fund --loglevel=error
fi
WASM_OPT="$WASM_DIR/node_modules/.bin/wasm-opt"

say "cargo build --target wasm32-unknown-unknown --profile wasm-release -p ifmatch-wasm"
# Keep the target_features section (the profile strips it) so wasm-bindgen sees which wasm features are on;
# wasm-opt strips everything that is not needed at run time afterwards.
(cd "$ROOT" && CARGO_PROFILE_WASM_RELEASE_STRIP=false cargo build --quiet --target wasm32-unknown-unknown --profile wasm-release -p ifmatch-wasm)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
RAW="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/ifmatch_wasm.wasm"

rm -rf pkg
mkdir -p pkg
# Features rustc enables by default for wasm32-unknown-unknown; wasm-opt must know them to keep (and use) them.
FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
          --enable-reference-types --enable-multivalue)
for target in nodejs web; do
  out=pkg/web
  [ "$target" = nodejs ] && out=pkg/node
  say "wasm-bindgen --target $target -> $out"
  wasm-bindgen --target "$target" --out-dir "$out" --out-name ifmatch_wasm --no-typescript "$RAW"
  # wasm-bindgen drops a `*` .gitignore that would also hide the files from `npm pack`.
  rm -f "$out/.gitignore"
  # Export IfmatchError (wasm/js/shim.js) from the glue; CommonJS for the nodejs build.
  node scripts/export-shim.mjs "$out" "$target"
  cp "$out/ifmatch_wasm_bg.wasm" "$out/ifmatch_wasm_bg.unopt.wasm"
  say "wasm-opt -Oz --converge ($("$WASM_OPT" --version))"
  # --converge repeats -Oz until nothing shrinks: about 0.4 KB gzipped for ~6 s more per target.
  "$WASM_OPT" -Oz --converge "${FEATURES[@]}" --strip-debug --strip-producers --strip-target-features "$out/ifmatch_wasm_bg.unopt.wasm" -o "$out/ifmatch_wasm_bg.wasm"
done
cp js/node-index.mjs pkg/node/index.mjs
cp js/web-index.js pkg/web/index.js
printf '{ "type": "module" }\n' > pkg/web/package.json

node scripts/sizes.mjs "$RAW" pkg/web/ifmatch_wasm_bg.unopt.wasm pkg/web/ifmatch_wasm_bg.wasm > pkg/size.json
node -e '
const s = require("./pkg/size.json");
const kb = (n) => (n / 1024).toFixed(1) + " KB";
for (const [k, v] of Object.entries(s.files)) console.log(`[build] ${k.padEnd(22)} raw ${kb(v.raw).padStart(9)}  gzip -9 ${kb(v.gzip).padStart(8)}`);
console.log("[build] sections of the shipped wasm: " + s.sections.map((x) => `${x.name} ${kb(x.size)}`).join(", "));
// IFMATCH_WASM_LIMIT_KB overrides the limit for one run, to test a build known to be over it; CI never sets it.
const limit = process.env.IFMATCH_WASM_LIMIT_KB ? Number(process.env.IFMATCH_WASM_LIMIT_KB) * 1024 : s.limitGzipBytes;
if (limit !== s.limitGzipBytes) console.log(`[build] warning: size limit overridden by IFMATCH_WASM_LIMIT_KB: ${kb(limit)} instead of ${kb(s.limitGzipBytes)}`);
if (s.files.optimized.gzip > limit) { console.error(`error: gzipped wasm ${kb(s.files.optimized.gzip)} exceeds the ${kb(limit)} limit`); process.exit(1); }
'
