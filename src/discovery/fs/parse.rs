//! The line format of an `io.l5d.fs` service file, as linkerd 1.x reads it.
//!
//! Each line is `host port` or `host port * weight`; fields are separated by any run of
//! whitespace; `#` starts a comment that runs to the end of the line; blank lines are skipped.
//! The port is 1..=65535. A host is an IPv4 or IPv6 literal (IPv6 optionally in brackets) or a
//! DNS-style name; it is kept as written and parsed to a [`SocketAddr`] only when it is an IP
//! literal. Name resolution is not done here.
//!
//! Deliberately stricter than linkerd in two places, both reported as malformed lines: a weight
//! must be finite and not negative, and a host name may only hold the characters a DNS name can
//! (`A-Z a-z 0-9 . - _`). One bad line makes the whole file malformed, as in linkerd (where the
//! address becomes `Failed`). Repeated `host port` pairs collapse to the first one.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// One endpoint of a service, from one line of its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The host as written (IPv6 without brackets).
    pub host: String,
    /// The port, 1..=65535.
    pub port: u16,
    /// The load-balancing weight (`host port * weight`); 1.0 when absent.
    pub weight: f64,
    /// The socket address when `host` is an IP literal; `None` for a name that needs DNS.
    pub addr: Option<SocketAddr>,
}

impl Endpoint {
    /// `host:port`, with brackets around an IPv6 host.
    #[must_use]
    pub fn authority(&self) -> String {
        match self.addr {
            Some(SocketAddr::V6(_)) => format!("[{}]:{}", self.host, self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

/// The endpoints a service file lists, in file order with duplicates removed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceAddrs {
    /// The endpoints; empty for a file with no address lines (bound, but no endpoints).
    pub endpoints: Vec<Endpoint>,
}

/// Why a line of a service file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The offending line, trimmed and cut to a readable length.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} (expected `host port` or `host port * weight`): {:?}",
            self.line, self.reason, self.text
        )
    }
}

/// Longest excerpt of a bad line kept in an error.
const EXCERPT_CHARS: usize = 80;

/// Parses the contents of one service file.
///
/// # Errors
/// The first malformed line, with its number.
pub fn parse_service_file(text: &str) -> Result<ServiceAddrs, LineError> {
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let endpoint = parse_line(content).map_err(|reason| LineError {
            line: index + 1,
            text: content.chars().take(EXCERPT_CHARS).collect(),
            reason,
        })?;
        let seen = endpoints
            .iter()
            .any(|e| e.port == endpoint.port && e.host == endpoint.host);
        if !seen {
            endpoints.push(endpoint);
        }
    }
    Ok(ServiceAddrs { endpoints })
}

fn parse_line(content: &str) -> Result<Endpoint, &'static str> {
    let fields: Vec<&str> = content.split_whitespace().collect();
    let (host, port, weight) = match fields.as_slice() {
        [host, port] => (*host, *port, None),
        [host, port, "*", weight] => (*host, *port, Some(*weight)),
        [_] => return Err("missing port"),
        _ => return Err("wrong number of fields"),
    };
    let port = match port.parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => return Err("port is not a number in 1..=65535"),
    };
    let weight = match weight {
        None => 1.0,
        Some(w) => match w.parse::<f64>() {
            Ok(w) if w.is_finite() && w >= 0.0 => w,
            _ => return Err("weight is not a finite number >= 0"),
        },
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addr = bare
        .parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, port));
    if addr.is_none() && !is_host_name(host) {
        return Err("host is neither an IP address nor a host name");
    }
    Ok(Endpoint {
        host: bare.to_owned(),
        port,
        weight,
        addr,
    })
}

fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['.', '-'])
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(addrs: &ServiceAddrs) -> Vec<String> {
        addrs.endpoints.iter().map(Endpoint::authority).collect()
    }

    #[test]
    fn linkerd_doc_example_with_weight() {
        let text = "192.0.2.220 8080\n192.0.2.105 8080\n192.0.2.210 8080 * 2.0\n";
        let addrs = parse_service_file(text).expect("valid");
        assert_eq!(
            hosts(&addrs),
            ["192.0.2.220:8080", "192.0.2.105:8080", "192.0.2.210:8080"]
        );
        let weights: Vec<f64> = addrs.endpoints.iter().map(|e| e.weight).collect();
        assert_eq!(weights, [1.0, 1.0, 2.0]);
        assert_eq!(
            addrs.endpoints[0].addr,
            Some("192.0.2.220:8080".parse().expect("addr"))
        );
    }

    #[test]
    fn comments_blank_lines_crlf_and_tabs() {
        let text = "# the users service\r\n\r\n  10.0.0.1\t8080   # primary\r\n\t\n10.0.0.2 8081 *  0.23\r\n#";
        let addrs = parse_service_file(text).expect("valid");
        assert_eq!(hosts(&addrs), ["10.0.0.1:8080", "10.0.0.2:8081"]);
        assert!((addrs.endpoints[1].weight - 0.23).abs() < 1e-12);
    }

    #[test]
    fn names_and_ipv6() {
        let text = "users.svc.cluster.local 80\n::1 8080\n[fe80::2] 9000\nlocalhost 1";
        let addrs = parse_service_file(text).expect("valid");
        assert_eq!(
            hosts(&addrs),
            [
                "users.svc.cluster.local:80",
                "[::1]:8080",
                "[fe80::2]:9000",
                "localhost:1"
            ]
        );
        assert_eq!(addrs.endpoints[0].addr, None);
        assert_eq!(addrs.endpoints[1].host, "::1");
        assert_eq!(
            addrs.endpoints[2].addr,
            Some("[fe80::2]:9000".parse().expect("addr"))
        );
    }

    #[test]
    fn empty_and_comment_only_files_are_bound_with_no_endpoints() {
        for text in ["", "\n\n", "# nothing here yet\n"] {
            assert_eq!(parse_service_file(text), Ok(ServiceAddrs::default()));
        }
    }

    #[test]
    fn duplicates_collapse_to_the_first() {
        let addrs = parse_service_file("a 1 * 3\nb 1\na 1\n").expect("valid");
        assert_eq!(hosts(&addrs), ["a:1", "b:1"]);
        assert_eq!(addrs.endpoints[0].weight, 3.0);
    }

    #[test]
    fn malformed_lines_report_their_number() {
        let cases: &[(&str, usize, &str)] = &[
            ("10.0.0.1 8080\n10.0.0.2\n", 2, "missing port"),
            ("10.0.0.1:8080\n", 1, "missing port"),
            ("\n\nhost 0\n", 3, "port is not a number in 1..=65535"),
            ("host 65536\n", 1, "port is not a number in 1..=65535"),
            ("host -1\n", 1, "port is not a number in 1..=65535"),
            ("host http\n", 1, "port is not a number in 1..=65535"),
            ("a 1\nhost 80 * \n", 2, "wrong number of fields"),
            ("host 80 2.0\n", 1, "wrong number of fields"),
            ("host 80 * x\n", 1, "weight is not a finite number >= 0"),
            ("host 80 * -1\n", 1, "weight is not a finite number >= 0"),
            ("host 80 * NaN\n", 1, "weight is not a finite number >= 0"),
            ("host 80 * inf\n", 1, "weight is not a finite number >= 0"),
            (
                "ho/st 80\n",
                1,
                "host is neither an IP address nor a host name",
            ),
            (
                "[::1 80\n",
                1,
                "host is neither an IP address nor a host name",
            ),
            (
                "\u{e9}t\u{e9} 80\n",
                1,
                "host is neither an IP address nor a host name",
            ),
        ];
        for (text, line, reason) in cases {
            let err = parse_service_file(text).expect_err(text);
            assert_eq!((err.line, err.reason), (*line, *reason), "{text:?}");
        }
    }

    #[test]
    fn error_message_names_line_and_text() {
        let err = parse_service_file("ok 1\nbad line here too\n").expect_err("bad");
        let msg = err.to_string();
        assert!(msg.starts_with("line 2: wrong number of fields"), "{msg}");
        assert!(msg.contains("\"bad line here too\""), "{msg}");
    }

    #[test]
    fn long_bad_line_is_cut_in_the_report() {
        let text = format!("{} 80 extra", "h".repeat(10_000));
        let err = parse_service_file(&text).expect_err("bad");
        assert_eq!(err.text.chars().count(), EXCERPT_CHARS);
    }
}
