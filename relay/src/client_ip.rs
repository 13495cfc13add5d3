//! Which IP address is the app user's: the TCP peer, or an `X-Forwarded-For` entry when the
//! peer is a trusted proxy.
//!
//! `X-Forwarded-For` is believed only when the TCP peer is a configured trusted proxy, and then
//! read from the right: each proxy appends the address it saw, so entries are skipped while
//! they are themselves trusted proxies and the first untrusted one is the client. Everything
//! left of that entry was written by the client and could be forged, which is why the left-most
//! entry is used only when every entry is a trusted proxy. When the peer is trusted but the
//! header is missing or unparseable, no address is returned: the relay would rather leave
//! `client_ip_address` unset than stamp its load balancer's address on a user's events.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// One trusted network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128).
    fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("trusted_proxies: {s:?} is not an IP address or CIDR"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix =
            match prefix {
                None => max,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                    format!("trusted_proxies: {s:?} has an invalid prefix length")
                })?,
            };
        Ok(Cidr { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(bits: u128, prefix: u8, width: u32) -> u128 {
    let host_bits = width - u32::from(prefix);
    if host_bits >= 128 {
        0
    } else {
        bits >> host_bits
    }
}

/// The configured trusted proxies.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    nets: Vec<Cidr>,
}

impl TrustedProxies {
    /// Parses each entry as an IP or CIDR.
    pub(crate) fn parse(entries: &[String]) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|e| Cidr::parse(e))
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { nets })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The user's address for a request that arrived from `peer` with `headers`
    /// (see the module docs for the rule).
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return Some(peer);
        }
        // All X-Forwarded-For lines, in order, as one comma-separated list.
        let mut entries = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let text = value.to_str().ok()?;
            entries.extend(text.split(',').map(str::trim));
        }
        let mut leftmost = None;
        for entry in entries.iter().rev() {
            let ip = parse_forwarded_ip(entry)?;
            if !self.contains(ip) {
                return Some(ip);
            }
            leftmost = Some(ip);
        }
        leftmost
    }
}

/// An `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|sa| sa.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let p = proxies(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::ffff:172.16.0.1"]);
        assert!(p.contains(ip("10.200.3.4")));
        assert!(!p.contains(ip("11.0.0.1")));
        assert!(p.contains(ip("192.168.1.7")));
        assert!(!p.contains(ip("192.168.1.8")));
        assert!(p.contains(ip("fd12::1")));
        assert!(p.contains(ip("::ffff:10.1.1.1")));
        assert!(p.contains(ip("172.16.0.1")));
        assert!(proxies(&["0.0.0.0/0"]).contains(ip("8.8.8.8")));
        assert!(!proxies(&["0.0.0.0/0"]).contains(ip("::1")));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["nope".into()]).is_err());
    }

    #[test]
    fn untrusted_peer_is_the_client_and_its_header_is_ignored() {
        let p = proxies(&["10.0.0.1"]);
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            p.client_ip(ip("198.51.100.2"), &h),
            Some(ip("198.51.100.2"))
        );
        assert_eq!(
            p.client_ip(ip("::ffff:127.0.0.1"), &h),
            Some(ip("127.0.0.1"))
        );
    }

    #[test]
    fn trusted_peer_uses_the_rightmost_untrusted_entry() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        // A forged left entry is skipped: the proxy appended the real client on the right.
        let h = xff(&["1.1.1.1, 203.0.113.9, 10.0.0.2"]);
        assert_eq!(p.client_ip(peer, &h), Some(ip("203.0.113.9")));
        let h = xff(&["1.1.1.1", "203.0.113.9:4711"]);
        assert_eq!(p.client_ip(peer, &h), Some(ip("203.0.113.9")));
        let h = xff(&["[2001:db8::5]:443"]);
        assert_eq!(p.client_ip(peer, &h), Some(ip("2001:db8::5")));
        let h = xff(&["10.1.1.1, 10.0.0.2"]);
        assert_eq!(p.client_ip(peer, &h), Some(ip("10.1.1.1")));
    }

    #[test]
    fn trusted_peer_without_a_usable_header_gives_no_address() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        assert_eq!(p.client_ip(peer, &HeaderMap::new()), None);
        assert_eq!(p.client_ip(peer, &xff(&["unknown"])), None);
        assert_eq!(p.client_ip(peer, &xff(&["1.2.3.4, garbage"])), None);
    }
}
