// Run by wasm/scripts/build.sh after wasm-bindgen, once per build: `node export-shim.mjs <out-dir> <nodejs|web>`;
// and `node export-shim.mjs --cjs <in.js> <out.cjs>` to turn wasm/js/guard.js into CommonJS.
//
// wasm-bindgen copies wasm/js/shim.js (the IfmatchError class and helpers the Rust side imports)
// to <out-dir>/snippets/<crate-hash>/js/shim.js and imports it from the glue, but exports nothing
// of it. This makes the glue export IfmatchError too, from that same module (so that there is one
// class and `instanceof` holds whichever entry a caller imported), and, for the CommonJS `nodejs`
// build, writes the snippet (an ES module) as CommonJS next to it (`shim.cjs`, which Node 18 can
// `require`, whatever the nearest package.json's `type`) and makes the glue require that.
//
// It also gives the Lock class `[Symbol.asyncDispose]()` (release(), for `await using`), and the
// Transaction class one that rolls it back unless it was committed, where the runtime defines the symbol, the way wasm-bindgen itself adds `[Symbol.dispose]` (free()) to every
// class: a method declared in Rust under that computed name would be named "undefined" in
// runtimes without the symbol (Node before 18.18).
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `export [async] class|function` declarations -> CommonJS; exits when there is another kind of export. */
function toCommonJs(source, file) {
  const names = [...source.matchAll(/^export (?:async )?(?:class|function) (\w+)/gm)].map((m) => m[1]);
  if ((source.match(/^export /gm) ?? []).length !== names.length) {
    console.error(`error: ${file} has an export this script cannot turn into CommonJS (only \`export [async] class|function\`)`);
    process.exit(1);
  }
  return `'use strict';\n${source.replace(/^export (?=(?:async )?(?:class|function) )/gm, '')}\nmodule.exports = { ${names.join(', ')} };\n`;
}

if (process.argv[2] === '--cjs') {
  const [from, to] = process.argv.slice(3);
  writeFileSync(to, toCommonJs(readFileSync(from, 'utf8'), from));
  process.exit(0);
}

const [outDir, target] = process.argv.slice(2);
if (!outDir || !['nodejs', 'web'].includes(target)) {
  console.error('usage: node export-shim.mjs <out-dir> <nodejs|web>');
  process.exit(2);
}
const snippets = readdirSync(join(outDir, 'snippets'));
if (snippets.length !== 1) {
  console.error(`error: expected one snippets folder in ${outDir}/snippets, found ${snippets.join(', ') || 'none'}`);
  process.exit(1);
}
const relative = `./snippets/${snippets[0]}/js/shim.js`;
const shimPath = join(outDir, relative);
const gluePath = join(outDir, 'ifmatch_wasm.js');
const glue = readFileSync(gluePath, 'utf8');
if (!glue.includes(relative)) {
  console.error(`error: ${gluePath} does not import ${relative}`);
  process.exit(1);
}

// After the classes (and, for nodejs, after its exports line): `Lock` and `Transaction` are in
// the glue's module scope. A Transaction disposed of while still open is rolled back.
const ASYNC_DISPOSE = `
if (Symbol.asyncDispose) {
  Lock.prototype[Symbol.asyncDispose] = async function () { await this.release(); };
  Transaction.prototype[Symbol.asyncDispose] = async function () { if (this.open) await this.rollback(); };
}
`;
for (const name of ['Lock', 'Transaction']) {
  if (!new RegExp(`^(?:export )?class ${name} \\{`, 'm').test(glue)) {
    console.error(`error: ${gluePath} defines no class ${name} to give [Symbol.asyncDispose]`);
    process.exit(1);
  }
}

if (target === 'nodejs') {
  const shim = readFileSync(shimPath, 'utf8');
  const relativeCjs = relative.replace(/\.js$/, '.cjs');
  writeFileSync(join(outDir, relativeCjs), toCommonJs(shim, shimPath));
  unlinkSync(shimPath);
  // Only the require() calls: the wasm's import object keeps the module's name (shim.js) as its key.
  const requiring = glue
    .split(`require(String.raw\`${relative}\`)`).join(`require(String.raw\`${relativeCjs}\`)`)
    .split(`require("${relative}")`).join(`require("${relativeCjs}")`);
  if (requiring.includes(`require(String.raw\`${relative}`) || requiring.includes(`require("${relative}`) || requiring.includes(`require('${relative}`)) {
    console.error(`error: ${gluePath} requires ${relative} in a form this script does not rewrite`);
    process.exit(1);
  }
  writeFileSync(gluePath, `${requiring}${ASYNC_DISPOSE}\nexports.IfmatchError = require(String.raw\`${relativeCjs}\`).IfmatchError;\n`);
} else {
  writeFileSync(gluePath, `${glue}${ASYNC_DISPOSE}\nexport { IfmatchError } from '${relative}';\n`);
}
