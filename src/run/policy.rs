//! How a run goes on: how many trials at once, when it stops starting new ones (max-fail), which
//! failed trials are tried again (retries), how fast it may send (rate).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{Outcome, TrialResult};

/// The options of a streamed run (`RunContext::run_streamed`).
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Trials at once (at least 1).
    pub jobs: usize,
    /// Stop starting new trials once this many have failed; the rest are reported not run.
    pub max_fail: Option<usize>,
    /// How many more times a trial that failed on a transport error or throttling is tried.
    pub retries: u32,
    /// At most this many requests per second to each service.
    pub rate: Option<u32>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 16,
            max_fail: None,
            retries: 0,
            rate: None,
        }
    }
}

/// The error codes that say a request was throttled: Alibaba's `Throttling.User` (notes: "Alibaba
/// Cloud SMC, version 2019-06-01#Common errors"). The Huawei notes document none; their gateway's
/// throttling is HTTP 429, which is retried whatever the body.
pub const THROTTLING_CODES: &[&str] = &["Throttling.User"];

/// Whether an answer says the request was throttled: HTTP 429, or a documented throttling
/// code in an Alibaba error body (`Code` in JSON, `<Code>` in XML).
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    // Every answer passes here: most are not throttling, and a byte search says so without
    // decoding the body a second time.
    if status < 400 || !THROTTLING_CODES.iter().any(|c| mentions(body, c)) {
        return false;
    }
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice(body) {
        return o
            .get("Code")
            .and_then(|c| c.as_str())
            .is_some_and(|c| THROTTLING_CODES.contains(&c));
    }
    let text = String::from_utf8_lossy(body);
    THROTTLING_CODES
        .iter()
        .any(|c| text.contains(&format!("<Code>{c}</Code>")))
}

/// Whether `code` occurs in `body`.
fn mentions(body: &[u8], code: &str) -> bool {
    body.windows(code.len()).any(|w| w == code.as_bytes())
}

/// Whether a trial is tried again: only a failure on a transport error or a throttling answer
/// (`transient`), and only while retries are left (`attempt` counts from 1).
pub fn should_retry(result: &TrialResult, transient: bool, attempt: u32, retries: u32) -> bool {
    result.outcome == Outcome::Fail && transient && attempt <= retries
}

/// The pause before attempt `attempt + 1`: longer each time, so a throttled target gets room.
pub fn retry_backoff(attempt: u32) -> Duration {
    Duration::from_millis(250) * attempt.min(8)
}

/// Counts failed trials against `--max-fail`.
#[derive(Debug, Default)]
pub struct FailureBudget {
    max: Option<usize>,
    failed: AtomicUsize,
}

impl FailureBudget {
    pub fn new(max: Option<usize>) -> FailureBudget {
        FailureBudget {
            max,
            failed: AtomicUsize::new(0),
        }
    }

    /// Counts `result` if it failed.
    pub fn record(&self, result: &TrialResult) {
        if result.outcome == Outcome::Fail {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether no new trial may start.
    pub fn exhausted(&self) -> bool {
        self.max
            .is_some_and(|max| self.failed.load(Ordering::Relaxed) >= max)
    }

    /// The skip reason of a trial the budget kept from starting.
    pub fn not_run_reason(&self) -> String {
        format!(
            "not run: the run stopped starting trials after {} failure(s) (max-fail)",
            self.max.unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn throttling_is_429_or_a_documented_code() {
        assert!(is_throttling(429, b""));
        assert!(is_throttling(429, b"{\"error_code\":\"APIGW.0308\"}"));
        let json = br#"{"RequestId":"r","Code":"Throttling.User","Message":"m"}"#;
        assert!(is_throttling(400, json));
        let xml = b"<Error><RequestId>r</RequestId><Code>Throttling.User</Code></Error>";
        assert!(is_throttling(400, xml));
        // Other errors, and a success that mentions the word, are not throttling.
        assert!(!is_throttling(400, br#"{"Code":"InvalidParameter"}"#));
        assert!(!is_throttling(403, br#"{"Code":"Forbidden.RAM"}"#));
        assert!(!is_throttling(503, b""));
        assert!(!is_throttling(200, br#"{"Code":"Throttling.User"}"#));
        assert!(!is_throttling(400, br#"{"Code":"Throttling.UserX"}"#));
    }

    #[test]
    fn only_transient_failures_are_retried_while_retries_last() {
        let failed = sample::result("c", Outcome::Fail);
        let passed = sample::result("c", Outcome::Pass);
        let skipped = sample::result("c", Outcome::Skip("x".into()));
        assert!(should_retry(&failed, true, 1, 2));
        assert!(should_retry(&failed, true, 2, 2));
        assert!(!should_retry(&failed, true, 3, 2), "retries used up");
        assert!(!should_retry(&failed, true, 1, 0), "no --retries");
        assert!(!should_retry(&failed, false, 1, 2), "a plain failure");
        assert!(!should_retry(&passed, true, 1, 2));
        assert!(!should_retry(&skipped, true, 1, 2));
    }

    #[test]
    fn the_budget_counts_failures_only() {
        let budget = FailureBudget::new(Some(2));
        assert!(!budget.exhausted());
        budget.record(&sample::result("a", Outcome::Fail));
        budget.record(&sample::result("b", Outcome::Pass));
        budget.record(&sample::result("c", Outcome::Skip("x".into())));
        assert!(!budget.exhausted(), "one failure of two");
        budget.record(&sample::result("d", Outcome::Fail));
        assert!(budget.exhausted());
        assert!(budget.not_run_reason().contains("after 2 failure(s)"));
        let unlimited = FailureBudget::new(None);
        for _ in 0..100 {
            unlimited.record(&sample::result("a", Outcome::Fail));
        }
        assert!(!unlimited.exhausted());
    }
}
