//! wasm-bindgen adapter that exposes the ifmatch SDK to JavaScript as the npm package `ifmatch`.
//!
//! This crate has no logic of its own: it converts JavaScript values to the SDK's types, calls
//! the SDK, and converts results, events and errors back. The one thing it keeps is the SDK's
//! lock guard, inside the exported `Lock` class (`lock.rs`). Its transport is one `fetch` call per
//! request (the `fetch` client option, or the global one). The little JavaScript it needs (the
//! `IfmatchError` class, the `fetch` call, an aborted signal's reason) is `wasm/js/shim.js`,
//! which wasm-bindgen copies next to the glue; `wasm/scripts/build.sh` exports the class from it. The JavaScript API it exports (and the
//! hand-written TypeScript declarations in `wasm/types/index.d.ts`) is documented in
//! `docs/javascript.md`:
//!
//! ```js
//! import { Client } from 'ifmatch';
//! const client = new Client({ baseUrl: 'http://127.0.0.1:8080' });
//! const { value, etag } = await client.get('/items/1');
//! await client.update('/items/1', (doc) => ({ ...doc, n: doc.n + 1 }), { strategy: 'reapply' });
//! ```
//!
//! Everything is compiled for `wasm32` only; on other targets the crate is empty.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
mod abort;
#[cfg(target_arch = "wasm32")]
mod batch;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod conflicts;
#[cfg(target_arch = "wasm32")]
mod cors;
#[cfg(target_arch = "wasm32")]
mod error;
#[cfg(target_arch = "wasm32")]
mod event;
#[cfg(target_arch = "wasm32")]
mod fields;
#[cfg(target_arch = "wasm32")]
mod json;
#[cfg(target_arch = "wasm32")]
mod lock;
#[cfg(target_arch = "wasm32")]
mod options;
#[cfg(target_arch = "wasm32")]
mod precondition;
#[cfg(target_arch = "wasm32")]
mod promise;
#[cfg(target_arch = "wasm32")]
mod raw;
#[cfg(target_arch = "wasm32")]
mod streaming;
#[cfg(target_arch = "wasm32")]
mod subscription;
#[cfg(target_arch = "wasm32")]
mod transaction;
#[cfg(target_arch = "wasm32")]
mod transport;
#[cfg(target_arch = "wasm32")]
mod update;
#[cfg(target_arch = "wasm32")]
mod versions;

#[cfg(target_arch = "wasm32")]
pub use client::Client;
#[cfg(target_arch = "wasm32")]
pub use conflicts::Conflicts;
#[cfg(target_arch = "wasm32")]
pub use error::is_ifmatch_error;
#[cfg(target_arch = "wasm32")]
pub use lock::Lock;
#[cfg(target_arch = "wasm32")]
pub use transaction::Transaction;
#[cfg(target_arch = "wasm32")]
pub use versions::{apply_patch, diff};

/// The version of the `ifmatch` npm package (equal to the Rust crate version).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The allocator: talc instead of std's dlmalloc, 2.6 KB gzipped less wasm (docs/performance.md).
/// The module is single-threaded (no `atomics`), which `WasmDynamicTalc` requires; it grows the
/// memory with `memory.grow` as dlmalloc does.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
