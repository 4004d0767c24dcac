//! Conformance checker and stress tool for the ifmatch conflict contract.
//!
//! The checker sends exact raw HTTP requests to a server, judges each rule of
//! `docs/contract.md` by the answers *and* by re-reading state, and renders the
//! verdicts as text, JSON, JUnit XML or HTML.
//!
//! ```
//! use ifmatch_conformance::{check, report};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Any server works; here the reference server, started in-process.
//! let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
//! let mut config = check::CheckConfig::new(server.base_url());
//! config.rule_patterns = vec!["core.if-match".into()];
//! let report = check::run(&config, None).await?;
//! assert_eq!(report.exit_code(), 0, "{}", report::render_text(&report));
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod check;
pub mod cli;
pub mod curl;
mod dry_run;
pub mod embedded;
pub mod etag;
pub mod http;
pub mod pace;
pub mod rate_limit;
pub mod report;
pub mod rules;
pub mod sse;
pub mod stress;
pub mod target;
pub mod verdict;
