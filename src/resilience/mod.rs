//! Resilience policies on the request path: the retry budget and backoff behind linkerd's
//! `service.retries`, and the response classifiers of `service.responseClassifier`. Pure
//! logic with time passed in; the protocol drivers apply them.

pub mod budget;
pub mod classifier;
pub mod deadline;

pub use budget::{Backoff, RetryBudget};
pub use classifier::Classifier;
pub use deadline::Deadline;
