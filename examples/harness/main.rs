//! The desktop harness: try the SDK without a phone, and look at what it did.
//!
//! `cargo run --release --example harness -- [FLAGS] [COMMAND]`. With no command it runs the
//! `demo` against an embedded sandbox endpoint and prints a timeline. See `--help`.

mod cli;
mod demo;
mod event_json;
mod listener;
mod proxy;
mod report;
mod session;
mod timeline;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
