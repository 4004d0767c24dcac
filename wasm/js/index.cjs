// Node's `require` entry: wasm-bindgen's CommonJS build (ifmatch_wasm.cjs, which instantiates the
// same ifmatch_wasm_bg.wasm synchronously when required), wrapped as the ES module entry is.
'use strict';
const glue = require('./ifmatch_wasm.cjs');
const { protect } = require('./guard.cjs');

const api = protect(glue, { ready: () => true, load: () => Promise.resolve() });
module.exports = {
  ...api,
  IfmatchError: glue.IfmatchError,
  /** The wasm is instantiated when this module is required: resolves at once. */
  init: () => Promise.resolve(),
  /** The wasm is instantiated when this module is required: does nothing. */
  initSync: () => undefined,
};
