//! The binary's run: the command line's configuration ([`crate::config::cli`]) checked, the
//! relay started, and served until SIGINT (Ctrl-C) or SIGTERM, then shut down gracefully;
//! SIGHUP reads the SDK's remote settings file again.
//!
//! It sits above the configuration and the server, which know nothing of processes and
//! signals, so both stay usable in-process ([`crate::RelayHandle`]).

use crate::config::cli::{load_config, parse_args, settings_summary, HELP};
use crate::config::unknown_variables;
use crate::handle::RelayHandle;
use crate::sdk_settings::SdkSettings;

/// Runs the relay as the binary does, with `args` being the arguments *after* the program
/// name (`std::env::args().skip(1)`). Returns after `--help`, `--version` or `--check`, or
/// when SIGINT/SIGTERM stops the server; `Err` carries a message for the user.
pub fn run_cli(args: impl Iterator<Item = String>) -> Result<(), String> {
    let options = parse_args(args)?;
    if options.help {
        print!("{HELP}");
        return Ok(());
    }
    if options.version {
        println!("app-conversions-relay {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let config = load_config(&options, |name| std::env::var(name).ok())?;
    config.validate()?;
    // The SDK's remote settings are checked (and their file read) as the start would.
    let sdk_settings = SdkSettings::new(&config.sdk_settings, config.sdk_settings_file.clone())?;
    if options.check {
        println!(
            "configuration OK ({} app tokens, sdk settings for {} ad accounts)",
            config.app_tokens.len(),
            sdk_settings.accounts()
        );
        return Ok(());
    }
    let _log_writer = crate::log::init(&config.log, config.log_format);
    let summary = settings_summary(&config);
    let handle = RelayHandle::start(config).map_err(|e| format!("cannot start: {e}"))?;
    eprintln!(
        "app-conversions-relay {} listening on {}, {summary}",
        env!("CARGO_PKG_VERSION"),
        handle.base_url(),
    );
    for name in unknown_variables(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok())) {
        eprintln!("app-conversions-relay: warning: unknown environment variable {name} is ignored (see --help)");
    }
    let waited = wait_for_signal(&handle);
    eprintln!(
        "app-conversions-relay: shutting down (draining, then waiting for requests in flight)"
    );
    handle.shutdown();
    waited
}

/// Blocks until SIGINT or (on Unix) SIGTERM; on SIGHUP reads the SDK settings file again.
fn wait_for_signal(handle: &RelayHandle) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot wait for signals: {e}"))?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())
                .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
            let mut hangup = signal(SignalKind::hangup())
                .map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
            loop {
                tokio::select! {
                    r = tokio::signal::ctrl_c() => {
                        return r.map_err(|e| format!("cannot watch SIGINT: {e}"));
                    }
                    _ = term.recv() => return Ok(()),
                    _ = hangup.recv() => match handle.reload_sdk_settings() {
                        Ok(()) => eprintln!("app-conversions-relay: SIGHUP: sdk settings reloaded"),
                        Err(e) => eprintln!(
                            "app-conversions-relay: SIGHUP: {e}; the sdk settings served so far stay"
                        ),
                    },
                }
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .map_err(|e| format!("cannot watch Ctrl-C: {e}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn help_and_check_return() {
        assert_eq!(run_cli(args(&["--help"])), Ok(()));
        assert!(run_cli(args(&["--bogus"])).is_err());
    }
}
