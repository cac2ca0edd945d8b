//! linkerd's HTTP response classifiers (`service.responseClassifier`): which responses are
//! failures and which failed requests may be retried. All of them call 5XX a failure except
//! `allSuccessful`; they differ in which methods are safe to send again.

/// A response classifier kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Classifier {
    /// `io.l5d.http.nonRetryable5XX` (linkerd's default): 5XX fail, nothing is retried.
    #[default]
    NonRetryable5XX,
    /// `io.l5d.http.retryableRead5XX`: 5XX to GET, HEAD, OPTIONS and TRACE may be retried.
    RetryableRead5XX,
    /// `io.l5d.http.retryableIdempotent5XX`: also PUT and DELETE.
    RetryableIdempotent5XX,
    /// `io.l5d.http.allSuccessful`: nothing fails, nothing is retried.
    AllSuccessful,
}

impl Classifier {
    /// From a config kind (the `io.l5d.http.` and `io.l5d.h2.` spellings alike).
    pub fn from_kind(kind: &str) -> Option<Classifier> {
        let name = kind
            .strip_prefix("io.l5d.http.")
            .or_else(|| kind.strip_prefix("io.l5d.h2."))?;
        Some(match name {
            "nonRetryable5XX" => Classifier::NonRetryable5XX,
            "retryableRead5XX" => Classifier::RetryableRead5XX,
            "retryableIdempotent5XX" => Classifier::RetryableIdempotent5XX,
            "allSuccessful" => Classifier::AllSuccessful,
            _ => return None,
        })
    }

    /// Whether a request with `method` may be sent again after a failure.
    pub fn retryable_method(self, method: &str) -> bool {
        match self {
            Classifier::NonRetryable5XX | Classifier::AllSuccessful => false,
            Classifier::RetryableRead5XX => {
                matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
            }
            Classifier::RetryableIdempotent5XX => {
                matches!(
                    method,
                    "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
                )
            }
        }
    }

    /// Whether a response with `status` is a failure (for failure accrual): a 5XX, unless
    /// everything counts as a success.
    pub fn is_failure(self, status: u16) -> bool {
        (500..600).contains(&status) && self != Classifier::AllSuccessful
    }

    /// Whether `status` is a retryable failure of a request with `method`.
    pub fn retryable(self, method: &str, status: u16) -> bool {
        self.is_failure(status) && self.retryable_method(method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_statuses() {
        let read = Classifier::from_kind("io.l5d.http.retryableRead5XX").unwrap();
        assert!(read.retryable("GET", 503));
        assert!(!read.retryable("GET", 404));
        assert!(!read.retryable("PUT", 503));
        let idem = Classifier::from_kind("io.l5d.h2.retryableIdempotent5XX").unwrap();
        assert!(idem.retryable("DELETE", 500));
        assert!(!idem.retryable("POST", 500));
        assert!(!Classifier::default().retryable("GET", 503));
        assert!(!Classifier::AllSuccessful.retryable("GET", 503));
        assert!(Classifier::default().is_failure(503));
        assert!(!Classifier::default().is_failure(499));
        assert!(!Classifier::AllSuccessful.is_failure(503));
        assert_eq!(Classifier::from_kind("io.l5d.h2.grpc.default"), None);
    }
}
