//! The relay's lifecycle as a load balancer sees it: ready, draining, stopped; and the
//! requests in flight a shutdown waits for.
//!
//! A shutdown first drains: `/readyz` answers 503 so the balancer stops sending new
//! requests, while the relay keeps serving (answers carry `Connection: close`, so clients move
//! to another instance) for the configured drain period. Then it stops accepting and waits
//! for the requests in flight, at most the grace period. It waits for requests, not
//! connections: a connection with no request in flight (idle, or half-way through its
//! headers) is no reason to wait. [`Lifecycle::enter`] counts a request from its headers to
//! its answer.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Draining flag and requests in flight, shared by the server loop and the routes.
#[derive(Default)]
pub(crate) struct Lifecycle {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Lifecycle {
    /// Starts draining: readiness fails from now on.
    pub(crate) fn start_drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// True once a shutdown has begun.
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Counts one request until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!(crate::telemetry::REQUESTS_IN_FLIGHT).increment(1.0);
        InFlight(Arc::clone(self))
    }

    /// Requests in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Returns once no request is in flight.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One request in flight; dropping it ends the request.
pub(crate) struct InFlight(Arc<Lifecycle>);

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(crate::telemetry::REQUESTS_IN_FLIGHT).decrement(1.0);
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn waits_until_the_last_request_ends() {
        let lifecycle = Arc::new(Lifecycle::default());
        lifecycle.wait_idle().await;
        let a = lifecycle.enter();
        let b = lifecycle.enter();
        assert_eq!(lifecycle.in_flight(), 2);
        let waiter = {
            let lifecycle = Arc::clone(&lifecycle);
            tokio::spawn(async move { lifecycle.wait_idle().await })
        };
        drop(a);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
        drop(b);
        waiter.await.unwrap();
        assert!(!lifecycle.draining());
        lifecycle.start_drain();
        assert!(lifecycle.draining());
    }
}
