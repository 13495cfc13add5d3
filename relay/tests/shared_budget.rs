//! The ad account's call budget across instances: two relay processes on one real
//! `redis-server` against one sandbox stay within the budget together, and without Redis
//! (never reachable, or gone mid-minute) an instance spends at most its share.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use app_conversions_sandbox::{Sandbox, SandboxConfig};
use common::processes::{free_port, spawn_relay, RedisServer};
use common::*;

/// Budget for all instances together; each of the two instances' share is half.
const CALLS_PER_MINUTE: usize = 6;

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .unwrap()
}

/// Sends `count` one-event requests, round robin over `bases`; the statuses.
async fn send_round_robin(bases: &[String], count: usize) -> Vec<u16> {
    let client = client();
    let mut statuses = Vec::new();
    for i in 0..count {
        let base = &bases[i % bases.len()];
        let body = batch(vec![event(&format!("shared-{i}"))]);
        let answer = post_to(&client, base, Some(APP_TOKEN), AD_ACCOUNT, "", body, &[]).await;
        assert!([200, 429].contains(&answer.status), "{}", answer.body);
        statuses.push(answer.status);
    }
    statuses
}

fn ok_count(statuses: &[u16]) -> usize {
    statuses.iter().filter(|s| **s == 200).count()
}

/// The settings of one of two instances sharing the budget.
fn instance_env(upstream: &str, redis_url: &str) -> Vec<(&'static str, String)> {
    instance_env_with_budget(upstream, redis_url, CALLS_PER_MINUTE)
}

/// [`instance_env`] with another budget.
fn instance_env_with_budget(
    upstream: &str,
    redis_url: &str,
    calls_per_minute: usize,
) -> Vec<(&'static str, String)> {
    vec![
        ("RELAY_UPSTREAM", upstream.to_string()),
        ("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN.to_string()),
        ("RELAY_APP_TOKENS", format!("{AD_ACCOUNT}:{APP_TOKEN}")),
        ("RELAY_REDIS_URL", redis_url.to_string()),
        ("RELAY_INSTANCES", "2".to_string()),
        ("RELAY_CALLS_PER_MINUTE", calls_per_minute.to_string()),
        ("RELAY_LINGER_MS", "0".to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relay_processes_on_one_redis_stay_within_the_budget_together() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let sandbox = sandbox();
    let env = instance_env(&sandbox.base_url(), &redis.url);
    let (a, _relay_a) = spawn_relay(None, &env);
    let (b, _relay_b) = spawn_relay(None, &env);
    inside_one_minute(Duration::from_secs(10)).await;
    // First instance A alone, then both: with the budget shared, A may spend all of it (not
    // only its half) and B then finds nothing left.
    let alone = send_round_robin(std::slice::from_ref(&a), 10).await;
    let both = send_round_robin(&[a, b], 10).await;
    assert_eq!(ok_count(&alone), CALLS_PER_MINUTE, "{alone:?}");
    assert_eq!(ok_count(&both), 0, "{both:?}");
    assert_eq!(sandbox.requests().len(), CALLS_PER_MINUTE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_reachable_redis_an_instance_spends_only_its_share() {
    let sandbox = sandbox();
    let dead_redis = format!("redis://127.0.0.1:{}", free_port());
    let log = app_conversions_relay::RequestLog::new();
    let mut config = relay_config(&sandbox.base_url(), &log);
    config.redis_url = Some(dead_redis);
    config.instances = 2;
    config.calls_per_minute = CALLS_PER_MINUTE as u32;
    config.linger = Duration::ZERO;
    let relay = app_conversions_relay::RelayHandle::start(config).unwrap();
    inside_one_minute(Duration::from_secs(10)).await;
    let statuses = send_round_robin(&[relay.base_url()], 12).await;
    assert_eq!(ok_count(&statuses), CALLS_PER_MINUTE / 2, "{statuses:?}");
    assert_eq!(sandbox.requests().len(), CALLS_PER_MINUTE / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_made_through_redis_count_against_the_share_when_it_goes_away() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let sandbox = sandbox();
    let log = app_conversions_relay::RequestLog::new();
    let mut config = relay_config(&sandbox.base_url(), &log);
    config.redis_url = Some(redis.url.clone());
    config.instances = 2;
    config.calls_per_minute = CALLS_PER_MINUTE as u32;
    config.linger = Duration::ZERO;
    let relay = app_conversions_relay::RelayHandle::start(config).unwrap();
    let bases = [relay.base_url()];
    inside_one_minute(Duration::from_secs(10)).await;
    let before = send_round_robin(&bases, 2).await;
    assert_eq!(ok_count(&before), 2, "{before:?}");
    redis.stop();
    let after = send_round_robin(&bases, 6).await;
    // Share 3, of which 2 were spent through Redis: one more call, then 429s.
    assert_eq!(ok_count(&after), 1, "{after:?}");
    assert_eq!(sandbox.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_minute_does_not_reset_the_shared_budget() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let sandbox = sandbox();
    let budget = 40;
    let env = instance_env_with_budget(&sandbox.base_url(), &redis.url, budget);
    let (a, _relay_a) = spawn_relay(None, &env);
    let (b, _relay_b) = spawn_relay(None, &env);
    let bases = [a, b];
    inside_one_minute(Duration::from_secs(15)).await;
    let before = send_round_robin(&bases, 30).await;
    assert_eq!(ok_count(&before), 30, "{before:?}");
    // Redis comes back empty: this minute's counter is gone.
    redis.restart();
    send_round_robin(&bases, 2).await;
    // Past the second in which an instance leaves a failed Redis alone.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    send_round_robin(&bases, 60).await;
    let calls = sandbox.requests().len();
    assert!(
        calls <= budget,
        "{calls} upstream calls in one minute, budget {budget}"
    );
}
