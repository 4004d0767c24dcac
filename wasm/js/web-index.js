// Browser / bundler entry: fetches and instantiates the wasm next to this file once, so that
// `import { Client } from 'ifmatch'` is ready to use, exactly as in Node. Use 'ifmatch/web' to
// call `init()` yourself (for example with a custom wasm URL).
import init from './ifmatch_wasm.js';

await init();

export * from './ifmatch_wasm.js';
