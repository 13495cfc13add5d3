//! The desktop harness: try the SDK without a phone.
//!
//! `cargo run --release --example harness -- [FLAGS] [COMMAND]`. With no command it runs the
//! `demo` against an embedded sandbox endpoint. Every command that queues events flushes before
//! it exits unless given `--no-flush`. See `--help`.

mod cli;
mod demo;
mod event_json;
mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
