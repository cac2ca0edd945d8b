//! Naming what is wrong with a head or field block that was refused.
//!
//! httparse says only "invalid" and where it stopped is not exposed, so on the error path this
//! module walks the bytes itself and reports the *earliest* defect: a grammar violation, a bare
//! CR or LF, the field count passing its limit, or the start line or header section passing
//! their byte limits. Each is placed at the first byte that reveals it, and ties go the same
//! way every time, so the verdict depends only on bytes up to that defect: a message gets the
//! same status and reason however its bytes are split across reads (the fuzz targets check
//! this). Only the error path runs this; the fast path is httparse alone.

use crate::Limits;
use crate::error::ErrorKind;
use crate::syntax::{is_field_value_byte, is_tchar};

/// Which start line a head begins with.
#[derive(Clone, Copy)]
pub(crate) enum StartLine {
    Request,
    Response,
}

/// Why a walk stopped early.
enum Stop {
    /// A defect at this byte offset.
    Defect(usize, ErrorKind),
    /// The bytes ran out before any defect.
    Incomplete,
}

type Walked<T> = Result<T, Stop>;

fn defect<T>(at: usize, kind: ErrorKind) -> Walked<T> {
    Err(Stop::Defect(at, kind))
}

/// Where the start line's terminator (first CR or LF after leading empty lines) is, or the
/// buffer length when it has not arrived.
pub(crate) fn start_line_end(buf: &[u8]) -> usize {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    memchr::memchr2(b'\r', b'\n', buf.get(start..).unwrap_or_default())
        .map_or(buf.len(), |i| start + i)
}

/// Whether the bytes so far already pass the start-line or header-section limit.
pub(crate) fn over_head_limits(buf: &[u8], limits: &Limits) -> bool {
    let t = start_line_end(buf);
    t > limits.max_request_line
        || (t < buf.len() && buf.len() > header_limit_at(t, limits.max_header_bytes))
}

fn header_limit_at(line_end: usize, max_header_bytes: usize) -> usize {
    line_end.saturating_add(2).saturating_add(max_header_bytes)
}

/// The earliest defect of a head, or `None` when the bytes so far have none.
pub(crate) fn head_defect(buf: &[u8], line: StartLine, limits: &Limits) -> Option<ErrorKind> {
    let mut earliest: Option<(usize, ErrorKind)> = None;
    let mut note = |at: usize, kind| {
        if earliest.is_none_or(|(p, _)| at < p) {
            earliest = Some((at, kind));
        }
    };
    let t = start_line_end(buf);
    if t > limits.max_request_line {
        note(limits.max_request_line, ErrorKind::LineTooLong);
    }
    let mut w = Walk { b: buf, i: 0 };
    let walked = w.head(line, limits.max_headers);
    let header_limit = header_limit_at(t, limits.max_header_bytes);
    let end = match walked {
        Ok(end) => end,
        Err(Stop::Defect(at, kind)) => {
            note(at, kind);
            buf.len()
        }
        Err(Stop::Incomplete) => buf.len(),
    };
    if t < buf.len() && end > header_limit {
        note(header_limit, ErrorKind::HeadersTooLarge);
    }
    earliest.map(|(_, k)| k)
}

/// The earliest defect of a field block (a trailer section), or `None`.
pub(crate) fn block_defect(buf: &[u8], max_bytes: usize, max_count: usize) -> Option<ErrorKind> {
    let mut w = Walk { b: buf, i: 0 };
    let (at, kind) = match w.fields(max_count) {
        Ok(end) if end > max_bytes => (max_bytes, ErrorKind::TrailersTooLarge),
        Ok(_) => return None,
        Err(Stop::Defect(at, kind)) => (at, kind),
        Err(Stop::Incomplete) if buf.len() > max_bytes => (max_bytes, ErrorKind::TrailersTooLarge),
        Err(Stop::Incomplete) => return None,
    };
    match kind {
        _ if at > max_bytes => Some(ErrorKind::TrailersTooLarge),
        ErrorKind::TooManyHeaders => Some(ErrorKind::TrailersTooLarge),
        _ => Some(kind),
    }
}

struct Walk<'a> {
    b: &'a [u8],
    i: usize,
}

impl Walk<'_> {
    fn peek(&self) -> Walked<u8> {
        self.b.get(self.i).copied().ok_or(Stop::Incomplete)
    }

    fn peek_next(&self) -> Walked<u8> {
        self.b.get(self.i + 1).copied().ok_or(Stop::Incomplete)
    }

    /// At a CR or LF: consumes a CRLF, or reports the bare one. A bare CR is placed at the byte
    /// after it, the first one that shows it is bare.
    fn crlf(&mut self) -> Walked<()> {
        if self.peek()? == b'\n' {
            return defect(self.i, ErrorKind::InvalidLineEnding);
        }
        if self.peek_next()? != b'\n' {
            return defect(self.i + 1, ErrorKind::InvalidLineEnding);
        }
        self.i += 2;
        Ok(())
    }

    fn is_line_end(b: u8) -> bool {
        b == b'\r' || b == b'\n'
    }

    /// A whole head; returns the offset just past its final empty line.
    fn head(&mut self, line: StartLine, max_fields: usize) -> Walked<usize> {
        // Leading empty lines (RFC 9112 2.2), which must still be CRLF.
        while Self::is_line_end(self.peek()?) {
            self.crlf()?;
        }
        match line {
            StartLine::Request => self.request_line()?,
            StartLine::Response => self.status_line()?,
        }
        self.fields(max_fields)
    }

    /// `method SP request-target SP HTTP-version CRLF`.
    fn request_line(&mut self) -> Walked<()> {
        let start = self.i;
        while is_tchar(self.peek()?) {
            self.i += 1;
        }
        if self.peek()? != b' ' || self.i == start {
            return defect(self.i, ErrorKind::InvalidMethod);
        }
        self.i += 1;
        let start = self.i;
        // httparse also takes obs-text here; we refuse it (and a fragment) when the target is
        // checked, so it is the defect here too.
        while matches!(self.peek()?, b'!'..=b'~' if self.peek()? != b'#') {
            self.i += 1;
        }
        if self.peek()? != b' ' || self.i == start {
            return defect(self.i, ErrorKind::InvalidTarget);
        }
        self.i += 1;
        self.version()?;
        match self.peek()? {
            b'\r' | b'\n' => self.crlf(),
            _ => defect(self.i, ErrorKind::InvalidVersion),
        }
    }

    /// `HTTP-version SP status-code [ SP reason-phrase ] CRLF`.
    fn status_line(&mut self) -> Walked<()> {
        self.version()?;
        if self.peek()? != b' ' {
            return defect(self.i, ErrorKind::InvalidVersion);
        }
        self.i += 1;
        for _ in 0..3 {
            if !self.peek()?.is_ascii_digit() {
                return defect(self.i, ErrorKind::InvalidStatus);
            }
            self.i += 1;
        }
        match self.peek()? {
            b' ' => self.i += 1,
            b'\r' | b'\n' => return self.crlf(),
            _ => return defect(self.i, ErrorKind::InvalidStatus),
        }
        loop {
            match self.peek()? {
                b'\r' | b'\n' => return self.crlf(),
                b if is_field_value_byte(b) => self.i += 1,
                _ => return defect(self.i, ErrorKind::InvalidStatus),
            }
        }
    }

    /// `HTTP/1.0` or `HTTP/1.1`; a digit where those differ is a version we do not support.
    fn version(&mut self) -> Walked<()> {
        for (k, &want) in b"HTTP/1.".iter().enumerate() {
            let b = self.peek()?;
            if b != want {
                let kind = if k == 5 && b.is_ascii_digit() {
                    ErrorKind::UnsupportedVersion
                } else {
                    ErrorKind::InvalidVersion
                };
                return defect(self.i, kind);
            }
            self.i += 1;
        }
        match self.peek()? {
            b'0' | b'1' => {
                self.i += 1;
                Ok(())
            }
            b if b.is_ascii_digit() => defect(self.i, ErrorKind::UnsupportedVersion),
            _ => defect(self.i, ErrorKind::InvalidVersion),
        }
    }

    /// `*( field-line CRLF ) CRLF`; returns the offset just past the final CRLF. The field
    /// count is checked when a line beyond the limit has been read, as httparse does.
    fn fields(&mut self, max_fields: usize) -> Walked<usize> {
        let mut count = 0usize;
        loop {
            match self.peek()? {
                b'\r' | b'\n' => {
                    self.crlf()?;
                    return Ok(self.i);
                }
                b' ' | b'\t' => return defect(self.i, ErrorKind::ObsFold),
                _ => {}
            }
            let start = self.i;
            while is_tchar(self.peek()?) {
                self.i += 1;
            }
            if self.peek()? != b':' || self.i == start {
                return defect(self.i, ErrorKind::InvalidHeaderName);
            }
            self.i += 1;
            loop {
                match self.peek()? {
                    b'\r' | b'\n' => break,
                    b if is_field_value_byte(b) => self.i += 1,
                    _ => return defect(self.i, ErrorKind::InvalidHeaderValue),
                }
            }
            self.crlf()?;
            count += 1;
            if count > max_fields {
                return defect(self.i, ErrorKind::TooManyHeaders);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(b: &[u8]) -> Option<ErrorKind> {
        head_defect(b, StartLine::Request, &Limits::default())
    }

    #[test]
    fn the_earliest_defect_wins() {
        assert_eq!(
            req(b"GET / HTTP/1.1\r\nA\0: b\r\nX: \x01\r\n"),
            Some(ErrorKind::InvalidHeaderName)
        );
        assert_eq!(
            req(b"GET / HTTP/1.1\r\nX: \x01\r\nA\0: b\r\n"),
            Some(ErrorKind::InvalidHeaderValue)
        );
        assert_eq!(
            req(b"GET / HTTP/2.0\nX"),
            Some(ErrorKind::UnsupportedVersion)
        );
        assert_eq!(
            req(b"GET / HTTP/1.1\nX"),
            Some(ErrorKind::InvalidLineEnding)
        );
        assert_eq!(req(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        let limits = Limits {
            max_request_line: 10,
            ..Limits::default()
        };
        // A defect inside the limit beats the limit; one past it loses to the limit.
        let early = head_defect(b"GET /\0 aaaaaaaaaaaaaaa", StartLine::Request, &limits);
        assert_eq!(early, Some(ErrorKind::InvalidTarget));
        let late = head_defect(b"GET /aaaaaaaaaa\0", StartLine::Request, &limits);
        assert_eq!(late, Some(ErrorKind::LineTooLong));
    }

    #[test]
    fn status_line_defects() {
        let res = |b: &[u8]| head_defect(b, StartLine::Response, &Limits::default());
        assert_eq!(res(b"HTTP/1.1 2x0 OK\r\n"), Some(ErrorKind::InvalidStatus));
        assert_eq!(
            res(b"HTTP/1.1 200 O\x01K\r\n"),
            Some(ErrorKind::InvalidStatus)
        );
        assert_eq!(
            res(b"HTTP/1.1 200 OK\rX"),
            Some(ErrorKind::InvalidLineEnding)
        );
        assert_eq!(
            res(b"HTTP/3 200 OK\r\n"),
            Some(ErrorKind::UnsupportedVersion)
        );
        assert_eq!(res(b"HTTP/1.1200 OK\r\n"), Some(ErrorKind::InvalidVersion));
    }
}
