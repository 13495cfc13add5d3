//! The `app-conversions-relay` binary: a thin wrapper over [`app_conversions_relay::run_cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    match app_conversions_relay::run_cli(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("app-conversions-relay: {message}");
            ExitCode::from(2)
        }
    }
}
