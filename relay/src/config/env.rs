//! Reading the `RELAY_*` environment variables, and naming the ones the relay does not know.
//!
//! Variables are layered over an existing [`RelayConfig`] (the defaults, or a file's settings):
//! an unset or empty variable changes nothing. A misspelt variable
//! (`RELAY_CALLS_PER_MINUTES=100`) would otherwise be ignored without a word and the default
//! would silently stay in force, so the command line names every unknown `RELAY_*` variable at
//! start, one warning each; it does not refuse to start, since a deployment may set variables
//! for a newer release. [`KNOWN_VARIABLES`] is checked against what [`apply_env`] actually
//! reads, so it cannot drift. Error messages name the variable, never a token's value.

use std::time::Duration;

use super::settings::{AppToken, RelayConfig};
use super::values::{parse_listen, parse_log, parse_log_format, parse_optional_listen, set};

/// Loading the environment over the defaults or over a file's settings.
impl RelayConfig {
    /// The defaults with the `RELAY_*` environment variables applied
    /// (see [`RelayConfig::apply_env`]).
    pub fn from_env() -> Result<Self, String> {
        let mut config = RelayConfig::default();
        config.apply_env()?;
        Ok(config)
    }

    /// Overrides fields from the process environment: `RELAY_LISTEN`, `RELAY_UPSTREAM`,
    /// `RELAY_CONVERSION_TOKEN`, `RELAY_APP_TOKENS` (`ad_account_id:token,...`, replaces the
    /// list), `RELAY_TRUSTED_PROXIES` (comma-separated, replaces the list),
    /// `RELAY_MAX_BODY_BYTES`, `RELAY_RATE_LIMIT_PER_SEC`, `RELAY_RATE_LIMIT_BURST`,
    /// `RELAY_UPSTREAM_TIMEOUT_MS`, `RELAY_UPSTREAM_CONNECT_TIMEOUT_MS`, `RELAY_LOG`
    /// (`stderr`, `stdout` or `off`), and for scale `RELAY_IP_TABLE_CAPACITY`,
    /// `RELAY_GLOBAL_RATE_LIMIT_PER_SEC`, `RELAY_LINGER_MS`, `RELAY_CALLS_PER_MINUTE`,
    /// `RELAY_INSTANCES`, `RELAY_REDIS_URL`, `RELAY_MAX_CONNECTIONS`, `RELAY_IDLE_TIMEOUT_MS`,
    /// `RELAY_BODY_TIMEOUT_MS`, `RELAY_MAX_REQUESTS_IN_FLIGHT`,
    /// `RELAY_MAX_BODY_BYTES_IN_FLIGHT`, `RELAY_WORKER_THREADS`, and `RELAY_SDK_SETTINGS_FILE`
    /// (the SDK's remote settings, a JSON file). Unset or empty variables
    /// change nothing.
    pub fn apply_env(&mut self) -> Result<(), String> {
        self.apply_env_from(|name| std::env::var(name).ok())
    }

    /// [`RelayConfig::apply_env`] with a custom variable lookup (handy in tests, where changing
    /// the process environment races with other threads).
    pub fn apply_env_from(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        apply_env(self, lookup)
    }
}

/// Applies the `RELAY_*` variables that `lookup` returns as set and non-empty.
fn apply_env(
    config: &mut RelayConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let Some(v) = get("RELAY_LISTEN") {
        config.listen = parse_listen(&v).map_err(|e| format!("RELAY_LISTEN: {e}"))?;
    }
    if let Some(v) = get("RELAY_UPSTREAM") {
        config.upstream = v.trim().to_string();
    }
    if let Some(v) = get("RELAY_CONVERSION_TOKEN") {
        config.conversion_token = v.trim().to_string();
    }
    if let Some(v) = get("RELAY_APP_TOKENS") {
        config.app_tokens = parse_app_tokens(&v)?;
    }
    if let Some(v) = get("RELAY_TRUSTED_PROXIES") {
        config.trusted_proxies = split_list(&v);
    }
    if let Some(v) = get("RELAY_MAX_BODY_BYTES") {
        config.max_body_bytes = parse_num("RELAY_MAX_BODY_BYTES", &v)?;
    }
    if let Some(v) = get("RELAY_RATE_LIMIT_PER_SEC") {
        config.rate_limit_per_sec = parse_num("RELAY_RATE_LIMIT_PER_SEC", &v)?;
    }
    if let Some(v) = get("RELAY_RATE_LIMIT_BURST") {
        config.rate_limit_burst = parse_num("RELAY_RATE_LIMIT_BURST", &v)?;
    }
    if let Some(v) = get("RELAY_UPSTREAM_TIMEOUT_MS") {
        config.upstream_timeout =
            Duration::from_millis(parse_num("RELAY_UPSTREAM_TIMEOUT_MS", &v)?);
    }
    if let Some(v) = get("RELAY_UPSTREAM_CONNECT_TIMEOUT_MS") {
        config.upstream_connect_timeout =
            Duration::from_millis(parse_num("RELAY_UPSTREAM_CONNECT_TIMEOUT_MS", &v)?);
    }
    if let Some(v) = get("RELAY_LOG") {
        config.log = parse_log(&v).map_err(|e| format!("RELAY_LOG: {e}"))?;
    }
    if let Some(v) = get("RELAY_LOG_FORMAT") {
        config.log_format = parse_log_format(&v).map_err(|e| format!("RELAY_LOG_FORMAT: {e}"))?;
    }
    if let Some(v) = get("RELAY_METRICS_LISTEN") {
        config.metrics_listen =
            parse_optional_listen(&v).map_err(|e| format!("RELAY_METRICS_LISTEN: {e}"))?;
    }
    if let Some(v) = get("RELAY_REDIS_URL") {
        config.redis_url = Some(v.trim().to_string());
    }
    if let Some(v) = get("RELAY_SDK_SETTINGS_FILE") {
        config.sdk_settings_file = Some(std::path::PathBuf::from(v.trim()));
    }
    let num = |name: &str| get(name).map(|v| (name.to_string(), v));
    let ms = |name: &str| -> Result<Option<Duration>, String> {
        Ok(parse_opt::<u64>(num(name))?.map(Duration::from_millis))
    };
    set(
        &mut config.ip_table_capacity,
        parse_opt(num("RELAY_IP_TABLE_CAPACITY"))?,
    );
    set(
        &mut config.global_rate_limit_per_sec,
        parse_opt(num("RELAY_GLOBAL_RATE_LIMIT_PER_SEC"))?,
    );
    set(&mut config.linger, ms("RELAY_LINGER_MS")?);
    set(
        &mut config.calls_per_minute,
        parse_opt(num("RELAY_CALLS_PER_MINUTE"))?,
    );
    set(&mut config.instances, parse_opt(num("RELAY_INSTANCES"))?);
    set(
        &mut config.allow_calls_above_api_limit,
        parse_opt(num("RELAY_ALLOW_CALLS_ABOVE_API_LIMIT"))?,
    );
    set(
        &mut config.max_connections,
        parse_opt(num("RELAY_MAX_CONNECTIONS"))?,
    );
    set(&mut config.idle_timeout, ms("RELAY_IDLE_TIMEOUT_MS")?);
    set(&mut config.drain, ms("RELAY_DRAIN_MS")?);
    if let Some(grace) = ms("RELAY_SHUTDOWN_GRACE_MS")? {
        config.shutdown_grace = Some(grace);
    }
    set(&mut config.body_timeout, ms("RELAY_BODY_TIMEOUT_MS")?);
    set(
        &mut config.max_requests_in_flight,
        parse_opt(num("RELAY_MAX_REQUESTS_IN_FLIGHT"))?,
    );
    set(
        &mut config.max_body_bytes_in_flight,
        parse_opt(num("RELAY_MAX_BODY_BYTES_IN_FLIGHT"))?,
    );
    set(
        &mut config.max_body_bytes_in_flight_per_ip,
        parse_opt(num("RELAY_MAX_BODY_BYTES_IN_FLIGHT_PER_IP"))?,
    );
    set(
        &mut config.worker_threads,
        parse_opt(num("RELAY_WORKER_THREADS"))?,
    );
    Ok(())
}

/// [`parse_num`] of a `(name, value)` when the variable is set.
fn parse_opt<T: std::str::FromStr>(entry: Option<(String, String)>) -> Result<Option<T>, String> {
    entry.map(|(name, v)| parse_num(&name, &v)).transpose()
}

fn parse_num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{name}: not a valid number: {v:?}"))
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `ad_account_id:token` pairs separated by commas. The ad account comes first because it is
/// all digits, so a token may itself contain `:`.
fn parse_app_tokens(v: &str) -> Result<Vec<AppToken>, String> {
    split_list(v)
        .into_iter()
        .enumerate()
        .map(|(i, pair)| match pair.split_once(':') {
            Some((account, token)) => Ok(AppToken::new(token.trim(), account.trim())),
            None => Err(format!(
                "RELAY_APP_TOKENS: entry {i} is not ad_account_id:token (value not shown)"
            )),
        })
        .collect()
}

/// Every `RELAY_*` variable the relay reads.
pub(crate) const KNOWN_VARIABLES: &[&str] = &[
    "RELAY_CONFIG",
    "RELAY_LISTEN",
    "RELAY_UPSTREAM",
    "RELAY_CONVERSION_TOKEN",
    "RELAY_APP_TOKENS",
    "RELAY_TRUSTED_PROXIES",
    "RELAY_MAX_BODY_BYTES",
    "RELAY_RATE_LIMIT_PER_SEC",
    "RELAY_RATE_LIMIT_BURST",
    "RELAY_UPSTREAM_TIMEOUT_MS",
    "RELAY_UPSTREAM_CONNECT_TIMEOUT_MS",
    "RELAY_LOG",
    "RELAY_LOG_FORMAT",
    "RELAY_METRICS_LISTEN",
    "RELAY_REDIS_URL",
    "RELAY_IP_TABLE_CAPACITY",
    "RELAY_GLOBAL_RATE_LIMIT_PER_SEC",
    "RELAY_LINGER_MS",
    "RELAY_CALLS_PER_MINUTE",
    "RELAY_INSTANCES",
    "RELAY_ALLOW_CALLS_ABOVE_API_LIMIT",
    "RELAY_MAX_CONNECTIONS",
    "RELAY_IDLE_TIMEOUT_MS",
    "RELAY_DRAIN_MS",
    "RELAY_SHUTDOWN_GRACE_MS",
    "RELAY_BODY_TIMEOUT_MS",
    "RELAY_MAX_REQUESTS_IN_FLIGHT",
    "RELAY_MAX_BODY_BYTES_IN_FLIGHT",
    "RELAY_MAX_BODY_BYTES_IN_FLIGHT_PER_IP",
    "RELAY_WORKER_THREADS",
    "RELAY_SDK_SETTINGS_FILE",
];

/// The names among `names` that start with `RELAY_` but are not [`KNOWN_VARIABLES`], sorted.
pub(crate) fn unknown_variables(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut unknown: Vec<String> = names
        .filter(|name| name.starts_with("RELAY_") && !KNOWN_VARIABLES.contains(&name.as_str()))
        .collect();
    unknown.sort();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    #[test]
    fn environment_overrides() {
        let env: HashMap<&str, &str> = [
            ("RELAY_CONVERSION_TOKEN", " conv "),
            ("RELAY_APP_TOKENS", "42:app-a, 43:app:b"),
            ("RELAY_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16"),
            ("RELAY_RATE_LIMIT_PER_SEC", "7"),
            ("RELAY_UPSTREAM_TIMEOUT_MS", "250"),
            ("RELAY_LISTEN", ""),
            ("RELAY_LINGER_MS", "80"),
            ("RELAY_CALLS_PER_MINUTE", "1200"),
            ("RELAY_INSTANCES", "3"),
            ("RELAY_REDIS_URL", "redis://127.0.0.1:6379"),
        ]
        .into_iter()
        .collect();
        let mut c = RelayConfig::default();
        c.apply_env_from(|k| env.get(k).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(c.conversion_token, "conv");
        assert_eq!(
            c.app_tokens,
            vec![AppToken::new("app-a", "42"), AppToken::new("app:b", "43")]
        );
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.rate_limit_per_sec, 7.0);
        assert_eq!(c.upstream_timeout, Duration::from_millis(250));
        assert_eq!(c.listen, crate::config::DEFAULT_LISTEN);
        assert_eq!(c.linger, Duration::from_millis(80));
        assert_eq!((c.calls_per_minute, c.instances), (1200, 3));
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
    }

    #[test]
    fn bad_environment_values_do_not_echo_tokens() {
        let mut c = RelayConfig::default();
        let err = c
            .apply_env_from(|k| (k == "RELAY_APP_TOKENS").then(|| "secret-token".to_string()))
            .unwrap_err();
        assert!(!err.contains("secret-token"));
        let err = c
            .apply_env_from(|k| (k == "RELAY_RATE_LIMIT_BURST").then(|| "x".to_string()))
            .unwrap_err();
        assert!(err.contains("RELAY_RATE_LIMIT_BURST"));
    }

    #[test]
    fn misspelt_and_foreign_names_are_found() {
        let names = [
            "RELAY_CALLS_PER_MINUTES",
            "RELAY_LINGER_MS",
            "PATH",
            "RELAY_X",
        ];
        assert_eq!(
            unknown_variables(names.iter().map(|s| s.to_string())),
            vec!["RELAY_CALLS_PER_MINUTES", "RELAY_X"]
        );
    }

    #[test]
    fn the_list_is_what_the_loader_reads() {
        let asked = RefCell::new(Vec::new());
        let mut config = RelayConfig::default();
        config
            .apply_env_from(|name| {
                asked.borrow_mut().push(name.to_string());
                None
            })
            .unwrap();
        let mut asked = asked.into_inner();
        // Read by the command line itself, not by the loader.
        asked.extend(["RELAY_CONFIG".to_string()]);
        asked.sort();
        asked.dedup();
        let mut known: Vec<String> = KNOWN_VARIABLES.iter().map(|s| s.to_string()).collect();
        known.sort();
        assert_eq!(asked, known);
    }
}
