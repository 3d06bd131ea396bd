//! The client's address, for per-address throttles. Behind a reverse proxy every request
//! comes from the proxy, so `X-Forwarded-For` is read, but only when the peer is one of
//! the configured trusted proxies: anyone else could write any address there.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use thiserror::Error;

/// The address a request is attributed to (a request extension set by [`attribute`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// An address or a CIDR block (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

/// A trusted-proxy entry could not be read.
#[derive(Debug, Error)]
#[error("not an address or CIDR block: {0:?}")]
pub struct BadNetwork(String);

impl FromStr for Network {
    type Err = BadNetwork;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadNetwork(text.to_owned());
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().map_err(|_| bad())?)),
            None => (text.trim(), None),
        };
        let base: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Network { base, prefix })
    }
}

impl Network {
    /// Whether `addr` lies in this block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.base, canonical(addr)) {
            (IpAddr::V4(base), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(base) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(base) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<Network>);

impl TrustedProxies {
    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(addr))
    }

    /// The client behind `peer`: walking `X-Forwarded-For` from the right (the entry the
    /// nearest proxy added) past every trusted proxy, the first untrusted address. Entries
    /// further left were written by the client itself and prove nothing.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = forwarded_for
            .iter()
            .rev()
            .flat_map(|header| header.rsplit(','))
            .map(str::trim);
        for hop in hops {
            let Ok(addr) = hop.parse::<IpAddr>() else {
                // An unreadable entry: stop at the last address we could vouch for.
                break;
            };
            client = canonical(addr);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Middleware: attributes the request to a [`ClientAddr`].
pub async fn attribute(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let client = proxies.client(peer, &forwarded);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks() {
        let lan: Network = "10.0.0.0/8".parse().unwrap();
        assert!(lan.contains(ip("10.200.3.4")));
        assert!(!lan.contains(ip("11.0.0.1")));
        assert!(lan.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped");
        let one: Network = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")));
        assert!(!one.contains(ip("::2")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("proxy.example".parse::<Network>().is_err());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxies = TrustedProxies(vec!["127.0.0.1".parse().unwrap()]);
        // A trusted proxy: the address it saw.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &["203.0.113.7"]),
            ip("203.0.113.7")
        );
        // The client forged an entry; the proxy appended the real one.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &["6.6.6.6, 203.0.113.7"]),
            ip("203.0.113.7")
        );
        // Anyone else: the header is ignored.
        assert_eq!(
            proxies.client(ip("198.51.100.2"), &["203.0.113.7"]),
            ip("198.51.100.2")
        );
        // No proxies configured: never believed.
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &["203.0.113.7"]),
            ip("127.0.0.1")
        );
        // Two proxies in a row, both trusted.
        let chain = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(
            chain.client(ip("10.0.0.2"), &["203.0.113.7, 10.0.0.1"]),
            ip("203.0.113.7")
        );
    }
}
