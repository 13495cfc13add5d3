//! The deployment files are checked where no container tool runs: the sample `relay.toml`
//! (which the README's quick start uses) loads and validates, and `compose.yaml` parses and
//! wires the relay to Redis and to the sandbox on loopback, with a stop grace that covers the
//! drain and the shutdown grace. Building the `Dockerfile` needs a container tool, which CI
//! does not have.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use app_conversions_relay::RelayConfig;
use yaml_rust2::YamlLoader;

fn repository_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn the_sample_relay_toml_loads_and_validates() {
    let mut config = RelayConfig::from_file(&repository_file("relay.toml")).unwrap();
    config
        .apply_env_from(|name| (name == "RELAY_CONVERSION_TOKEN").then(|| "sandbox-token".into()))
        .unwrap();
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(config.upstream, "http://127.0.0.1:8787");
    assert_eq!(config.app_tokens.len(), 2);
}

#[test]
fn compose_yaml_runs_relay_redis_and_the_sandbox() {
    let text = std::fs::read_to_string(repository_file("../compose.yaml")).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let services = &docs[0]["services"];
    let relay = &services["relay"];
    let env = &relay["environment"];
    assert_eq!(
        env["RELAY_UPSTREAM"].as_str(),
        Some("http://127.0.0.1:8787")
    );
    assert_eq!(
        env["RELAY_REDIS_URL"].as_str(),
        Some("redis://redis:6379/0")
    );
    assert!(env["RELAY_METRICS_LISTEN"].as_str().is_some());
    assert_eq!(
        relay["command"][1].as_str(),
        Some("/etc/app-conversions-relay/relay.toml")
    );
    // The sandbox shares the relay's loopback: cleartext only goes to a loopback address.
    assert_eq!(
        services["sandbox"]["network_mode"].as_str(),
        Some("service:relay")
    );
    assert!(services["redis"]["image"]
        .as_str()
        .unwrap()
        .starts_with("redis:"));
    let grace: u64 = relay["stop_grace_period"]
        .as_str()
        .unwrap()
        .trim_end_matches('s')
        .parse()
        .unwrap();
    let defaults = RelayConfig::default();
    assert!(grace >= (defaults.drain + defaults.effective_shutdown_grace()).as_secs());
    // Every RELAY_ variable it sets is one the relay knows (the binary warns otherwise).
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_app-conversions-relay"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for (name, _) in env.as_hash().unwrap() {
        let name = name.as_str().unwrap();
        assert!(help.contains(name), "{name} is not a relay variable");
    }
}
