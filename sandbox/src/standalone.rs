//! Command-line entry point: run a sandbox as its own process until it is killed.
//!
//! Used by the `app-conversions-sandbox` binary and by harness commands that embed it.
//! Arguments are parsed by hand (a handful of flags do not justify a parser crate).

use std::io::Write;

use crate::config::SandboxConfig;
use crate::Sandbox;

/// Port used when `--port` is not given.
const DEFAULT_PORT: u16 = 8787;

const USAGE: &str = "\
Usage: app-conversions-sandbox [OPTIONS]

Serves a local stand-in for POST /v5/ad_accounts/{id}/events on 127.0.0.1.

Options:
  --host ADDR                  address to listen on (default 127.0.0.1; 0.0.0.0 lets a phone
                               on the same network reach it, and prints a warning)
  --port N                     port to listen on (default 8787; 0 picks a free one)
  --token T                    accepted bearer token (default: $SANDBOX_TOKEN, else sandbox-token)
  --ad-account ID              accepted ad account id (default 549768257474)
  --custom-event NAME          accept NAME as an advertiser-defined event name (repeatable)
  --future-tolerance-secs N    allowed clock skew into the future (default 300)
  --max-event-age-secs N       oldest accepted event_time, in seconds (default 604800)
  --partial-failure-status S   422 (default) or 200 for partially failed batches
  --help                       print this help

Control endpoints (no auth): GET /_sandbox/health, GET /_sandbox/accepted,
GET /_sandbox/requests, POST /_sandbox/faults, POST /_sandbox/reset,
POST /_sandbox/custom_event_names.
";

/// What the command line asks for.
enum Command {
    Help,
    Serve(SandboxConfig),
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a valid number"))
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut config = SandboxConfig {
        port: DEFAULT_PORT,
        ..SandboxConfig::default()
    };
    if let Ok(token) = std::env::var("SANDBOX_TOKEN") {
        if !token.is_empty() {
            config.token = token;
        }
    }
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(Command::Help);
        }
        let known = [
            "--host",
            "--port",
            "--token",
            "--ad-account",
            "--custom-event",
            "--future-tolerance-secs",
            "--max-event-age-secs",
            "--partial-failure-status",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!(
                "unexpected argument '{arg}' (pass the arguments without the program name; see --help)"
            ));
        }
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag.as_str() {
            "--host" => {
                config.host = value.parse().map_err(|_| {
                    format!("--host: '{value}' is not an IP address (such as 127.0.0.1 or 0.0.0.0)")
                })?
            }
            "--port" => config.port = parse_number(&flag, &value)?,
            "--token" => config.token = value,
            "--ad-account" => config.ad_account_id = value,
            "--custom-event" => config.custom_event_names.push(value),
            "--future-tolerance-secs" => {
                config.future_tolerance_secs = parse_number(&flag, &value)?
            }
            "--max-event-age-secs" => config.max_event_age_secs = parse_number(&flag, &value)?,
            _ => {
                let status: u16 = parse_number(&flag, &value)?;
                if !(200..=599).contains(&status) {
                    return Err(format!("{flag}: {status} is not an HTTP status"));
                }
                config.partial_failure_status = status;
            }
        }
    }
    Ok(Command::Serve(config))
}

/// Runs a sandbox from command-line arguments (without the program name) and serves
/// until the process is killed.
///
/// Flags: `--host ADDR` (default 127.0.0.1; another address prints a warning to stderr),
/// `--port N` (default 8787), `--token T` (else `$SANDBOX_TOKEN`, else
/// `sandbox-token`), `--ad-account ID`, `--custom-event NAME` (repeatable),
/// `--future-tolerance-secs N`, `--max-event-age-secs N`,
/// `--partial-failure-status 422|200`, `--help`. `--flag=value` works too. Once
/// listening it prints `sandbox listening on http://127.0.0.1:PORT` to stdout and
/// flushes it, so a parent process can wait for that line.
///
/// Returns `Ok(())` after printing help; otherwise only returns on an error (bad
/// arguments, port in use).
pub fn run_standalone(args: impl Iterator<Item = String>) -> Result<(), String> {
    let config = match parse_args(args)? {
        Command::Help => {
            print!("{USAGE}");
            let _ = std::io::stdout().flush();
            return Ok(());
        }
        Command::Serve(config) => config,
    };
    let address = std::net::SocketAddr::new(config.host, config.port);
    let sandbox = Sandbox::start(config).map_err(|e| format!("cannot listen on {address}: {e}"))?;
    if !address.ip().is_loopback() {
        eprintln!(
            "app-conversions-sandbox: warning: listening on {}, reachable from other machines \
             on this network; it accepts a token that is no secret and keeps what it receives",
            std::net::SocketAddr::new(address.ip(), sandbox.port())
        );
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "sandbox listening on {}", sandbox.base_url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_all_flags() {
        let parsed = parse(&[
            "--port",
            "0",
            "--token=t",
            "--ad-account",
            "42",
            "--custom-event",
            "A",
            "--custom-event",
            "B",
            "--partial-failure-status",
            "200",
            "--max-event-age-secs",
            "10",
        ]);
        let Ok(Command::Serve(config)) = parsed else {
            panic!("expected a config");
        };
        assert_eq!(config.port, 0);
        assert_eq!(config.token, "t");
        assert_eq!(config.ad_account_id, "42");
        assert_eq!(config.custom_event_names, vec!["A", "B"]);
        assert_eq!(config.partial_failure_status, 200);
        assert_eq!(config.max_event_age_secs, 10);
    }

    #[test]
    fn defaults_and_errors() {
        let Ok(Command::Serve(config)) = parse(&[]) else {
            panic!("expected a config");
        };
        assert_eq!(config.port, DEFAULT_PORT);
        assert!(config.host.is_loopback(), "loopback unless asked");
        let Ok(Command::Serve(config)) = parse(&["--host", "0.0.0.0"]) else {
            panic!("expected a config");
        };
        assert!(config.host.is_unspecified());
        assert!(parse(&["--host", "my-laptop"]).is_err());
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["/usr/bin/sandbox"]).is_err());
        assert!(parse(&["--partial-failure-status", "99"]).is_err());
    }
}
