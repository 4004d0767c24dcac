// Node's `import` entry: the ES module entry, instantiated synchronously from the wasm file at
// import (no CommonJS in between), so that `new Client()` validates its options at once.
import { readFileSync } from 'node:fs';
import { initSync } from './index.js';

initSync({ module: readFileSync(new URL('./ifmatch_wasm_bg.wasm', import.meta.url)) });

export * from './index.js';
export { default } from './index.js';
