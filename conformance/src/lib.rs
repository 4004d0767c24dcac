//! Conformance checker and stress tool for the ifmatch conflict contract.
//!
//! The checker sends exact raw HTTP requests to a server, judges each rule of
//! `docs/contract.md` by the answers *and* by re-reading state, and renders the
//! verdicts as text, JSON, JUnit XML or HTML.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ifmatch_conformance::{check, report};
//! let config = check::CheckConfig::new("http://127.0.0.1:8080");
//! let report = check::run(&config, None).await?;
//! print!("{}", report::render_text(&report));
//! std::process::exit(report.exit_code());
//! # }
//! ```
#![deny(missing_docs)]

pub mod check;
pub mod cli;
pub mod curl;
pub mod embedded;
pub mod etag;
pub mod http;
pub mod rate_limit;
pub mod report;
pub mod rules;
pub mod stress;
pub mod verdict;
