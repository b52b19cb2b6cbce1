//! SSRF defence: an endpoint URL must be `https`, and every address its host
//! resolves to must be a public unicast one. Delivery connects to the addresses
//! checked here (see `sender`), so a DNS answer that changes between the check
//! and the connection (rebinding) cannot point it elsewhere.
//! `RIGMARKET_WEBHOOK_ALLOW_PRIVATE=true` lifts both rules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

/// Why an endpoint URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("the URL must use https")]
    NotHttps,
    #[error("the URL must be an absolute http(s) URL with a host and no credentials")]
    Malformed,
    #[error("the host does not resolve")]
    Unresolvable,
    #[error("the host resolves to {address}, a {class} address")]
    Refused { address: IpAddr, class: &'static str },
}

/// The class of `ip` when it must not be called, `None` for a public address.
pub fn refused_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        (0, ..) => "unspecified",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "carrier-grade NAT",
        (224..=239, ..) => "multicast",
        (255, 255, 255) if ip.is_broadcast() => "broadcast",
        (240..=255, ..) => "reserved",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    // Addresses that carry an IPv4 address are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4).map(|_| "IPv4-mapped private");
    }
    if segments[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_unspecified() && !ip.is_loopback() {
        let v4 = Ipv4Addr::from(((u32::from(segments[6])) << 16) | u32::from(segments[7]));
        return refused_v4(v4).map(|_| "IPv4-compatible private");
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::from(((u32::from(segments[6])) << 16) | u32::from(segments[7]));
        return refused_v4(v4).map(|_| "NAT64 private");
    }
    if segments[0] == 0x2002 {
        let v4 = Ipv4Addr::from(((u32::from(segments[1])) << 16) | u32::from(segments[2]));
        return refused_v4(v4).map(|_| "6to4 private");
    }
    Some(match segments[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0xff00..=0xffff => "multicast",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xfc00..=0xfdff => "unique local",
        0x2001 if segments[1] == 0x0db8 => "documentation",
        0x2001 if segments[1] == 0 => "Teredo",
        0x0100 if segments[1..4] == [0, 0, 0] => "discard-only",
        _ => return None,
    })
}

/// Checks the URL's form: https (unless private addresses are allowed), a host,
/// no user or password.
pub fn check_form(url: &Url, allow_private: bool) -> Result<(), UrlRefusal> {
    let scheme_ok = url.scheme() == "https" || (allow_private && url.scheme() == "http");
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(UrlRefusal::Malformed);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Malformed);
    }
    if !scheme_ok {
        return Err(UrlRefusal::NotHttps);
    }
    Ok(())
}

/// Checks every address (unless private addresses are allowed).
pub fn check_addresses(addresses: &[SocketAddr], allow_private: bool) -> Result<(), UrlRefusal> {
    if addresses.is_empty() {
        return Err(UrlRefusal::Unresolvable);
    }
    if allow_private {
        return Ok(());
    }
    match addresses.iter().find_map(|a| refused_class(a.ip()).map(|class| (a.ip(), class))) {
        Some((address, class)) => Err(UrlRefusal::Refused { address, class }),
        None => Ok(()),
    }
}

/// Resolves the URL's host once and checks the form and every address; the
/// answer is what delivery connects to.
pub async fn resolve_checked(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, UrlRefusal> {
    check_form(url, allow_private)?;
    let port = url.port_or_known_default().ok_or(UrlRefusal::Malformed)?;
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(host)) => {
            tokio::net::lookup_host((host, port)).await.map_err(|_| UrlRefusal::Unresolvable)?.collect()
        }
        None => return Err(UrlRefusal::Malformed),
    };
    check_addresses(&addresses, allow_private)?;
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<&'static str> {
        refused_class(text.parse().unwrap())
    }

    #[test]
    fn every_refused_ipv4_class() {
        for (address, expected) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.10.1", "link-local"),
            ("169.254.169.254", "cloud metadata"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.254", "carrier-grade NAT"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("192.0.2.1", "documentation"),
            ("198.18.0.1", "benchmarking"),
        ] {
            assert_eq!(class(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn every_refused_ipv6_class() {
        for (address, expected) in [
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("ff02::1", "multicast"),
            ("fe80::1", "link-local"),
            ("fc00::1", "unique local"),
            ("fd00:ec2::254", "unique local"),
            ("fec0::1", "site-local"),
            ("::ffff:127.0.0.1", "IPv4-mapped private"),
            ("::ffff:10.0.0.1", "IPv4-mapped private"),
            ("::ffff:169.254.169.254", "IPv4-mapped private"),
            ("::ffff:100.64.0.1", "IPv4-mapped private"),
            ("::127.0.0.1", "IPv4-compatible private"),
            ("64:ff9b::a00:1", "NAT64 private"),
            ("2002:7f00:1::", "6to4 private"),
            ("2001:db8::1", "documentation"),
            ("2001:0:4136:e378::1", "Teredo"),
        ] {
            assert_eq!(class(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(class(address), None, "{address}");
        }
    }

    #[test]
    fn the_form_needs_https_a_host_and_no_credentials() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(check_form(&url("https://hooks.example.com/x"), false), Ok(()));
        assert_eq!(check_form(&url("http://hooks.example.com/x"), false), Err(UrlRefusal::NotHttps));
        assert_eq!(check_form(&url("http://hooks.example.com/x"), true), Ok(()));
        assert_eq!(check_form(&url("https://user:pw@hooks.example.com/"), false), Err(UrlRefusal::Malformed));
        assert_eq!(check_form(&url("ftp://hooks.example.com/"), true), Err(UrlRefusal::Malformed));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let url = Url::parse("https://localhost:8443/hook").unwrap();
        let refusal = resolve_checked(&url, false).await.unwrap_err();
        assert!(matches!(refusal, UrlRefusal::Refused { class: "loopback", .. }), "{refusal:?}");
        assert!(resolve_checked(&url, true).await.is_ok());
        let literal = Url::parse("https://[::ffff:127.0.0.1]/").unwrap();
        assert!(matches!(resolve_checked(&literal, false).await, Err(UrlRefusal::Refused { .. })));
    }
}
