mod rfc;
mod support;
