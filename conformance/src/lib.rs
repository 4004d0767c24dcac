//! Conformance checker and stress tool for the ifmatch conflict contract.
#![deny(missing_docs)]
