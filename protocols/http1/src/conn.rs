//! Connection semantics read from a head (RFC 9112 section 9, RFC 9110 sections 7.6, 7.8 and
//! 10.1.1): persistence, `Connection` options, `Upgrade`, and `Expect`.
//!
//! These are pure questions about one head; deciding what to do with the connection (close
//! after the response, tunnel, send `100 Continue`) belongs to the driver.

use crate::error::{Error, ErrorKind};
use crate::head::{HeaderBlock, RequestHead, ResponseHead, Version};
use crate::known;
use crate::syntax::{eq_ic, list_elements};

/// Every option named in every `Connection` field, trimmed, in order.
fn connection_tokens(headers: &HeaderBlock) -> impl Iterator<Item = &[u8]> {
    headers.values_id(known::CONNECTION).flat_map(list_elements)
}

fn has_token(headers: &HeaderBlock, token: &[u8]) -> bool {
    connection_tokens(headers).any(|t| eq_ic(t, token))
}

/// HTTP/1.1 persists unless `close`; HTTP/1.0 only with `keep-alive` (RFC 9112 9.3).
fn keep_alive(headers: &HeaderBlock, version: Version) -> bool {
    if !headers.has_id(known::CONNECTION) {
        return version == Version::Http11;
    }
    let (mut close, mut keep) = (false, false);
    for t in connection_tokens(headers) {
        close |= eq_ic(t, b"close");
        keep |= eq_ic(t, b"keep-alive");
    }
    match version {
        Version::Http11 => !close,
        Version::Http10 => keep && !close,
    }
}

fn upgrade(headers: &HeaderBlock) -> Option<&[u8]> {
    if has_token(headers, b"upgrade") {
        headers
            .values_id(known::UPGRADE)
            .next()
            .filter(|v| !v.is_empty())
    } else {
        None
    }
}

impl RequestHead {
    /// Whether the client wants the connection kept open after this exchange: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and no `close`).
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.headers(), self.version())
    }

    /// The options named in `Connection` fields (`close`, `upgrade`, or the names of further
    /// hop-by-hop fields), whitespace-trimmed, original case, in order.
    pub fn connection_tokens(&self) -> impl Iterator<Item = &[u8]> {
        connection_tokens(self.headers())
    }

    /// Whether `Connection` names `token` (case-insensitive).
    pub fn has_connection_token(&self, token: &str) -> bool {
        has_token(self.headers(), token.as_bytes())
    }

    /// The requested protocol(s) (the `Upgrade` value, e.g. `websocket`) when the request asks
    /// to upgrade: `Connection` names `upgrade` and `Upgrade` is present and non-empty. Always
    /// `None` for HTTP/1.0, whose `Upgrade` a server must ignore (RFC 9110 7.8).
    pub fn upgrade(&self) -> Option<&[u8]> {
        match self.version() {
            Version::Http10 => None,
            Version::Http11 => upgrade(self.headers()),
        }
    }

    /// Shorthand for `self.upgrade().is_some()`.
    pub fn is_upgrade(&self) -> bool {
        self.upgrade().is_some()
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    ///
    /// `Ok(true)` for `Expect: 100-continue` (case-insensitive) on an HTTP/1.1 request;
    /// `Ok(false)` without `Expect`, and for HTTP/1.0 where the expectation must be ignored
    /// (RFC 9110 10.1.1).
    ///
    /// # Errors
    /// `UnsupportedExpectation` (status 417) for any other expectation, or several.
    pub fn expects_continue(&self) -> Result<bool, Error> {
        let mut continues = false;
        for value in self.headers.values_id(known::EXPECT) {
            for e in list_elements(value) {
                if !eq_ic(e, b"100-continue") || continues {
                    return Err(Error::downstream(ErrorKind::UnsupportedExpectation));
                }
                continues = true;
            }
        }
        Ok(continues && self.version() == Version::Http11)
    }
}

impl ResponseHead {
    /// Whether the upstream keeps the connection open after this response (same rules as
    /// [`RequestHead::keep_alive`]). A close-delimited body also ends the connection; the
    /// caller combines the two.
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.headers(), self.version())
    }

    /// The options named in `Connection` fields, as [`RequestHead::connection_tokens`].
    pub fn connection_tokens(&self) -> impl Iterator<Item = &[u8]> {
        connection_tokens(self.headers())
    }

    /// Whether `Connection` names `token` (case-insensitive).
    pub fn has_connection_token(&self, token: &str) -> bool {
        has_token(self.headers(), token.as_bytes())
    }

    /// The protocol switched to, for a `101` with `Connection: upgrade` and `Upgrade`.
    pub fn upgrade(&self) -> Option<&[u8]> {
        if self.status() == 101 {
            upgrade(self.headers())
        } else {
            None
        }
    }
}
