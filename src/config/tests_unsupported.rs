//! Unit tests: linkerd 1.x features hawser reports as unsupported.
