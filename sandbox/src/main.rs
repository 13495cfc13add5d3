//! `app-conversions-sandbox`: runs the Conversions API sandbox as a standalone process
//! (see [`app_conversions_sandbox::run_standalone`] for the flags).

fn main() {
    if let Err(message) = app_conversions_sandbox::run_standalone(std::env::args().skip(1)) {
        eprintln!("app-conversions-sandbox: {message}");
        std::process::exit(2);
    }
}
