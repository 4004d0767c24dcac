// The package's ES module entry (browsers, bundlers, and under wasm/js/node.js Node's `import`).
// It has no top-level `await`: the wasm is loaded by `init()`, or by the first request of a
// Client, from `ifmatch_wasm_bg.wasm` next to this file: `new URL('./ifmatch_wasm_bg.wasm',
// import.meta.url)`, which Vite, webpack 5, Rollup and Parcel see and emit as an asset. A bundle
// without `import.meta` (esbuild's default iife format) falls back to the URL of the <script> that
// ran it. `initSync()` instantiates it synchronously from bytes or a compiled module.
import glueInit, * as glue from './ifmatch_wasm.js';
import { protect } from './guard.js';

const { IfmatchError } = glue;
let loaded = false;
let loading;

// A classic script (an iife bundle) knows its own URL only while it first runs.
const scriptUrl = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;

function wasmUrl() {
  try {
    return new URL('./ifmatch_wasm_bg.wasm', import.meta.url);
  } catch (cause) {
    if (scriptUrl) return new URL('./ifmatch_wasm_bg.wasm', scriptUrl);
    throw loadError('cannot tell where ifmatch_wasm_bg.wasm is: this bundle has no import.meta.url', cause, null);
  }
}

function loadError(what, cause, url) {
  // Vite 6 and 7's dev server pre-bundles dependencies into node_modules/.vite/deps/, away from the wasm.
  const vite = url && url.includes('/.vite/deps/')
    ? "; Vite's dependency pre-bundling moved the module away from its wasm: add `optimizeDeps: { exclude: ['ifmatch'] }` to vite.config, or"
    : ';';
  return new IfmatchError(`${what}${vite} call \`await init(url)\` with the URL you serve ifmatch_wasm_bg.wasm at (copy it from node_modules/ifmatch/pkg/)`, {
    code: 'wasm_unavailable',
    cause,
    url: url === null ? null : String(url),
    hint: 'serve node_modules/ifmatch/pkg/ifmatch_wasm_bg.wasm (as application/wasm) and pass its URL to init()',
  });
}

/** The argument of `init`/`initSync`: the value itself, or the `{ module_or_path }` / `{ module }` of wasm-bindgen. */
function unwrap(input, key) {
  if (input !== null && typeof input === 'object' && Object.getPrototypeOf(input) === Object.prototype && key in input) return input[key];
  return input;
}

async function load(input) {
  let source = await unwrap(input, 'module_or_path');
  if (source === undefined) source = wasmUrl();
  let url = null;
  if (typeof source === 'string' || source instanceof URL || (typeof Request === 'function' && source instanceof Request)) {
    url = typeof source === 'object' && 'url' in source && !(source instanceof URL) ? source.url : String(source);
    try {
      source = await fetch(source);
    } catch (cause) {
      throw loadError(`could not fetch the ifmatch wasm from ${url}`, cause, url);
    }
  }
  if (typeof Response === 'function' && source instanceof Response) {
    url = source.url || url;
    if (!source.ok) throw loadError(`could not fetch the ifmatch wasm: ${url} answered ${source.status}`, undefined, url);
    // A server that answers every unknown path with the app's page (a dev server, an SPA fallback).
    if (/^text\/html/i.test(source.headers.get('content-type') || '')) {
      throw loadError(`could not fetch the ifmatch wasm: ${url} answered an HTML page, not the wasm`, undefined, url);
    }
  }
  try {
    await glueInit({ module_or_path: source });
  } catch (cause) {
    throw loadError(`could not instantiate the ifmatch wasm${url ? ` from ${url}` : ''}: ${cause && cause.message}`, cause, url);
  }
  loaded = true;
}

/**
 * Loads and instantiates the wasm once; later calls resolve at once. `input`: its URL (string,
 * URL or Request), a Response, its bytes, a WebAssembly.Module, or a promise of one; by default
 * `ifmatch_wasm_bg.wasm` next to this module. Rejects with IfmatchError code `wasm_unavailable`.
 */
export function init(input) {
  if (loaded) return Promise.resolve();
  if (!loading) {
    loading = load(input);
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** Instantiates the wasm synchronously from `{ module }` (bytes or a WebAssembly.Module) or the value itself. */
export function initSync(input) {
  if (loaded) return;
  const module = unwrap(input, 'module');
  if (module === undefined) throw loadError('initSync() needs the wasm: initSync({ module: bytes or WebAssembly.Module })', undefined, null);
  try {
    glue.initSync({ module });
  } catch (cause) {
    throw loadError(`could not instantiate the ifmatch wasm: ${cause && cause.message}`, cause, null);
  }
  loaded = true;
}

const api = protect(glue, { ready: () => loaded, load: () => init() });

export const { applyPatch, Client, Conflicts, diff, isIfmatchError, Lock, Transaction, version } = api;
export { IfmatchError };
export default init;
