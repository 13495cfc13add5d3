//! The relay's own answers, shaped like the API's `{"code":..,"message":..}` errors.
//!
//! Where the relay refuses for a reason the real API also has (authentication, ad account
//! scope, rate limit, malformed body, too many events) it uses the API's exact status, code and
//! message, so an SDK cannot tell the relay from the API and needs no relay-specific handling.
//! Reasons the API cannot have (body over the relay's cap, a body too slow to arrive, the
//! relay at capacity, upstream unreachable or too slow) use the HTTP status as `code`, which
//! no documented API error uses.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// `{"code":code,"message":message}` with `status`.
pub(crate) fn api_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

/// 401 code 2, as the API answers a missing or unknown token.
pub(crate) fn unauthenticated() -> Response {
    api_error(StatusCode::UNAUTHORIZED, 2, "Authentication failed.")
}

/// 403 code 29, as the API answers a token not allowed for the ad account.
pub(crate) fn forbidden() -> Response {
    api_error(
        StatusCode::FORBIDDEN,
        29,
        "You are not permitted to access that resource.",
    )
}

/// 429 code 8 with `Retry-After: secs`, as the API answers rate-limited calls.
pub(crate) fn rate_limited(retry_after_secs: u64) -> Response {
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        8,
        "This request exceeded a rate limit. This can happen if the client exceeds one\nof the published rate limits within a short time window.",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// 400 code 4196 with an `Invalid request: ...` message.
pub(crate) fn bad_request(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, 4196, message)
}

/// 413: the body is larger than the relay accepts.
pub(crate) fn payload_too_large(limit: usize) -> Response {
    api_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        413,
        &format!("Request body is larger than this relay's limit of {limit} bytes; send fewer events per request."),
    )
}

/// 502: the upstream could not be reached or broke the connection.
pub(crate) fn bad_gateway() -> Response {
    api_error(
        StatusCode::BAD_GATEWAY,
        502,
        "The relay could not reach the Conversions API; retry later.",
    )
}

/// 504: the upstream did not answer within the relay's timeout.
pub(crate) fn gateway_timeout() -> Response {
    api_error(
        StatusCode::GATEWAY_TIMEOUT,
        504,
        "The Conversions API did not answer in time; retry later.",
    )
}

/// 503 with `Retry-After: 1`: the relay is at its cap of requests or body memory in flight.
pub(crate) fn overloaded() -> Response {
    let mut response = api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        503,
        "The relay is at capacity; retry later.",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 503 with `Retry-After`: the upstream failed several times in a row, so calls pause.
pub(crate) fn upstream_failing(retry_after_secs: u64) -> Response {
    let mut response = api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        503,
        "The Conversions API is failing; the relay pauses its calls. Retry later.",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// 503 with a spread `Retry-After`: the upstream refused a batch and the relay's budget of
/// splits could not find the device at fault; sent again, the request meets other devices.
pub(crate) fn unsplit() -> Response {
    let mut response = api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        503,
        "The Conversions API refused the batch this request was in; retry later.",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(1 + fastrand::u64(0..30)));
    response
}

/// 408: the request body did not arrive within the relay's deadline.
pub(crate) fn request_timeout() -> Response {
    api_error(
        StatusCode::REQUEST_TIMEOUT,
        408,
        "The request body did not arrive in time; retry.",
    )
}

/// 404 for any other path.
pub(crate) fn not_found() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        404,
        "Not found: this relay serves POST /v5/ad_accounts/{ad_account_id}/events and GET /livez, /readyz.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(r: Response) -> String {
        String::from_utf8(to_bytes(r.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn bodies_match_the_api() {
        assert_eq!(
            body_of(unauthenticated()).await,
            r#"{"code":2,"message":"Authentication failed."}"#
        );
        assert_eq!(
            body_of(forbidden()).await,
            r#"{"code":29,"message":"You are not permitted to access that resource."}"#
        );
        let limited = rate_limited(3);
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[RETRY_AFTER], "3");
        assert!(body_of(limited)
            .await
            .starts_with(r#"{"code":8,"message":"This request exceeded a rate limit."#));
    }
}
