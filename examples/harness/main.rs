//! The desktop harness: try the SDK without a phone, and look at what it did.
//!
//! `cargo run --example harness -- [FLAGS] [COMMAND]`. With no command it runs the
//! `demo` against an embedded sandbox endpoint and prints a timeline. `inspect`, `validate` and
//! `replay` are the integrator's tools: look at a buffer pulled from a device, check events
//! before shipping a build, and send a buffer again to a test endpoint. See `--help`.

/// `println!` that ignores a closed stdout (`harness demo | head`) instead of panicking on a
/// thread of the SDK or the proxy.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod buffer;
mod cli;
mod demo;
mod event_json;
mod inspect;
mod listener;
mod proxy;
mod replay;
mod report;
mod schema;
mod session;
mod timeline;
mod validate;

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
