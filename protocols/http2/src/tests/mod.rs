//! Crate tests: hand-built byte vectors for every frame type (both directions), every section 6
//! error rule with its code, the preface, CONTINUATION sequencing, incremental decoding split
//! at every position, header-block splitting, and window arithmetic. Shared builders live in
//! `support`.

mod continuation;
mod encode;
mod errors;
mod incremental;
mod preface;
mod support;
mod vectors;
mod window;
