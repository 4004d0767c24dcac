// Run by wasm/scripts/build.sh: `node declarations.mjs <types-dir> <pkg-dir>`. Writes the package's
// declarations from the hand-written wasm/types/{index,web}.d.ts, once per module system, so that
// TypeScript (and @arethetypeswrong/cli) sees ES module types for `import` and CommonJS types for
// `require` instead of one file "masquerading" as both:
//   index.d.ts / web.d.ts    next to index.js, ES modules (pkg/package.json says "type": "module")
//   index.d.cts / web.d.cts  next to index.cjs, CommonJS (no default export: index.cjs has none)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [typesDir, pkgDir] = process.argv.slice(2);
if (!typesDir || !pkgDir) {
  console.error('usage: node declarations.mjs <types-dir> <pkg-dir>');
  process.exit(2);
}
const index = readFileSync(join(typesDir, 'index.d.ts'), 'utf8');
const web = readFileSync(join(typesDir, 'web.d.ts'), 'utf8');
const DEFAULT_EXPORT = /^export default .*$/m;
if (!web.includes("from './index.js'") || !DEFAULT_EXPORT.test(web)) {
  console.error(`error: ${typesDir}/web.d.ts must re-export './index.js' and declare the default export`);
  process.exit(1);
}
writeFileSync(join(pkgDir, 'index.d.ts'), index);
writeFileSync(join(pkgDir, 'index.d.cts'), index);
writeFileSync(join(pkgDir, 'web.d.ts'), web);
writeFileSync(join(pkgDir, 'web.d.cts'), web.split("from './index.js'").join("from './index.cjs'").replace(DEFAULT_EXPORT, ''));
