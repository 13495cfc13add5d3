//! The HTTP transport boundary: one blocking call, `HttpTransport::send`, that the app's
//! platform can implement (`HttpURLConnection` or OkHttp on Android, `URLSession` on iOS) or
//! the built-in Rust client does (`rust_transport`, behind the `rust-transport` feature).
//!
//! A transport only moves bytes. Every delivery rule stays in the core ([`crate::core::upload::exchange`]):
//! the request's headers and timeout, the answer size cap, `Retry-After`, redirects treated as
//! answers, and the redaction of the token from any text a transport returns.

/// One HTTP header, as sent or received (names compare case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct HttpHeader {
    /// The header name, e.g. `Content-Type`.
    pub name: String,
    /// The header value.
    pub value: String,
}

/// A request the SDK asks the transport to send: a `POST` of events or a `GET` of remote
/// settings (`method`), to `url` with exactly `headers` (the bearer token is in
/// `Authorization` and nowhere else).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct HttpRequest {
    /// The full URL, query included.
    pub url: String,
    /// Headers to send as given (`Authorization`, `Content-Type`, `User-Agent`, and
    /// `Content-Encoding: gzip` when the body is compressed).
    pub headers: Vec<HttpHeader>,
    /// The request body, already encoded (compressed when `Content-Encoding` says so).
    pub body: Vec<u8>,
    /// The whole exchange (connect, send, answer) should end within this many milliseconds;
    /// past it, fail with [`TransportError::Timeout`].
    pub timeout_ms: u64,
    /// The HTTP method: `POST` (events, with a body) or `GET` (the relay's remote settings,
    /// without a body). A transport that always POSTs gets an error status for the `GET`,
    /// which leaves the settings as the app configured them.
    #[cfg_attr(feature = "ffi", uniffi(default = "POST"))]
    pub method: String,
}

/// The server's answer, whatever its status: a transport follows no redirect and treats no
/// status as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct HttpResponse {
    /// The HTTP status code (100 to 599; anything else is refused as a broken answer).
    pub status: u16,
    /// The answer's headers (the SDK reads `Retry-After`).
    pub headers: Vec<HttpHeader>,
    /// The answer's body, decoded from any transfer or content encoding. The SDK reads at
    /// most 2 MiB of it: a transport may stop reading past that and return what it has.
    pub body: Vec<u8>,
}

/// Why a transport could not get an answer. Every kind is retried with backoff; the message
/// is kept (without the token) in diagnostics and shown to the delivery listener.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "ffi", derive(uniffi::Error))]
pub enum TransportError {
    /// The request's `timeout_ms` passed first.
    #[error("request timed out: {reason}")]
    Timeout {
        /// What timed out.
        reason: String,
    },
    /// No network, the host was not found, or the connection failed or was closed.
    #[error("network error: {reason}")]
    Network {
        /// What failed.
        reason: String,
    },
    /// Anything else (TLS, a refused request, an unexpected exception in the transport).
    #[error("transport error: {reason}")]
    Other {
        /// What failed.
        reason: String,
    },
}

#[cfg(feature = "ffi")]
impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    /// An exception the app's transport threw that is not a `TransportError` (a Kotlin
    /// `RuntimeException`, say) arrives as `Other`, never as a crash.
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> TransportError {
        TransportError::Other {
            reason: format!("unexpected error in the app's transport: {}", error.reason),
        }
    }
}

/// Sends one HTTP request and returns the answer; implemented by the app's platform (or by
/// the built-in Rust client). Called only on the SDK's upload thread, one request at a time,
/// so an implementation may block; it must not follow redirects. While a call has not
/// returned, that thread sends nothing else; `shutdown()` still returns within its timeout.
#[cfg_attr(feature = "ffi", uniffi::export(with_foreign))]
pub trait HttpTransport: Send + Sync {
    /// Sends `request.method` (`POST` with `request.body`, or `GET`) to `request.url` with
    /// `request.headers`, within `request.timeout_ms`.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
