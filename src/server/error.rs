//! The proxy-level error: who failed, whether the request may have reached
//! the upstream, and the reason that becomes `l5d-err` and a metric label.

use std::borrow::Cow;
use std::fmt;

/// Which party a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The client sent something we cannot serve (bad framing, bad dtab).
    Downstream,
    /// The upstream failed (connect, reset, malformed response).
    Upstream,
    /// Routing decided there is nowhere to go (no route, no endpoints).
    Proxy,
}

/// A failure to deliver one request, answered with a proxy-generated response.
#[derive(Debug, Clone)]
pub struct ProxyError {
    /// HTTP status to answer with.
    pub status: u16,
    /// Who failed.
    pub source: Source,
    /// True when some of the request may have reached the upstream, so a
    /// retry is not known to be safe.
    pub maybe_reached_upstream: bool,
    /// Human-readable reason; sent (URL-encoded, as linkerd does) in `l5d-err`.
    pub reason: Cow<'static, str>,
}

impl ProxyError {
    /// A downstream (client) error.
    pub fn downstream(status: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        ProxyError {
            status,
            source: Source::Downstream,
            maybe_reached_upstream: false,
            reason: reason.into(),
        }
    }

    /// A routing failure: nothing was sent anywhere.
    pub fn proxy(status: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        ProxyError {
            status,
            source: Source::Proxy,
            maybe_reached_upstream: false,
            reason: reason.into(),
        }
    }

    /// An upstream failure.
    pub fn upstream(reached: bool, reason: impl Into<Cow<'static, str>>) -> Self {
        ProxyError {
            status: 502,
            source: Source::Upstream,
            maybe_reached_upstream: reached,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?}): {}", self.status, self.source, self.reason)
    }
}

/// Encodes an `l5d-err` value the way linkerd 1.x does
/// (`application/x-www-form-urlencoded`: unreserved bytes kept, space as `+`,
/// everything else `%XX`), so header values never carry control bytes.
pub fn encode_l5d_err(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len() + 16);
    for &b in reason.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l5d_err_is_form_encoded_like_linkerd() {
        assert_eq!(
            encode_l5d_err("No hosts are available for /svc/foo, Dtab.base=[/svc=>/#/io.l5d.fs]"),
            "No+hosts+are+available+for+%2Fsvc%2Ffoo%2C+Dtab.base%3D%5B%2Fsvc%3D%3E%2F%23%2Fio.l5d.fs%5D"
        );
        assert_eq!(encode_l5d_err("a\r\nb"), "a%0D%0Ab");
    }
}
