//! Dtabs, name trees and paths (config `dtab:` and the `l5d-dtab` header): parsing never
//! panics, what parses shows back as text that parses to the same value, and binding and
//! explaining the parsed dtab terminate within the binder's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hawser::routing::fuzz_dtab(data);
});
