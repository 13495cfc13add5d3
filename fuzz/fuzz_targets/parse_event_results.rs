//! Fuzzes the parsing of a server's answer (`parse_event_results`): any status, any body,
//! any number of events sent. Never a panic; `Some` only with exactly one result per event.
#![no_main]

use app_conversions::internals::{error_message, parse_event_results};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u16, u8, &str)| {
    let (status, sent, body) = input;
    let sent = usize::from(sent % 16);
    if let Some(results) = parse_event_results(status, body, sent) {
        assert_eq!(results.len(), sent);
    }
    let _ = error_message(body);
});
