//! linkerd's `l5d-ctx-deadline` header: `<timestamp_ns> <deadline_ns>`, nanoseconds since the
//! Unix epoch (Finagle's `Deadline`: when it was set, and when it expires). With several
//! values the strictest (earliest) deadline wins; hawser's own `totalTimeoutMs` is one more.
//! Like linkerd, hawser propagates the result to the upstream and does not act on an incoming
//! deadline itself (clocks of different hosts need not agree); it enforces only its own
//! `totalTimeoutMs`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A deadline: set at `timestamp`, expiring at `deadline` (both ns since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub timestamp: u64,
    pub deadline: u64,
}

impl Deadline {
    /// Reads one header value (values may also be comma-separated); malformed ones are ignored.
    pub fn parse_all<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<Deadline> {
        values
            .filter_map(|v| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| {
                let mut parts = v.split_whitespace();
                let timestamp = parts.next()?.parse().ok()?;
                let deadline = parts.next()?.parse().ok()?;
                parts.next().is_none().then_some(Deadline {
                    timestamp,
                    deadline,
                })
            })
            .min_by_key(|d| d.deadline)
    }

    /// The strictest of `incoming` and `total` from `now_ns` (hawser's `totalTimeoutMs`).
    pub fn combine(
        incoming: Option<Deadline>,
        total: Option<Duration>,
        now_ns: u64,
    ) -> Option<Deadline> {
        let own = total.map(|t| Deadline {
            timestamp: now_ns,
            deadline: now_ns.saturating_add(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)),
        });
        match (incoming, own) {
            (Some(a), Some(b)) => Some(if b.deadline < a.deadline { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// The header value.
    pub fn header_value(&self) -> String {
        format!("{} {}", self.timestamp, self.deadline)
    }
}

/// Wall-clock nanoseconds since the epoch.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strictest_valid_value_wins() {
        let values: [&[u8]; 4] = [b"10 500", b"garbage", b"20 300, 5 900", b"1 2 3"];
        assert_eq!(
            Deadline::parse_all(values.into_iter()),
            Some(Deadline {
                timestamp: 20,
                deadline: 300
            })
        );
        assert_eq!(Deadline::parse_all([&b"x y"[..]].into_iter()), None);
    }

    #[test]
    fn the_total_timeout_is_one_more_deadline() {
        let incoming = Some(Deadline {
            timestamp: 1,
            deadline: 5_000_000_000,
        });
        let ms = Duration::from_millis;
        // Ours (now + 1 s) is stricter than the incoming one (5 s).
        assert_eq!(
            Deadline::combine(incoming, Some(ms(1000)), 1_000_000_000),
            Some(Deadline {
                timestamp: 1_000_000_000,
                deadline: 2_000_000_000
            })
        );
        // The incoming one is stricter than ours (now + 10 s).
        assert_eq!(
            Deadline::combine(incoming, Some(ms(10_000)), 1_000_000_000),
            incoming
        );
        assert_eq!(Deadline::combine(incoming, None, 7), incoming);
        assert_eq!(Deadline::combine(None, None, 7), None);
        assert_eq!(
            Deadline::combine(None, Some(ms(1)), 7).map(|d| d.header_value()),
            Some("7 1000007".to_string())
        );
    }
}
