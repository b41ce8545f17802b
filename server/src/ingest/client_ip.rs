//! The shopper's address behind the proxies we run: the rate limit and the
//! Matomo relay key on it. Production sits behind an HTTPS proxy or a load
//! balancer, whose address every request would otherwise share.
//!
//! Only a peer in `--trusted-proxies` is believed about who it forwards for;
//! from any other peer the `Forwarded` and `X-Forwarded-For` headers are
//! ignored, so a shopper cannot choose their own address. The forwarding chain
//! is read from the right (the hop nearest to us), skipping our own proxies:
//! the first address that is not one of them is the client's. Entries left of
//! it were written by the client and are not trusted.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use ipnet::IpNet;

/// The client's address: `peer` itself unless it is a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    let mut client = peer;
    for hop in chain.iter().rev() {
        // An entry that is no address (`unknown`, an obfuscated name, garbage)
        // ends what can be known: the last proxy before it stands in.
        let Some(ip) = hop else { break };
        client = *ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The addresses the proxies recorded, leftmost (farthest) first: from
/// `Forwarded` (RFC 7239) when present, else from `X-Forwarded-For`. `None`
/// for an entry that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value))
                })
            })
            .map(Option::flatten)
            .collect();
    }
    values(header::HeaderName::from_static("x-forwarded-for"))
        .iter()
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
/// `[2001:db8::1]:443`, optionally in quotes.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.parse().ok().or_else(|| {
        // IPv4 with a port; a bare IPv6 address has several colons.
        let (host, port) = s.rsplit_once(':')?;
        (port.bytes().all(|b| b.is_ascii_digit()) && !host.contains(':')).then(|| host.parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("net")).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=198.51.100.7")]);
        assert_eq!(client_ip(ip("192.0.2.50"), &h, &nets(&["10.0.0.0/8"])), ip("192.0.2.50"));
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &[]), ip("10.0.0.2"), "no trusted proxies: headers ignored");
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "::1/128"]);
        // The shopper wrote a fake first entry; our two proxies appended theirs.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.9:5123")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("203.0.113.9"), "several headers, a port");
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.8")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.9"), "all ours: the farthest");
        let h = headers(&[("x-forwarded-for", "203.0.113.9, garbage")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.2"), "garbage stops the walk");
        assert_eq!(client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_takes_precedence_and_is_parsed_per_rfc_7239() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[
            ("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.7;by=10.0.0.2"#),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "For=192.0.2.60;proto=http")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("192.0.2.60"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.2"));
    }
}
