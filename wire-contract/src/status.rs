//! What each HTTP status of the events endpoint means to a sender: one table, read by the SDK's
//! upload policy (what to do with the events) and by the relay (which answers it passes on to
//! the device, and which it replaces with 502 because the SDK would not know them).

/// The meaning of an answer's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 200, 422: one result per event sent, in order (a 422's are in `details`).
    EventResults,
    /// 400: the whole request was refused (something in one of its events); splitting the
    /// batch isolates the event at fault.
    BadRequest,
    /// 413: the request was too large; fewer events go in the next.
    TooLarge,
    /// 401, 403, 404: the token, or the ad account it is used for, is refused; nothing will
    /// succeed until the configuration changes.
    Rejected,
    /// 408, 429, 5xx: try the same events again later, after `Retry-After` when given.
    RetryLater,
    /// Anything else (1xx, other 2xx, 3xx, other 4xx, codes past 599): not an answer the API
    /// gives. A sender keeps the events and retries; a relay answers 502 in its place.
    Unexpected,
}

/// The class of `status`.
pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200 | 422 => StatusClass::EventResults,
        400 => StatusClass::BadRequest,
        413 => StatusClass::TooLarge,
        401 | 403 | 404 => StatusClass::Rejected,
        408 | 429 | 500..=599 => StatusClass::RetryLater,
        _ => StatusClass::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_row() {
        let table: [(&[u16], StatusClass); 6] = [
            (&[200, 422], StatusClass::EventResults),
            (&[400], StatusClass::BadRequest),
            (&[413], StatusClass::TooLarge),
            (&[401, 403, 404], StatusClass::Rejected),
            (
                &[408, 429, 500, 502, 503, 504, 599],
                StatusClass::RetryLater,
            ),
            (
                &[
                    0, 100, 101, 201, 204, 301, 302, 307, 405, 409, 418, 421, 600, 999,
                ],
                StatusClass::Unexpected,
            ),
        ];
        for (statuses, class) in table {
            for &status in statuses {
                assert_eq!(classify_status(status), class, "{status}");
            }
        }
    }
}
