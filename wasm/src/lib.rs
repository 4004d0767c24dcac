//! wasm-bindgen adapter that exposes the ifmatch SDK to JavaScript.
#![deny(missing_docs)]
