//! HTTP identifiers: turning a request into a logical path (`/svc/users`), as linkerd 1.x's
//! `io.l5d.header.token`, `io.l5d.methodAndHost`, `io.l5d.path`, `io.l5d.header` and
//! `io.l5d.static` do, plus [`IdentifierChain`] (a list tried in order).
//!
//! linkerd behaviours kept on purpose:
//! - `io.l5d.header.token` takes the header value verbatim as one segment: no lower-casing, a
//!   port stays (`Host: web:8080` is `/svc/web:8080`), bytes that are not path characters are
//!   kept and shown escaped. A missing or empty header is "unidentified" (`Host header is
//!   absent`), so the next identifier in a chain is tried.
//! - `io.l5d.methodAndHost` lower-cases the host; HTTP/1.0 requests do not use the host
//!   (`/svc/1.0/GET`); `httpUriInDst` appends the request path parsed as a dtab path (a path
//!   that is not one, e.g. with a trailing `/`, is an error).
//! - `io.l5d.path` takes the first `segments` segments of the request path; with `consume`
//!   they are removed from the forwarded URI (trailing slash and query string kept).
//! - `io.l5d.header` parses the header value as a path (`/users/v2`).
//!
//! An error that is not "unidentified" (a value that cannot form a path) stops a chain, as in
//! linkerd. Either way linkerd answers **400 Bad Request** with `l5d-err: Unknown destination:
//! ...` ([`IdentifyError::l5d_err`]). This module does not read HTTP itself: it sees the request
//! through [`RequestView`], so it does not depend on the codec.

use std::fmt;

use super::path::Path;

/// linkerd's default `dstPrefix`.
pub const DEFAULT_DST_PREFIX: &str = "/svc";
/// `io.l5d.header.token`'s default header.
pub const DEFAULT_TOKEN_HEADER: &str = "Host";
/// `io.l5d.header`'s default header.
pub const DEFAULT_NAME_HEADER: &str = "l5d-name";

/// What identifiers need from a request.
pub trait RequestView {
    /// The method, e.g. `GET`.
    fn method(&self) -> &str;
    /// The request target as sent (`/a/b?q`, or absolute-form `http://h/a`).
    fn target(&self) -> &str;
    /// True for an HTTP/1.0 request.
    fn is_http10(&self) -> bool;
    /// The first value of a header, matched case-insensitively by name.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// A successful identification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identified {
    /// The logical name (`dstPrefix` followed by what the identifier found).
    pub path: Path,
    /// A replacement request target to forward instead of the original (`io.l5d.path` with
    /// `consume`).
    pub new_target: Option<String>,
}

/// Why a request could not be identified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentifyError {
    /// This identifier does not apply (linkerd's `UnidentifiedRequest`); a chain tries the next.
    Unidentified(String),
    /// The request carries a value that cannot form a path; a chain stops here.
    Invalid(String),
}

impl IdentifyError {
    /// The reason, as linkerd words it.
    pub fn reason(&self) -> &str {
        match self {
            IdentifyError::Unidentified(r) | IdentifyError::Invalid(r) => r,
        }
    }

    /// The HTTP status linkerd answers with: 400 (`RoutingFactory.UnknownDst`).
    pub fn status(&self) -> u16 {
        400
    }

    /// The `l5d-err` text, in the form of linkerd's `UnknownDst` message.
    pub fn l5d_err(&self, method: &str, target: &str) -> String {
        format!(
            "Unknown destination: Request(\"{method} {target}\") / {}",
            self.reason()
        )
    }
}

impl fmt::Display for IdentifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for IdentifyError {}

/// One configured identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identifier {
    /// `io.l5d.header.token`: `/prefix/<header value>`.
    HeaderToken {
        /// `dstPrefix`.
        prefix: Path,
        /// The header (default `Host`).
        header: String,
    },
    /// `io.l5d.methodAndHost`: `/prefix/1.1/<METHOD>/<host>[/uri...]`.
    MethodAndHost {
        /// `dstPrefix`.
        prefix: Path,
        /// `httpUriInDst`.
        uri_in_dst: bool,
    },
    /// `io.l5d.path`: `/prefix/<first `segments` segments>`.
    Path {
        /// `dstPrefix`.
        prefix: Path,
        /// `segments` (default 1).
        segments: usize,
        /// `consume`.
        consume: bool,
    },
    /// `io.l5d.header`: `/prefix` followed by the header value read as a path.
    Header {
        /// `dstPrefix`.
        prefix: Path,
        /// The header (default `l5d-name`).
        header: String,
    },
    /// `io.l5d.header.path` (h2): `/prefix` followed by the first `segments` segments (all when
    /// `None`) of the path in `header` (`:path` by default; its query is ignored).
    HeaderPath {
        /// `dstPrefix`.
        prefix: Path,
        /// The header (default `:path`).
        header: String,
        /// `segments`.
        segments: Option<usize>,
    },
    /// `io.l5d.static`: always `/prefix/<path>`.
    Static {
        /// `dstPrefix`.
        prefix: Path,
        /// The configured path.
        path: Path,
    },
}

/// The path part of a request target (no query), for origin- and absolute-form targets.
fn target_path(target: &str) -> &str {
    let no_query = target.split(['?', '#']).next().unwrap_or_default();
    if no_query.starts_with('/') {
        return no_query;
    }
    if let Some(scheme_end) = no_query.find("://") {
        let rest = &no_query[scheme_end + 3..];
        return rest.find('/').map_or("/", |i| &rest[i..]);
    }
    no_query
}

fn query_of(target: &str) -> Option<&str> {
    target.find('?').map(|i| &target[i..])
}

/// Java's `String.split("/")`: interior empty pieces kept, trailing empty pieces removed.
fn java_split(s: &str) -> Vec<&str> {
    let mut pieces: Vec<&str> = s.split('/').collect();
    while pieces.last() == Some(&"") {
        pieces.pop();
    }
    pieces
}

fn segment_path(segments: &[&[u8]]) -> Result<Path, IdentifyError> {
    Path::from_segments(segments.iter().copied())
        .ok_or_else(|| IdentifyError::Invalid("empty path segment".to_string()))
}

impl Identifier {
    /// `io.l5d.header.token` on `Host` under `/svc` (linkerd's default identifier).
    pub fn default_http() -> Identifier {
        Identifier::HeaderToken {
            prefix: Path::from_segments(["svc"]).unwrap_or_default(),
            header: DEFAULT_TOKEN_HEADER.to_string(),
        }
    }

    /// The config `kind` of this identifier.
    pub fn kind(&self) -> &'static str {
        match self {
            Identifier::HeaderToken { .. } => "io.l5d.header.token",
            Identifier::MethodAndHost { .. } => "io.l5d.methodAndHost",
            Identifier::Path { .. } => "io.l5d.path",
            Identifier::Header { .. } => "io.l5d.header",
            Identifier::HeaderPath { .. } => "io.l5d.header.path",
            Identifier::Static { .. } => "io.l5d.static",
        }
    }

    /// Identifies a request.
    ///
    /// # Errors
    /// [`IdentifyError::Unidentified`] when this identifier does not apply, or
    /// [`IdentifyError::Invalid`] when the request's value cannot form a path.
    pub fn identify(&self, req: &(impl RequestView + ?Sized)) -> Result<Identified, IdentifyError> {
        let plain = |path: Path| {
            Ok(Identified {
                path,
                new_target: None,
            })
        };
        match self {
            Identifier::HeaderToken { prefix, header } => match req.header(header) {
                None | Some([]) => Err(IdentifyError::Unidentified(format!(
                    "{header} header is absent"
                ))),
                Some(value) => plain(
                    prefix
                        .with_segments(&[value])
                        .ok_or_else(|| IdentifyError::Invalid("empty path segment".to_string()))?,
                ),
            },
            Identifier::Header { prefix, header } => match req.header(header) {
                None | Some([]) => Err(IdentifyError::Unidentified(format!(
                    "{header} header is absent"
                ))),
                Some(value) => {
                    let text = std::str::from_utf8(value).map_err(|_| {
                        IdentifyError::Invalid(format!("{header} header is not valid UTF-8"))
                    })?;
                    let path = Path::read(text).map_err(|e| {
                        IdentifyError::Invalid(format!("{header} header is not a path: {e}"))
                    })?;
                    plain(prefix.concat(&path))
                }
            },
            Identifier::MethodAndHost { prefix, uri_in_dst } => {
                let method = req.method().as_bytes();
                let mut name = if req.is_http10() {
                    segment_path(&[b"1.0", method])?
                } else {
                    let host = match req.header("Host") {
                        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
                        _ => {
                            return Err(IdentifyError::Unidentified(
                                "HTTP/1.1 request missing hostname".to_string(),
                            ));
                        }
                    };
                    segment_path(&[b"1.1", method, &host])?
                };
                if *uri_in_dst {
                    let uri = Path::read(target_path(req.target())).map_err(|e| {
                        IdentifyError::Invalid(format!("request path is not a dtab path: {e}"))
                    })?;
                    name = name.concat(&uri);
                }
                plain(prefix.concat(&name))
            }
            Identifier::Path {
                prefix,
                segments,
                consume,
            } => {
                let path = target_path(req.target());
                let pieces = java_split(path);
                let pieces = pieces.get(1..).unwrap_or_default();
                if pieces.len() < *segments {
                    return Err(IdentifyError::Unidentified(
                        "not enough segments in path".to_string(),
                    ));
                }
                let taken: Vec<&[u8]> = pieces[..*segments].iter().map(|s| s.as_bytes()).collect();
                let name = prefix.concat(&segment_path(&taken)?);
                let new_target = consume.then(|| {
                    let rest = &pieces[*segments..];
                    let mut uri = if rest.is_empty() {
                        "/".to_string()
                    } else {
                        let mut u = String::new();
                        for piece in rest {
                            u.push('/');
                            u.push_str(piece);
                        }
                        if path.ends_with('/') {
                            u.push('/');
                        }
                        u
                    };
                    if let Some(q) = query_of(req.target()) {
                        uri.push_str(q);
                    }
                    uri
                });
                Ok(Identified {
                    path: name,
                    new_target,
                })
            }
            Identifier::HeaderPath {
                prefix,
                header,
                segments,
            } => {
                let value = match req.header(header) {
                    None | Some([]) => {
                        return Err(IdentifyError::Unidentified(format!(
                            "{header} header is absent"
                        )));
                    }
                    Some(v) => std::str::from_utf8(v).map_err(|_| {
                        IdentifyError::Invalid(format!("{header} header is not valid UTF-8"))
                    })?,
                };
                let pieces = java_split(target_path(value));
                let pieces = pieces.get(1..).unwrap_or_default();
                let n = segments.unwrap_or(pieces.len());
                if pieces.len() < n || n == 0 {
                    return Err(IdentifyError::Unidentified(
                        "not enough segments in path".to_string(),
                    ));
                }
                let taken: Vec<&[u8]> = pieces[..n].iter().map(|s| s.as_bytes()).collect();
                plain(prefix.concat(&segment_path(&taken)?))
            }
            Identifier::Static { prefix, path } => plain(prefix.concat(path)),
        }
    }
}

/// Identifiers tried in order until one identifies the request (linkerd's identifier list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifierChain {
    identifiers: Vec<Identifier>,
}

impl IdentifierChain {
    /// A chain; an empty list means linkerd's default (`io.l5d.header.token` on `Host`).
    pub fn new(identifiers: Vec<Identifier>) -> IdentifierChain {
        if identifiers.is_empty() {
            IdentifierChain {
                identifiers: vec![Identifier::default_http()],
            }
        } else {
            IdentifierChain { identifiers }
        }
    }

    /// The identifiers in order.
    pub fn identifiers(&self) -> &[Identifier] {
        &self.identifiers
    }

    /// Tries each identifier in turn: an `Unidentified` answer moves on to the next, any other
    /// answer is final; when all are unidentified, the last one's reason is returned.
    ///
    /// # Errors
    /// As [`Identifier::identify`].
    pub fn identify(&self, req: &(impl RequestView + ?Sized)) -> Result<Identified, IdentifyError> {
        let mut last = None;
        for identifier in &self.identifiers {
            match identifier.identify(req) {
                Err(e @ IdentifyError::Unidentified(_)) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| IdentifyError::Unidentified("no identifier".to_string())))
    }
}

impl Default for IdentifierChain {
    fn default() -> Self {
        IdentifierChain::new(Vec::new())
    }
}
