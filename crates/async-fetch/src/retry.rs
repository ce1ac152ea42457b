//! What one attempt's answer means, and how long to wait before the next one.
//!
//! Retried (the next attempt can succeed): 5xx, 429 (after its `Retry-After`), 408, a
//! connection that could not be made or was reset, a request that timed out, a body cut
//! short (its JSON ends early) or garbled (a JSON syntax error inside a JSON body).
//! Permanent (the same request gets the same answer): other 4xx such as 404, a body that is
//! not JSON at all (a captive portal's HTML page), JSON of the wrong shape.

use crate::day::{DailyStats, parse_day};
use airtemp_api::Date;
use std::fmt;
use std::time::Duration;

// ANCHOR: policy
/// The retry policy, scaled for a demo: exponential backoff with jitter and a cap, a server's
/// `Retry-After` first, a timeout per request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Attempts per date, the first one included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles for each further one...
    pub base: Duration,
    /// ...up to this.
    pub cap: Duration,
    /// Each request (connect, head and whole body) must finish within this.
    pub timeout: Duration,
    /// A `Retry-After` longer than this is not waited for: the date fails instead.
    pub max_retry_after: Duration,
    /// Seeds the jitter, so a run's waits repeat.
    pub seed: u64,
}

impl Default for Policy {
    /// 5 attempts, 50 ms doubling up to 1 s, 10 s per request, `Retry-After` up to 10 s.
    fn default() -> Policy {
        Policy {
            attempts: 5,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
            seed: 0,
        }
    }
}

impl Policy {
    /// The wait after failed attempt number `attempt` (1-based) of `date`: the server's
    /// `Retry-After` when it sent one, else `base · 2^(attempt-1)` capped at `cap`, of which
    /// a seeded random half is taken off ("equal jitter": clients that failed together do
    /// not all come back at the same instant).
    pub fn delay(&self, date: Date, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait;
        }
        let doubled = self
            .base
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(20));
        let full = doubled.min(self.cap);
        let unit = unit(
            self.seed,
            date.days_since_epoch() as u64,
            u64::from(attempt),
        );
        full.mul_f64(0.5 + 0.5 * unit)
    }
}
// ANCHOR_END: policy

/// A uniform number in [0, 1) from three words (SplitMix64 of a mix of them).
fn unit(a: u64, b: u64, c: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.rotate_left(21))
        .wrapping_add(c.rotate_left(42))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The connection could not be made (nothing listening, refused).
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke (reset, closed part-way through the body).
    Reset,
    /// HTTP 5xx.
    Server,
    /// HTTP 429 or 408.
    TooMany,
    /// The JSON ends early.
    Truncated,
    /// A JSON syntax error inside a JSON body.
    Malformed,
    /// HTTP 4xx other than 408/429.
    Client,
    /// The body is not JSON (HTML, text).
    NotJson,
    /// JSON, but not the shape of a day.
    Shape,
    /// Anything else (a redirect, a bad URL).
    Other,
    /// Not tried: an earlier date found the server unreachable.
    Unreachable,
}

impl Cause {
    /// Whether another attempt can succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Cause::Connect
                | Cause::Timeout
                | Cause::Reset
                | Cause::Server
                | Cause::TooMany
                | Cause::Truncated
                | Cause::Malformed
        )
    }
}

/// One failed attempt: its cause, a one-line message, and the `Retry-After` it carried.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptError {
    pub cause: Cause,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl AttemptError {
    pub fn new(cause: Cause, message: impl Into<String>) -> AttemptError {
        AttemptError {
            cause,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A date that could not be fetched: its last attempt's error and how many attempts it had.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchError {
    pub cause: Cause,
    pub message: String,
    pub attempts: u32,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tries = if self.attempts == 1 {
            "1 attempt".to_string()
        } else {
            format!("{} attempts", self.attempts)
        };
        let kind = if self.cause == Cause::Unreachable {
            "not tried"
        } else if self.cause.retryable() {
            "gave up"
        } else {
            "permanent"
        };
        write!(f, "{} ({kind}, {tries})", self.message)
    }
}

// ANCHOR: classify
/// What an answer means: the day's statistics, or the attempt's error. `status` and the
/// headers' `content_type` and `retry_after` are from the head; `body` is the whole body.
pub fn classify(
    date: Date,
    status: u16,
    content_type: Option<&str>,
    retry_after: Option<&str>,
    body: &[u8],
) -> Result<DailyStats, AttemptError> {
    let snippet = || error_text(body);
    let retry_after = retry_after.and_then(|s| s.trim().parse::<u64>().ok());
    let with_wait = |mut e: AttemptError| {
        e.retry_after = retry_after.map(Duration::from_secs);
        e
    };
    match status {
        200 => {}
        429 | 408 => {
            return Err(with_wait(AttemptError::new(
                Cause::TooMany,
                format!("HTTP {status}{}", snippet()),
            )));
        }
        500..=599 => {
            return Err(with_wait(AttemptError::new(
                Cause::Server,
                format!("HTTP {status}{}", snippet()),
            )));
        }
        400..=499 => {
            return Err(AttemptError::new(
                Cause::Client,
                format!("HTTP {status}{}", snippet()),
            ));
        }
        _ => {
            return Err(AttemptError::new(
                Cause::Other,
                format!("HTTP {status}, not a day's JSON"),
            ));
        }
    }
    let looks_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    if content_type.is_some_and(|t| t.contains("html")) || !looks_json {
        let what = content_type.unwrap_or("no Content-Type");
        return Err(AttemptError::new(
            Cause::NotJson,
            format!("a 200 that is not JSON ({what}, {} bytes)", body.len()),
        ));
    }
    parse_day(date, body).map_err(|e| {
        let cause = if e.is_eof() {
            Cause::Truncated
        } else if e.is_syntax() {
            Cause::Malformed
        } else {
            Cause::Shape
        };
        let what = match cause {
            Cause::Truncated => "JSON cut short",
            Cause::Malformed => "malformed JSON",
            _ => "JSON that is not a day",
        };
        AttemptError::new(cause, format!("{what} ({} bytes): {e}", body.len()))
    })
}
// ANCHOR_END: classify

/// `: MESSAGE` from a JSON error body `{"message": ...}` or `{"error": ...}`, else nothing.
fn error_text(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    ["message", "error"]
        .iter()
        .find_map(|k| value.get(k).and_then(|v| v.as_str()))
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

/// An error of the transport (reqwest), classified.
pub fn transport(e: &reqwest::Error) -> AttemptError {
    let cause = if e.is_timeout() {
        Cause::Timeout
    } else if e.is_connect() {
        Cause::Connect
    } else if e.is_builder() || e.is_redirect() {
        Cause::Other
    } else {
        Cause::Reset
    };
    let mut message = match cause {
        Cause::Timeout => "timed out".to_string(),
        Cause::Connect => "cannot connect".to_string(),
        Cause::Reset => "connection broken".to_string(),
        _ => "request failed".to_string(),
    };
    // The innermost source says what happened ("connection refused", "connection closed
    // before message completed").
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(l) = last {
        message.push_str(": ");
        message.push_str(&l);
    }
    AttemptError::new(cause, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use airtemp_api::model;

    fn d() -> Date {
        "2020-03-20".parse().unwrap()
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_retry_after_wins() {
        let p = Policy::default();
        for attempt in 1..=8 {
            let full = (p.base * (1 << (attempt - 1))).min(p.cap);
            let wait = p.delay(d(), attempt, None);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
        assert_eq!(p.delay(d(), 3, None), p.delay(d(), 3, None), "seeded");
        let other = Policy { seed: 1, ..p };
        assert_ne!(p.delay(d(), 3, None), other.delay(d(), 3, None));
        let ra = Duration::from_secs(2);
        assert_eq!(p.delay(d(), 1, Some(ra)), ra);
        assert!(p.delay(d(), 40, None) <= p.cap);
    }

    #[test]
    fn answers_are_classified() {
        let day = model::day(d()).to_json();
        assert!(classify(d(), 200, Some("application/json"), None, &day).is_ok());
        let e = classify(d(), 429, None, Some("3"), br#"{"message":"slow down"}"#).unwrap_err();
        assert_eq!(e.cause, Cause::TooMany);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert!(e.message.contains("slow down"), "{}", e.message);
        let e = classify(d(), 503, None, None, b"{}").unwrap_err();
        assert!(e.cause.retryable() && e.retry_after.is_none());
        let e = classify(d(), 404, None, None, b"{}").unwrap_err();
        assert_eq!(e.cause, Cause::Client);
        assert!(!e.cause.retryable());
        let html = b"<!doctype html><html>Log in to the Wi-Fi</html>";
        let e = classify(d(), 200, Some("text/html; charset=utf-8"), None, html).unwrap_err();
        assert_eq!(e.cause, Cause::NotJson);
        assert!(!e.cause.retryable());
        let e = classify(
            d(),
            200,
            Some("application/json"),
            None,
            &day[..day.len() / 2],
        );
        assert_eq!(e.unwrap_err().cause, Cause::Truncated);
        let mut bad = day.clone();
        let mid = bad.len() / 2;
        bad[mid] = b'}';
        bad[mid + 1] = b'}';
        let e = classify(d(), 200, Some("application/json"), None, &bad).unwrap_err();
        assert_eq!(e.cause, Cause::Malformed);
        let e = classify(d(), 200, Some("application/json"), None, b"{\"items\":[]}");
        assert_eq!(e.unwrap_err().cause, Cause::Shape);
    }
}
