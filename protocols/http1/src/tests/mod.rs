//! Crate tests: table-driven vectors (RFC 9112 / 9110 examples and the smuggling cases), decoder
//! and encoder behaviour, and property-style round trips. Shared builders live in `support`.

mod conn;
mod decode;
mod encode;
mod framing;
mod request;
mod response;
mod roundtrip;
mod support;
