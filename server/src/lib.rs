//! Reference HTTP server that keeps the ifmatch conflict contract.
#![deny(missing_docs)]
