//! Relay throughput benchmark (written in a following step).

fn main() {}
