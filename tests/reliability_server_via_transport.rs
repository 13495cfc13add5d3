//! The hostile-server tests of tests/reliability_server.rs again (timeouts, dropped
//! connections, answers cut short, huge and garbage answers, absurd Retry-After, a server
//! echoing the token), with every client sending through a transport written outside the
//! core (tests/common/transport.rs).
#[path = "reliability_server.rs"]
mod reliability_server;
