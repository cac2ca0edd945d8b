//! linkerd's `io.l5d.recentRequests` telemeter: each shard keeps a sample of its routers'
//! recent requests (`sampleRate` of them, the newest `capacity`); the admin server merges them
//! and shows the newest `capacity` overall at `/requests`, as linkerd's page does (timestamp,
//! source, server, router, logical name, concrete name, destination), and as JSON at
//! `/requests.json` (a hawser addition). Names come from clients, so the page escapes them
//! (linkerd's did not).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::stats::RecentRequest;

/// The newest `capacity` of `rows` (router label and request), newest first.
pub fn newest(
    mut rows: Vec<(String, RecentRequest)>,
    capacity: usize,
) -> Vec<(String, RecentRequest)> {
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.at));
    rows.truncate(capacity);
    rows
}

/// linkerd's page: a table, one row per request, newest first; the names link to the
/// delegator.
pub fn render_html(rows: &[(String, RecentRequest)]) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Recent Requests</title></head>\n<body>\n<div class=\"container main\">\n<h1 class=\"title\">Recent Requests</h1>\n<div class=\"content\">\n<table class=\"table table-bordered\">\n<thead><tr>",
    );
    for h in [
        "Timestamp",
        "Source",
        "Server",
        "Router",
        "Logical Name",
        "Concrete Name",
        "Destination",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (router, r) in rows {
        out.push_str("<tr>");
        cell(&mut out, &rfc3339(r.at));
        cell(&mut out, &r.source.to_string());
        cell(&mut out, &r.server.to_string());
        cell(&mut out, router);
        for name in [&r.logical, &r.concrete] {
            let _ = write!(
                out,
                "<td><a href=\"/delegator.json?router={}&amp;path={}\">{}</a></td>",
                escape(&percent(router)),
                escape(&percent(name)),
                escape(name)
            );
        }
        cell(
            &mut out,
            &r.destination.map_or("-".to_string(), |d| d.to_string()),
        );
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n</div>\n</body></html>\n");
    out
}

/// The same rows as JSON: a list of objects, newest first.
pub fn render_json(rows: &[(String, RecentRequest)]) -> serde_json::Value {
    serde_json::Value::Array(
        rows.iter()
            .map(|(router, r)| {
                serde_json::json!({
                    "timestamp": rfc3339(r.at),
                    "source": r.source.to_string(),
                    "server": r.server.to_string(),
                    "router": router,
                    "logicalName": r.logical,
                    "concreteName": r.concrete,
                    "destination": r.destination.map(|d| d.to_string()),
                })
            })
            .collect(),
    )
}

fn cell(out: &mut String, text: &str) {
    let _ = write!(out, "<td>{}</td>", escape(text));
}

/// HTML text and attribute escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters and `/` (for a query value).
fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `2026-11-30T04:05:06.789Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(i64::try_from(days).unwrap_or(i64::MAX));
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the standard era-based
/// conversion: 400-year eras of 146,097 days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn row(secs: u64, name: &str) -> (String, RecentRequest) {
        (
            "web".into(),
            RecentRequest {
                at: UNIX_EPOCH + Duration::from_secs(secs),
                source: "127.0.0.1:50000".parse().unwrap(),
                server: "127.0.0.1:4140".parse().unwrap(),
                logical: name.into(),
                concrete: "/$/inet/127.0.0.1/8080".into(),
                destination: Some("127.0.0.1:8080".parse().unwrap()),
            },
        )
    }

    #[test]
    fn dates_are_utc_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a century leap year) and 2026-11-30.
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(951_782_400_123)),
            "2000-02-29T00:00:00.123Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_910_400 + 3661)),
            "2026-11-29T01:01:01.000Z"
        );
    }

    #[test]
    fn newest_first_within_capacity_and_names_are_escaped() {
        let rows = newest(
            vec![row(1, "/svc/a"), row(3, "/svc/<script>"), row(2, "/svc/b")],
            2,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1.logical, "/svc/<script>");
        assert_eq!(rows[1].1.logical, "/svc/b");
        let html = render_html(&rows);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("/svc/&lt;script&gt;"), "{html}");
        assert!(html.contains("path=/svc/%3Cscript%3E"), "{html}");
        let json = render_json(&rows);
        assert_eq!(json[0]["logicalName"], "/svc/<script>");
        assert_eq!(json[1]["destination"], "127.0.0.1:8080");
    }
}
