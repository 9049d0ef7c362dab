//! Who may make this process fetch a URL, and where to: the guard for downloads asked by a
//! caller that is not the device itself (the service's users).
//!
//! Such a caller names a URL; the server fetches it. Unguarded, that is a way into the server's
//! network (its loopback admin ports, the cloud's metadata address, the LAN) and a port
//! scanner. So a guarded fetch needs the URL's host on an allow-list, and then — after DNS, at
//! connect time, so a name cannot resolve to one address when checked and another when used —
//! only public unicast addresses are dialled. Redirects are not followed (a redirect is a new
//! URL nobody checked), and no proxy from the environment is used (it would resolve the name
//! itself).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Whether `ip` is a public unicast address: not loopback, private, link-local, shared (CGNAT),
/// multicast, broadcast, documentation, benchmarking, reserved or unspecified, in either
/// family (IPv4 inside IPv6 is judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0                                  // "this network"
        || (a == 100 && (64..128).contains(&b))    // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0)          // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))      // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00                 // unique local
        || (s[0] & 0xffc0) == 0xfe80                 // link-local
        || (s[0] & 0xffc0) == 0xfec0                 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8)        // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b)        // NAT64: an IPv4 address in disguise
        || (s[0] == 0x2002)                          // 6to4: likewise
        || (s[0] == 0x2001 && s[1] == 0)) // Teredo
}

/// Whether `host` is on `allow`: an entry is a host name (`media.example.com`), a suffix of
/// subdomains (`.example.com`), or an IP address; case does not matter.
pub fn host_allowed(host: &str, allow: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allow.iter().any(|entry| {
        let entry = entry.trim_end_matches('.').to_ascii_lowercase();
        match entry.strip_prefix('.') {
            Some(suffix) => host.len() > suffix.len() && host.ends_with(&format!(".{suffix}")),
            None => host == entry.trim_start_matches('[').trim_end_matches(']'),
        }
    })
}

/// Checks that a guarded caller may have `url` fetched: http or https, a host on `allow`, and,
/// if the host is an address, a public one. The description says why not.
pub fn check_url(url: &str, allow: &[String]) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?}: only http and https URLs are fetched"));
    }
    let Some(host) = parsed.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string()) else {
        return Err(format!("{url:?} names no host"));
    };
    if allow.is_empty() {
        return Err("this server fetches no remote URLs (no host is on its fetch allow-list)".into());
    }
    if !host_allowed(&host, allow) {
        return Err(format!("host {host} is not on this server's fetch allow-list"));
    }
    if let Some(ip) = literal_ip(&parsed)
        && !is_public(ip)
    {
        return Err(format!("{ip} is not a public address"));
    }
    Ok(())
}

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    url.host_str()?.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Whether a guarded client may dial `url`'s literal address, if it has one (names are checked
/// by the client's resolver).
pub fn literal_address_allowed(url: &str) -> bool {
    reqwest::Url::parse(url).ok().and_then(|u| literal_ip(&u)).is_none_or(is_public)
}

/// A resolver that answers only public addresses: a name that resolves to nothing else fails.
#[derive(Debug)]
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let why = format!("{host} resolves to no public address ({} refused)", all.len());
                return Err(why.into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client of guarded fetches: public addresses only, no redirects, no proxy.
pub fn guarded_client(connect_timeout: Duration, read_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnlyResolver))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "8.8.8.8", "203.0.114.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn hosts_match_names_suffixes_and_addresses() {
        let allow = vec!["media.example.com".to_string(), ".cdn.example.net".into(), "1.1.1.1".into()];
        assert!(host_allowed("MEDIA.example.com", &allow));
        assert!(host_allowed("a.cdn.example.net", &allow));
        assert!(!host_allowed("cdn.example.net", &allow));
        assert!(!host_allowed("evilcdn.example.net", &allow));
        assert!(!host_allowed("media.example.com.evil.org", &allow));
        assert!(host_allowed("1.1.1.1", &allow));
    }

    #[test]
    fn urls_need_a_listed_host_and_a_public_literal() {
        let none: Vec<String> = Vec::new();
        assert!(check_url("http://media.example.com/a", &none).unwrap_err().contains("no remote URLs"));
        let allow = vec!["media.example.com".to_string(), "127.0.0.1".into(), "[::1]".into()];
        assert!(check_url("https://media.example.com/a.png", &allow).is_ok());
        assert!(check_url("http://other.example.com/", &allow).unwrap_err().contains("allow-list"));
        assert!(check_url("http://127.0.0.1:8080/", &allow).unwrap_err().contains("not a public address"));
        assert!(check_url("http://[::1]/", &allow).unwrap_err().contains("not a public address"));
        assert!(check_url("file:///etc/passwd", &allow).unwrap_err().contains("http and https"));
        assert!(check_url("not a url", &allow).is_err());
        assert!(!literal_address_allowed("http://169.254.169.254/latest/meta-data"));
        assert!(literal_address_allowed("http://media.example.com/"));
    }

    #[tokio::test]
    async fn the_guarded_client_dials_no_loopback_name() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = guarded_client(Duration::from_secs(2), Duration::from_secs(2));
        let e = client.get(format!("http://localhost:{port}/")).send().await.unwrap_err();
        assert!(format!("{e:?}").contains("no public address"), "{e:?}");
    }
}
