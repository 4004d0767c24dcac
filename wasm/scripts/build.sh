#!/usr/bin/env bash
# Builds the npm package `ifmatch` into wasm/pkg (one wasm for every entry):
#   cargo (wasm32, profile wasm-release) -> wasm-bindgen (web: ES module glue; nodejs: CommonJS glue)
#   -> wasm-opt -Os --converge (npm binaryen) -> entries (wasm/js) and declarations (wasm/types) -> sizes.
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
BINDGEN=$(mktemp -d)
trap 'rm -rf "$BINDGEN"' EXIT
# web: the ES module glue (init/initSync; no default URL, wasm/js/index.js passes one), used by
# browsers, bundlers and Node's `import`. nodejs: the CommonJS glue for `require`. Both glues load
# the same wasm, which wasm-bindgen writes identically for the two targets: it is shipped once.
for target in web nodejs; do
  say "wasm-bindgen --target $target"
  extra=()
  [ "$target" = web ] && extra=(--omit-default-module-path)
  wasm-bindgen --target "$target" "${extra[@]}" --out-dir "$BINDGEN/$target" --out-name ifmatch_wasm --no-typescript "$RAW"
  # Export IfmatchError (wasm/js/shim.js) from the glue; CommonJS (shim.cjs) for the nodejs glue.
  node scripts/export-shim.mjs "$BINDGEN/$target" "$target"
done
if ! cmp -s "$BINDGEN/web/ifmatch_wasm_bg.wasm" "$BINDGEN/nodejs/ifmatch_wasm_bg.wasm"; then
  echo "error: wasm-bindgen wrote different wasm for --target web and nodejs; the package ships one" >&2
  exit 1
fi
cp "$BINDGEN/web/ifmatch_wasm.js" pkg/ifmatch_wasm.js
cp -r "$BINDGEN/web/snippets" pkg/snippets
cp "$BINDGEN/nodejs/ifmatch_wasm.js" pkg/ifmatch_wasm.cjs
(cd "$BINDGEN/nodejs" && find snippets -name '*.cjs') | while read -r f; do cp "$BINDGEN/nodejs/$f" "pkg/$f"; done
# The CommonJS glue reads the wasm next to itself by its file name.
grep -q "ifmatch_wasm_bg.wasm" pkg/ifmatch_wasm.cjs || { echo "error: pkg/ifmatch_wasm.cjs does not load ifmatch_wasm_bg.wasm" >&2; exit 1; }
cp "$BINDGEN/web/ifmatch_wasm_bg.wasm" pkg/ifmatch_wasm_bg.unopt.wasm
say "wasm-opt -Os --converge ($("$WASM_OPT" --version))"
# --converge repeats -Os until nothing shrinks: about 0.4 KB gzipped for ~6 s more. -Os, not -Oz:
# -Oz writes fewer bytes (604.6 KB raw against 609.1) that compress worse (263.5 KB gzipped against
# 262.6), and the limit is on the gzipped size (docs/performance.md, "size pass (issue #18 follow-up)").
"$WASM_OPT" -Os --converge "${FEATURES[@]}" --strip-debug --strip-producers --strip-target-features pkg/ifmatch_wasm_bg.unopt.wasm -o pkg/ifmatch_wasm_bg.wasm

# Entries: index.js (ES module: browsers, bundlers), node.js (Node `import`), index.cjs (Node `require`).
cp js/index.js js/node.js js/index.cjs js/guard.js pkg/
node scripts/export-shim.mjs --cjs js/guard.js pkg/guard.cjs
printf '{ "type": "module" }\n' > pkg/package.json
# Declarations from one source: .d.ts for the ES module entries, .d.cts for require (no "masquerading").
node scripts/declarations.mjs types pkg

node scripts/sizes.mjs "$RAW" pkg/ifmatch_wasm_bg.unopt.wasm pkg/ifmatch_wasm_bg.wasm > pkg/size.json
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
