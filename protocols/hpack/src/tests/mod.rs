mod malformed;
mod rfc;
mod roundtrip;
mod support;
