//! `ifmatch-conformance`: check a server against the ifmatch conflict contract.

use std::io::IsTerminal;

#[tokio::main]
async fn main() {
    let mut out = std::io::stdout().lock();
    let stderr = std::io::stderr();
    let progress = stderr.is_terminal();
    let mut err = stderr.lock();
    let io = ifmatch_conformance::cli::Io {
        out: &mut out,
        err: &mut err,
        progress,
    };
    let code = ifmatch_conformance::cli::run(std::env::args_os(), io).await;
    std::process::exit(code);
}
