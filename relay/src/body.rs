//! Reading a request body within the relay's limits: a size cap, one deadline for the whole
//! body, and memory that is reserved as bytes arrive.
//!
//! Slow clients are the threat here. A deadline that restarts on every chunk lets a client
//! send one byte every few seconds for ever, and memory reserved for the declared
//! `Content-Length` before any byte arrives lets a dozen such clients reserve all of it, so
//! every other device is refused. So the deadline ([`BodyLimits::deadline`]) covers the whole
//! body from the moment its headers were read, and a [`Reservation`] grows with the bytes
//! actually received: a slow client holds what it has sent, no more. Each client address
//! (an IPv6 client by its /64) may hold at most `per_address` bytes at once, so even fast
//! senders from one address cannot take the instance's whole budget.
//!
//! [`read_body`] returns the raw bytes, whole: a step that decodes a `Content-Encoding`
//! belongs right after it, where the encoded size is known and bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limit::key_of;

/// Unit of the body-memory budget, in bytes.
const UNIT: usize = 1024;

/// Most of a body's buffer allocated before its bytes arrive.
const INITIAL_BUFFER: usize = 64 * 1024;

/// The size cap and the deadline of one body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// Largest body in bytes (413 above).
    pub max_bytes: usize,
    /// Longest time the whole body may take to arrive (408 after).
    pub deadline: Duration,
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over [`BodyLimits::max_bytes`] (413).
    TooLarge,
    /// Not complete within [`BodyLimits::deadline`] (408).
    Timeout,
    /// The connection failed or the framing was broken (400).
    Unreadable,
    /// The instance's body memory is spent (503).
    InstanceFull,
    /// This client address holds its whole share of body memory (429).
    AddressFull,
}

/// The body memory of one instance: a total, and a share per client address.
pub(crate) struct BodyMemory {
    total: Arc<Semaphore>,
    per_address_units: usize,
    by_address: Mutex<HashMap<u128, usize>>,
}

impl BodyMemory {
    /// At most `total` bytes held by all bodies, `per_address` by one client address.
    pub(crate) fn new(total: usize, per_address: usize) -> Self {
        BodyMemory {
            total: Arc::new(Semaphore::new((total / UNIT).min(Semaphore::MAX_PERMITS))),
            per_address_units: (per_address / UNIT).max(1),
            by_address: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a body for `address` with one unit reserved; refused when memory is spent.
    pub(crate) fn reserve(self: &Arc<Self>, address: IpAddr) -> Result<Reservation, BodyError> {
        let mut reservation = Reservation {
            memory: Arc::clone(self),
            key: key_of(address),
            permit: None,
            units: 0,
        };
        reservation.grow_to(1)?;
        Ok(reservation)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u128, usize>> {
        match self.by_address.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Body memory held for one request until it is answered (released on drop).
pub(crate) struct Reservation {
    memory: Arc<BodyMemory>,
    key: u128,
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
}

impl Reservation {
    /// Holds enough units for `bytes`, taking more from the address's share and the total.
    fn grow_to(&mut self, bytes: usize) -> Result<(), BodyError> {
        let wanted = bytes.div_ceil(UNIT).max(1);
        if wanted <= self.units {
            return Ok(());
        }
        let more = wanted - self.units;
        {
            let mut table = self.memory.lock();
            let held = table.entry(self.key).or_insert(0);
            if *held + more > self.memory.per_address_units {
                if *held == 0 {
                    table.remove(&self.key);
                }
                return Err(BodyError::AddressFull);
            }
            *held += more;
        }
        let permits = u32::try_from(more).unwrap_or(u32::MAX);
        match Arc::clone(&self.memory.total).try_acquire_many_owned(permits) {
            Ok(permit) => {
                match &mut self.permit {
                    Some(held) => held.merge(permit),
                    None => self.permit = Some(permit),
                }
                self.units = wanted;
                metrics::gauge!(crate::telemetry::BODY_BYTES_IN_FLIGHT)
                    .increment((more * UNIT) as f64);
                Ok(())
            }
            Err(_) => {
                self.release_address(more);
                Err(BodyError::InstanceFull)
            }
        }
    }

    fn release_address(&self, units: usize) {
        let mut table = self.memory.lock();
        if let Some(held) = table.get_mut(&self.key) {
            *held = held.saturating_sub(units);
            if *held == 0 {
                table.remove(&self.key);
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        metrics::gauge!(crate::telemetry::BODY_BYTES_IN_FLIGHT)
            .decrement((self.units * UNIT) as f64);
        self.release_address(self.units);
    }
}

/// Reads the whole body within `limits`, growing `reservation` as bytes arrive. `declared`
/// is the `Content-Length`, refused at once when over the cap.
pub(crate) async fn read_body(
    mut body: Body,
    declared: Option<u64>,
    limits: BodyLimits,
    reservation: &mut Reservation,
) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|len| len > limits.max_bytes as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        let expected = declared.map_or(0, |len| usize::try_from(len).unwrap_or(usize::MAX));
        let mut buffer = Vec::with_capacity(expected.min(INITIAL_BUFFER));
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(|_| BodyError::Unreadable)?.into_data() else {
                continue;
            };
            let len = buffer.len() + data.len();
            if len > limits.max_bytes {
                return Err(BodyError::TooLarge);
            }
            reservation.grow_to(len)?;
            buffer.extend_from_slice(&data);
        }
        Ok(Bytes::from(buffer))
    };
    tokio::time::timeout(limits.deadline, read)
        .await
        .unwrap_or(Err(BodyError::Timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_holds_at_most_its_share_and_releases_it() {
        let memory = Arc::new(BodyMemory::new(100 * UNIT, 10 * UNIT));
        let mut a = memory.reserve(ip("203.0.113.1")).unwrap();
        a.grow_to(9 * UNIT).unwrap();
        let mut b = memory.reserve(ip("203.0.113.1")).unwrap();
        assert_eq!(b.grow_to(2 * UNIT), Err(BodyError::AddressFull));
        // Another address has its own share; an IPv6 client counts by its /64.
        let mut c = memory.reserve(ip("2001:db8::1")).unwrap();
        c.grow_to(10 * UNIT).unwrap();
        assert_eq!(
            memory.reserve(ip("2001:db8::2")).err(),
            Some(BodyError::AddressFull)
        );
        drop(a);
        b.grow_to(10 * UNIT).unwrap();
        drop((b, c));
        assert!(memory.lock().is_empty());
        assert_eq!(memory.total.available_permits(), 100);
    }

    #[test]
    fn the_instance_total_refuses_once_spent() {
        let memory = Arc::new(BodyMemory::new(4 * UNIT, 4 * UNIT));
        let mut a = memory.reserve(ip("203.0.113.1")).unwrap();
        a.grow_to(3 * UNIT).unwrap();
        let mut b = memory.reserve(ip("203.0.113.2")).unwrap();
        assert_eq!(b.grow_to(UNIT + 1), Err(BodyError::InstanceFull));
        // A refusal leaves nothing held for the address.
        drop(b);
        assert_eq!(memory.lock().len(), 1);
    }

    #[tokio::test]
    async fn bodies_are_capped_and_read_whole() {
        let memory = Arc::new(BodyMemory::new(1024 * UNIT, 1024 * UNIT));
        let limits = BodyLimits {
            max_bytes: 10,
            deadline: Duration::from_secs(5),
        };
        let mut r = memory.reserve(ip("203.0.113.1")).unwrap();
        let read = read_body(Body::from("0123456789"), Some(10), limits, &mut r).await;
        assert_eq!(read.unwrap(), Bytes::from_static(b"0123456789"));
        let read = read_body(Body::from("0123456789A"), None, limits, &mut r).await;
        assert_eq!(read, Err(BodyError::TooLarge));
        let read = read_body(Body::from(""), Some(11), limits, &mut r).await;
        assert_eq!(read, Err(BodyError::TooLarge));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_covers_the_whole_body() {
        let memory = Arc::new(BodyMemory::new(1024 * UNIT, 1024 * UNIT));
        let limits = BodyLimits {
            max_bytes: 1000,
            deadline: Duration::from_secs(10),
        };
        // One byte every second, for ever: each chunk is quick, the body never ends.
        let trickle = futures_stream(Duration::from_secs(1));
        let mut r = memory.reserve(ip("203.0.113.1")).unwrap();
        let started = tokio::time::Instant::now();
        let read = read_body(trickle, None, limits, &mut r).await;
        assert_eq!(read, Err(BodyError::Timeout));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    /// A body that yields one byte every `gap`, without end.
    fn futures_stream(gap: Duration) -> Body {
        Body::new(Trickle {
            sleep: Box::pin(tokio::time::sleep(gap)),
            gap,
        })
    }

    struct Trickle {
        sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
        gap: Duration,
    }

    impl hyper::body::Body for Trickle {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            use std::future::Future;
            std::task::ready!(self.sleep.as_mut().poll(cx));
            let next = tokio::time::Instant::now() + self.gap;
            self.sleep.as_mut().reset(next);
            std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from_static(b" ")))))
        }
    }
}
