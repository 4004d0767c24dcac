// 'ifmatch/web': the browser build without automatic initialisation. Call `init()` (once) before
// using anything else, e.g. to load the wasm from a custom URL.
export * from './index.js';

/** Where to load the wasm from: a URL, a `Response`, bytes, or a compiled `WebAssembly.Module`. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Loads and instantiates the wasm (by default from `ifmatch_wasm_bg.wasm` next to the module). */
export default function init(options?: { module_or_path?: InitInput | Promise<InitInput> }): Promise<WebAssembly.Exports>;
