//! wasm-bindgen adapter that exposes the ifmatch SDK to JavaScript.
#![deny(missing_docs)]

use wasm_bindgen::prelude::*;

/// The version of the `ifmatch` npm package (equal to the Rust crate version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
