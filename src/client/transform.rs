//! linkerd's interpreter transformers that act on addresses (`interpreter.transformers`):
//! applied in order to the addresses a concrete name resolves to, before its endpoint set is
//! built (so the balancer, failure accrual and `l5d-dst-client` see the result).
//!
//! - `io.l5d.localhost`: keep the addresses whose IP is one of this host's (its host name,
//!   resolved once at start, as linkerd does);
//! - `io.l5d.specificHost`: keep those whose IP is one of `host`'s;
//! - `io.l5d.port`: give every address `port` (duplicates that leaves are merged);
//! - `io.l5d.k8s.localnode`: keep those in the same /24 as `POD_IP` (IPv4; the same /64 for
//!   IPv6).
//!
//! `io.l5d.replace` and `io.l5d.const` rewrite names, not addresses: the router applies them
//! to a name's binding (before these). `io.l5d.k8s.daemonset` (a Kubernetes API lookup) is
//! reported by `hawser check` as not supported yet.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::config::TransformerConfig;

/// One compiled transformer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrTransform {
    /// Keep the addresses with one of these IPs.
    KeepIps(Vec<IpAddr>),
    /// Every address gets this port.
    SetPort(u16),
    /// Keep the addresses in this IP's /24 (IPv4) or /64 (IPv6).
    KeepSubnet(IpAddr),
}

/// Resolves the configured transformers (host names, `POD_IP`) once, at start.
///
/// # Errors
/// A host that does not resolve, or `io.l5d.k8s.localnode` without a usable `POD_IP`.
pub fn compile(configs: &[TransformerConfig]) -> Result<Vec<AddrTransform>, String> {
    configs
        .iter()
        .map(compile_one)
        .filter_map(Result::transpose)
        .collect()
}

/// One address transformer; `None` for the name transformers (the router applies those to
/// bindings).
fn compile_one(c: &TransformerConfig) -> Result<Option<AddrTransform>, String> {
    Ok(Some(match c {
        TransformerConfig::Localhost => {
            let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("io.l5d.localhost: cannot read the host name: {e}"))?;
            AddrTransform::KeepIps(resolve(&name)?)
        }
        TransformerConfig::SpecificHost { host } => AddrTransform::KeepIps(resolve(host)?),
        TransformerConfig::Port { port } => AddrTransform::SetPort(*port),
        TransformerConfig::LocalNode => {
            let ip = std::env::var("POD_IP").map_err(|_| {
                "io.l5d.k8s.localnode needs the POD_IP environment variable (the pod's IP, from the downward API)".to_string()
            })?;
            let ip = ip
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("io.l5d.k8s.localnode: POD_IP `{ip}` is not an IP address"))?;
            AddrTransform::KeepSubnet(ip)
        }
        TransformerConfig::Replace { .. } | TransformerConfig::Const { .. } => return Ok(None),
    }))
}

fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    let ips: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
        .map(|a| a.ip())
        .collect();
    if ips.is_empty() {
        return Err(format!("`{host}` resolves to no address"));
    }
    Ok(ips)
}

/// `addrs` (with their weights) after every transform, in order.
pub fn apply(ts: &[AddrTransform], mut addrs: Vec<(SocketAddr, f64)>) -> Vec<(SocketAddr, f64)> {
    for t in ts {
        match t {
            AddrTransform::KeepIps(ips) => addrs.retain(|(a, _)| ips.contains(&a.ip())),
            AddrTransform::KeepSubnet(ip) => addrs.retain(|(a, _)| same_subnet(*ip, a.ip())),
            AddrTransform::SetPort(port) => {
                let mut out: Vec<(SocketAddr, f64)> = Vec::with_capacity(addrs.len());
                for (mut a, w) in addrs {
                    a.set_port(*port);
                    if !out.iter().any(|(o, _)| *o == a) {
                        out.push((a, w));
                    }
                }
                addrs = out;
            }
        }
    }
    addrs
}

fn same_subnet(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets()[..8] == b.octets()[..8],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<(SocketAddr, f64)> {
        list.iter().map(|a| (a.parse().unwrap(), 1.0)).collect()
    }

    #[test]
    fn transforms_apply_in_order() {
        let input = addrs(&["10.0.1.5:8080", "10.0.2.7:8080", "10.0.1.9:9090"]);
        let keep = apply(
            &[AddrTransform::KeepSubnet("10.0.1.200".parse().unwrap())],
            input.clone(),
        );
        assert_eq!(keep, addrs(&["10.0.1.5:8080", "10.0.1.9:9090"]));
        let ported = apply(&[AddrTransform::SetPort(4141)], input.clone());
        assert_eq!(
            ported,
            addrs(&["10.0.1.5:4141", "10.0.2.7:4141", "10.0.1.9:4141"])
        );
        let host = apply(
            &[
                AddrTransform::KeepIps(vec!["10.0.2.7".parse().unwrap()]),
                AddrTransform::SetPort(4141),
            ],
            input,
        );
        assert_eq!(host, addrs(&["10.0.2.7:4141"]));
        // Two ports of one host become one address.
        let merged = apply(
            &[AddrTransform::SetPort(1)],
            addrs(&["10.0.1.5:80", "10.0.1.5:81"]),
        );
        assert_eq!(merged, addrs(&["10.0.1.5:1"]));
    }

    #[test]
    fn compile_resolves_hosts_and_reads_pod_ip() {
        let t = compile(&[TransformerConfig::SpecificHost {
            host: "127.0.0.2".into(),
        }])
        .unwrap();
        assert_eq!(
            t,
            vec![AddrTransform::KeepIps(vec!["127.0.0.2".parse().unwrap()])]
        );
        assert!(
            compile(&[TransformerConfig::SpecificHost {
                host: "no-such-host.invalid".into()
            }])
            .is_err()
        );
        assert!(compile(&[TransformerConfig::Localhost]).is_ok());
    }
}
