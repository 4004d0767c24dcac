// ESM entry for Node: the wasm-bindgen `nodejs` build is CommonJS and loads its wasm synchronously.
export * from './ifmatch_wasm.js';
