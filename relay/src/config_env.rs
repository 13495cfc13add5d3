//! The `RELAY_*` environment variables the relay knows, and the ones it does not.
//!
//! A misspelt variable (`RELAY_CALLS_PER_MINUTES=100`) would otherwise be ignored without a
//! word and the default would silently stay in force. The command line names every unknown
//! `RELAY_*` variable at start, one warning each; it does not refuse to start, since a
//! deployment may set variables for a newer release. The list is checked against what
//! [`crate::config_file::apply_env`] actually reads, so it cannot drift.

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
    use crate::config::RelayConfig;
    use std::cell::RefCell;

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
