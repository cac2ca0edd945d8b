//! Unit tests for the config loader: defaults, each error class with its position.
