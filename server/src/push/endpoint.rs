//! A push endpoint is a URL a user's browser supplies, and the server will POST to it: it
//! must not become a way to reach the service's own network. Accepted only over `https`,
//! on a name that resolves to public addresses only (no loopback, private, link-local,
//! shared, metadata or other special-purpose ranges), checked when the subscription arrives
//! and again at every connection ([`PublicOnly`], so a name that later resolves elsewhere
//! reaches nothing). Tests may allow a loopback push service over plain `http`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The longest endpoint accepted (browsers' are a few hundred characters).
pub const MAX_ENDPOINT_LEN: usize = 1024;
/// How long resolving an endpoint's name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which endpoints are acceptable.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointPolicy {
    /// Tests only: a push service on loopback, over `http` or `https`.
    pub allow_loopback: bool,
}

/// Why an endpoint was refused (said to the user as `invalid_subscription`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("the push endpoint is not a URL of at most {MAX_ENDPOINT_LEN} characters")]
    NotUrl,
    #[error("the push endpoint must use https")]
    NotHttps,
    #[error("the push endpoint's name does not resolve")]
    Unresolvable,
    #[error("the push endpoint is not on a public address")]
    NotPublic,
}

impl EndpointPolicy {
    /// Checks `endpoint` and every address its host resolves to now.
    pub async fn check(self, endpoint: &str) -> Result<url::Url, EndpointError> {
        if endpoint.len() > MAX_ENDPOINT_LEN {
            return Err(EndpointError::NotUrl);
        }
        let url = url::Url::parse(endpoint).map_err(|_| EndpointError::NotUrl)?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(EndpointError::NotUrl);
        }
        let https = match url.scheme() {
            "https" => true,
            "http" if self.allow_loopback => false,
            _ => return Err(EndpointError::NotHttps),
        };
        let port = url.port_or_known_default().ok_or(EndpointError::NotUrl)?;
        let addresses: Vec<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(url::Host::Domain(name)) => resolve(name, port).await?,
            None => return Err(EndpointError::NotUrl),
        };
        if addresses.is_empty() {
            return Err(EndpointError::Unresolvable);
        }
        if !addresses.iter().all(|ip| self.allows(*ip)) {
            return Err(EndpointError::NotPublic);
        }
        // Plain http only ever to the tests' loopback service.
        if !https && !addresses.iter().all(|ip| ip.is_loopback()) {
            return Err(EndpointError::NotHttps);
        }
        Ok(url)
    }

    /// Whether a connection to `ip` is acceptable.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self.allow_loopback && ip.is_loopback())
    }
}

async fn resolve(name: &str, port: u16) -> Result<Vec<IpAddr>, EndpointError> {
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| EndpointError::Unresolvable)?
        .map_err(|_| EndpointError::Unresolvable)?;
    Ok(found.map(|addr| addr.ip()).collect())
}

/// Whether `ip` is an ordinary public unicast address: none of the special-purpose ranges
/// (IANA's registries), and for IPv6 none that embeds an IPv4 address we would refuse.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: cloud metadata services live here
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let first = segments[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7 (metadata fd00:ec2::254)
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || (first == 0x2001 && segments[1] < 0x0200) // Teredo, benchmarking, ORCHID…
        || first == 0x2002 // 6to4: embeds an IPv4 address
        || (first == 0x0064 && segments[1] == 0xff9b) // NAT64: embeds an IPv4 address
        || first == 0 // IPv4-compatible and other reserved forms
        || first == 0x0100) // discard-only
}

/// reqwest's resolver for push requests: the system's answer, with every address the
/// policy refuses removed. No address left: the request fails without connecting.
#[derive(Debug, Clone)]
pub struct PublicOnly(pub EndpointPolicy);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            let found =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name.as_str(), 0)))
                    .await??;
            let allowed: Vec<SocketAddr> = found.filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(EndpointError::NotPublic) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver as reqwest takes it.
pub fn resolver(policy: EndpointPolicy) -> Arc<PublicOnly> {
    Arc::new(PublicOnly(policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn special_purpose_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for public in ["142.250.74.110", "17.57.146.10", "2a00:1450:4001:80b::200a"] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[tokio::test]
    async fn endpoints_must_be_https_on_public_addresses() {
        let strict = EndpointPolicy::default();
        let loopback = EndpointPolicy {
            allow_loopback: true,
        };
        for (endpoint, error) in [
            ("not a url", EndpointError::NotUrl),
            ("http://142.250.74.110/push", EndpointError::NotHttps),
            ("ftp://142.250.74.110/push", EndpointError::NotHttps),
            ("https://127.0.0.1/push", EndpointError::NotPublic),
            ("https://10.0.0.8/push", EndpointError::NotPublic),
            ("https://169.254.169.254/latest", EndpointError::NotPublic),
            ("https://[::1]/push", EndpointError::NotPublic),
            ("https://localhost/push", EndpointError::NotPublic),
            ("https://user:pw@142.250.74.110/push", EndpointError::NotUrl),
        ] {
            assert_eq!(
                strict.check(endpoint).await.unwrap_err(),
                error,
                "{endpoint}"
            );
        }
        assert!(strict
            .check("https://142.250.74.110/push/abc")
            .await
            .is_ok());
        let long = format!("https://142.250.74.110/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert_eq!(
            strict.check(&long).await.unwrap_err(),
            EndpointError::NotUrl
        );
        // The tests' setting allows loopback, and nothing else that is private.
        assert!(loopback.check("http://127.0.0.1:9/push").await.is_ok());
        assert_eq!(
            loopback.check("http://10.0.0.8/push").await.unwrap_err(),
            EndpointError::NotPublic
        );
        assert_eq!(
            loopback
                .check("http://142.250.74.110/push")
                .await
                .unwrap_err(),
            EndpointError::NotHttps
        );
    }
}
