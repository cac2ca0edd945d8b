//! Reading the shipped tuning files: sysctl profiles (`tuning/sysctl/*.conf`, in the
//! `sysctl.d` format, with `# hawser-check:` comment lines saying how to compare) and the
//! resource limits of the sample systemd unit (`tuning/hawser.service`). Parsing only; it
//! reads no system state.

#![forbid(unsafe_code)]

use std::fmt;

/// How a running value is compared with the recommended one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Must be equal (after collapsing whitespace).
    Equal,
    /// Every number must be at least the recommended one (`# hawser-check: at-least`).
    AtLeast,
    /// Every number must be at most the recommended one (`# hawser-check: at-most`).
    AtMost,
}

impl Rule {
    /// How the rule is printed before a recommended value: ``, `>= `, `<= `.
    pub fn prefix(self) -> &'static str {
        match self {
            Rule::Equal => "",
            Rule::AtLeast => ">= ",
            Rule::AtMost => "<= ",
        }
    }
}

/// One `key = value` line of a sysctl profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The dotted key, e.g. `net.core.somaxconn`.
    pub key: String,
    /// The value with runs of whitespace collapsed to one space.
    pub value: String,
    pub rule: Rule,
    /// A kernel without this setting is fine (`# hawser-check: absent-ok`).
    pub absent_ok: bool,
    /// 1-based line in the file.
    pub line: usize,
}

/// A line of a tuning file that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

const CHECK_MARK: &str = "hawser-check:";

/// Parses a sysctl profile: `key = value` lines, `#` or `;` comments, blank lines, a leading
/// `-` on a key (sysctl's "ignore if missing") is dropped. A `# hawser-check: WORD...` comment
/// applies to the next setting (words: `at-least`, `at-most`, `absent-ok`).
///
/// # Errors
/// The first line that is not a comment, blank, or `key = value` with a non-empty key and
/// value; an unknown check word; a check line not followed by a setting; a key set twice.
pub fn parse_sysctl(text: &str) -> Result<Vec<Setting>, ConfError> {
    let mut out: Vec<Setting> = Vec::new();
    let mut pending: Option<(usize, Rule, bool)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if let Some(comment) = t.strip_prefix(['#', ';']) {
            if let Some(words) = comment.trim().strip_prefix(CHECK_MARK) {
                pending = Some(check_words(words, line)?);
            }
            continue;
        }
        if t.is_empty() {
            continue;
        }
        let err = |message: String| ConfError { line, message };
        let Some((key, value)) = t.split_once('=') else {
            return Err(err(format!("expected `key = value`, found `{t}`")));
        };
        let key = key.trim();
        let key = key.strip_prefix('-').unwrap_or(key).replace('/', ".");
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if key.is_empty() || value.is_empty() {
            return Err(err(format!("expected `key = value`, found `{t}`")));
        }
        if let Some(first) = out.iter().find(|s| s.key == key) {
            return Err(err(format!(
                "`{key}` is already set on line {}",
                first.line
            )));
        }
        let (rule, absent_ok) = pending
            .take()
            .map_or((Rule::Equal, false), |(_, r, a)| (r, a));
        if rule != Rule::Equal {
            // A comparison needs numbers to compare.
            if let Some(bad) = value.split(' ').find(|w| w.parse::<u64>().is_err()) {
                return Err(err(format!(
                    "`{key}` is compared by number, but `{bad}` is not a number"
                )));
            }
        }
        out.push(Setting {
            key,
            value,
            rule,
            absent_ok,
            line,
        });
    }
    match pending {
        Some((line, ..)) => Err(ConfError {
            line,
            message: format!("`# {CHECK_MARK}` is not followed by a setting"),
        }),
        None => Ok(out),
    }
}

fn check_words(words: &str, line: usize) -> Result<(usize, Rule, bool), ConfError> {
    let mut rule = Rule::Equal;
    let mut absent_ok = false;
    for w in words.split([' ', ',']).filter(|w| !w.is_empty()) {
        match w {
            "at-least" => rule = Rule::AtLeast,
            "at-most" => rule = Rule::AtMost,
            "absent-ok" => absent_ok = true,
            other => {
                return Err(ConfError {
                    line,
                    message: format!("unknown check `{other}` (at-least, at-most, absent-ok)"),
                });
            }
        }
    }
    Ok((line, rule, absent_ok))
}

/// A resource limit value: a number, or unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LimitValue {
    Finite(u64),
    Infinity,
}

impl fmt::Display for LimitValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitValue::Finite(n) => write!(f, "{n}"),
            LimitValue::Infinity => f.write_str("infinity"),
        }
    }
}

/// The resource limits a systemd unit sets (`LimitNOFILE=`, `LimitMEMLOCK=`), as numbers
/// (descriptors; bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitLimits {
    pub nofile: LimitValue,
    pub memlock: LimitValue,
}

/// Reads `LimitNOFILE=` and `LimitMEMLOCK=` from a systemd unit. Values are a number, with
/// `K`, `M`, `G` or `T` (powers of 1024) for sizes, or `infinity`; `SOFT:HARD` takes the soft
/// limit, which is the one that applies.
///
/// # Errors
/// A missing key, or a value that is not one of those forms.
pub fn parse_unit_limits(text: &str) -> Result<UnitLimits, ConfError> {
    let mut nofile = None;
    let mut memlock = None;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        let (slot, value) = if let Some(v) = t.strip_prefix("LimitNOFILE=") {
            (&mut nofile, v)
        } else if let Some(v) = t.strip_prefix("LimitMEMLOCK=") {
            (&mut memlock, v)
        } else {
            continue;
        };
        let soft = value.split(':').next().unwrap_or(value).trim();
        let v = limit_value(soft).ok_or_else(|| ConfError {
            line: i + 1,
            message: format!("`{t}`: expected a number (K, M, G, T suffix) or `infinity`"),
        })?;
        *slot = Some(v);
    }
    let missing = |key: &str| ConfError {
        line: 0,
        message: format!("no `{key}=` line"),
    };
    Ok(UnitLimits {
        nofile: nofile.ok_or_else(|| missing("LimitNOFILE"))?,
        memlock: memlock.ok_or_else(|| missing("LimitMEMLOCK"))?,
    })
}

fn limit_value(s: &str) -> Option<LimitValue> {
    if s == "infinity" {
        return Some(LimitValue::Infinity);
    }
    let (digits, shift) = match s.strip_suffix(['K', 'M', 'G', 'T']) {
        Some(d) => {
            let shift = match s.as_bytes().last() {
                Some(b'K') => 10,
                Some(b'M') => 20,
                Some(b'G') => 30,
                _ => 40,
            };
            (d, shift)
        }
        None => (s, 0),
    };
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(1u64 << shift).map(LimitValue::Finite)
}
