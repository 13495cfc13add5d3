//! The command line's configuration: `app-conversions-relay [--config FILE] [--upstream URL]
//! [--listen ADDR]` read into a [`RelayConfig`], the help text, and the one-line summary of
//! the settings in force. Running the relay with it is [`crate::run`]'s job, above this layer.
//!
//! Settings are layered lowest to highest: built-in defaults, the config file (`--config`, or
//! `RELAY_CONFIG` when no flag is given), `RELAY_*` environment variables, then flags. The
//! conversion token is deliberately not a flag: command lines show up in `ps` and shell
//! history, so it comes from the file or `RELAY_CONVERSION_TOKEN`.

use std::path::PathBuf;

use super::settings::RelayConfig;
use super::values::parse_listen;

/// What `--help` prints.
pub(crate) const HELP: &str = "\
app-conversions-relay: the app backend's Conversions API endpoint.

Apps send events here with an app-scoped token; the relay checks the token, adds the
client IP to events that lack one, and forwards them in coalesced batches with the
server-held conversion token, within the ad account's budget of calls per minute.

USAGE:
    app-conversions-relay [OPTIONS]

OPTIONS:
    --config FILE     TOML or JSON (*.json) configuration file [env: RELAY_CONFIG]
    --upstream URL    Conversions API base URL [env: RELAY_UPSTREAM]
                      [default: https://api.pinterest.com]
    --listen ADDR     Address to listen on [env: RELAY_LISTEN] [default: 127.0.0.1:8788]
    --check           Validate the configuration and exit
    --help            Print this help
    --version         Print the version

ENVIRONMENT (override the file; flags override the environment):
    RELAY_CONVERSION_TOKEN             the real conversion token (or conversion_token in the file)
    RELAY_APP_TOKENS                   ad_account_id:token[,ad_account_id:token...]
    RELAY_TRUSTED_PROXIES              IPs/CIDRs whose X-Forwarded-For is believed, comma-separated
    RELAY_MAX_BODY_BYTES               body cap, default 5242880 (5 MiB)
    RELAY_RATE_LIMIT_PER_SEC           per client IP (IPv6: per /64), default 20 (0 = off)
    RELAY_RATE_LIMIT_BURST             per client IP, default 100
    RELAY_IP_TABLE_CAPACITY            client IPs remembered, default 100000
    RELAY_GLOBAL_RATE_LIMIT_PER_SEC    all clients of this instance, default 5000 (0 = off)
    RELAY_LINGER_MS                    batch wait for more device requests, default 50
    RELAY_CALLS_PER_MINUTE             upstream calls per ad account, all instances, default 4000
    RELAY_INSTANCES                    instances sharing that budget, default 1
    RELAY_REDIS_URL                    redis://host:port/db to share the budget (default: none)
    RELAY_MAX_CONNECTIONS              open connections, default 10000 (kept below ulimit -n)
    RELAY_IDLE_TIMEOUT_MS              header and keep-alive idle timeout, default 10000
    RELAY_BODY_TIMEOUT_MS              deadline for the whole request body, default 10000 (408)
    RELAY_MAX_REQUESTS_IN_FLIGHT       event requests at once, default 4096 (503 above)
    RELAY_MAX_BODY_BYTES_IN_FLIGHT     body bytes held at once, default 67108864 (503 above)
    RELAY_MAX_BODY_BYTES_IN_FLIGHT_PER_IP  body bytes held by one client address, default 8388608 (429 above)
    RELAY_WORKER_THREADS               request threads, default one per core
    RELAY_UPSTREAM_TIMEOUT_MS          overall upstream deadline, default 30000
    RELAY_UPSTREAM_CONNECT_TIMEOUT_MS  upstream connect deadline, default 5000
    RELAY_LOG                          stderr (default), stdout or off
    RELAY_LOG_FORMAT                   text (default) or json
    RELAY_METRICS_LISTEN               IP:PORT serving GET /metrics (Prometheus text); default off
    RELAY_ALLOW_CALLS_ABOVE_API_LIMIT  true to accept calls_per_minute above the API's 5000
    RELAY_DRAIN_MS                     on SIGTERM, serve with /readyz failing this long, default 5000
    RELAY_SHUTDOWN_GRACE_MS            then wait this long for requests in flight,
                                       default linger + upstream timeout + 1 s

ROUTES:
    POST /v5/ad_accounts/{ad_account_id}/events[?test=true]   Conversions API wire format
    GET  /livez (or /healthz)                                 200 \"ok\" while the process serves
    GET  /readyz                                              200, or 503 while draining

Logs: one line per request (request id, method, path, test flag, status, event count,
latency), one per upstream call, Redis fallback and recovery, budget exhaustion, requests
cut at shutdown. Health checks are not logged. Tokens and the Authorization header never are.
Unknown RELAY_* variables are named in a warning at start.
";

/// What the arguments ask for.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Options {
    /// `--help` / `-h`.
    pub help: bool,
    /// `--version` / `-V`.
    pub version: bool,
    /// `--check`: validate and exit.
    pub check: bool,
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--upstream URL`.
    pub upstream: Option<String>,
    /// `--listen ADDR`.
    pub listen: Option<String>,
}

/// The settings in force, on one line, without secrets (no token, no Redis URL).
pub(crate) fn settings_summary(config: &RelayConfig) -> String {
    let mut accounts: Vec<&str> = config
        .app_tokens
        .iter()
        .map(|t| t.ad_account_id.as_str())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    let ms = |d: std::time::Duration| d.as_millis();
    format!(
        "forwarding to {} ({} app tokens for ad accounts {}); linger_ms={} calls_per_minute={} \
         instances={} redis={} trusted_proxies={} max_body_bytes={} rate_limit_per_sec={} \
         global_rate_limit_per_sec={} max_connections={} max_requests_in_flight={} \
         max_body_bytes_in_flight={} max_body_bytes_in_flight_per_ip={} body_timeout_ms={} \
         upstream_timeout_ms={} drain_ms={} shutdown_grace_ms={} metrics_listen={} log={:?}/{:?}",
        config.upstream,
        config.app_tokens.len(),
        accounts.join(","),
        ms(config.linger),
        config.calls_per_minute,
        config.instances,
        if config.redis_url.is_some() {
            "on"
        } else {
            "off"
        },
        config.trusted_proxies.len(),
        config.max_body_bytes,
        config.rate_limit_per_sec,
        config.global_rate_limit_per_sec,
        config.max_connections,
        config.max_requests_in_flight,
        config.max_body_bytes_in_flight,
        config.max_body_bytes_in_flight_per_ip,
        ms(config.body_timeout),
        ms(config.upstream_timeout),
        ms(config.drain),
        ms(config.effective_shutdown_grace()),
        config
            .metrics_listen
            .map_or_else(|| "off".to_string(), |a| a.to_string()),
        config.log,
        config.log_format,
    )
}

/// The options `args` (the arguments after the program name) ask for.
pub(crate) fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("{name} needs a value (see --help)")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => options.help = true,
            "-V" | "--version" => options.version = true,
            "--check" => options.check = true,
            "--config" => options.config = Some(PathBuf::from(value("--config")?)),
            "--upstream" => options.upstream = Some(value("--upstream")?),
            "--listen" => options.listen = Some(value("--listen")?),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(options)
}

/// Defaults, then the file, then the environment, then the flags.
pub(crate) fn load_config(
    options: &Options,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RelayConfig, String> {
    let file = options.config.clone().or_else(|| {
        env("RELAY_CONFIG")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    });
    let mut config = match file {
        Some(path) => RelayConfig::from_file(&path)?,
        None => RelayConfig::default(),
    };
    config.apply_env_from(&env)?;
    if let Some(upstream) = &options.upstream {
        config.upstream = upstream.clone();
    }
    if let Some(listen) = &options.listen {
        config.listen = parse_listen(listen).map_err(|e| format!("--listen: {e}"))?;
    }
    Ok(config)
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
    fn parses_flags() {
        let o = parse_args(args(&[
            "--config",
            "relay.toml",
            "--upstream=http://127.0.0.1:1",
            "--listen",
            "0.0.0.0:80",
            "--check",
        ]))
        .unwrap();
        assert_eq!(o.config, Some(PathBuf::from("relay.toml")));
        assert_eq!(o.upstream.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(o.listen.as_deref(), Some("0.0.0.0:80"));
        assert!(o.check);
        assert!(parse_args(args(&["--help"])).unwrap().help);
        assert!(parse_args(args(&["--config"])).is_err());
        assert!(parse_args(args(&["--token", "x"]))
            .unwrap_err()
            .contains("--token"));
    }

    #[test]
    fn flags_beat_environment_beat_defaults() {
        let options = parse_args(args(&["--listen", "127.0.0.1:9999"])).unwrap();
        let env = |name: &str| match name {
            "RELAY_LISTEN" => Some("127.0.0.1:7777".to_string()),
            "RELAY_UPSTREAM" => Some("http://127.0.0.1:5".to_string()),
            "RELAY_CONVERSION_TOKEN" => Some("conv".to_string()),
            "RELAY_APP_TOKENS" => Some("1:app".to_string()),
            _ => None,
        };
        let c = load_config(&options, env).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9999".parse().unwrap());
        assert_eq!(c.upstream, "http://127.0.0.1:5");
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn the_summary_names_settings_but_no_secret() {
        let mut config = RelayConfig::new("http://127.0.0.1:9", "conv-secret")
            .with_app_token("app-secret", "42");
        config.redis_url = Some("redis://:redis-password@127.0.0.1:6379".to_string());
        let summary = settings_summary(&config);
        assert!(summary.contains("calls_per_minute=4000"), "{summary}");
        assert!(summary.contains("ad accounts 42"), "{summary}");
        assert!(summary.contains("redis=on"), "{summary}");
        for secret in ["conv-secret", "app-secret", "redis-password"] {
            assert!(!summary.contains(secret), "{summary}");
        }
    }
}
