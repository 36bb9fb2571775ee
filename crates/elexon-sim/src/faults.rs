//! Scriptable fault injection: rules that match requests and say what goes wrong.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use settlement_model::{SettlementDate, Side};

/// Which endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathKind {
    /// `/bmrs/api/v1/balancing/settlement/stack/all/{side}/{date}/{period}`.
    Stack,
    /// `/bmrs/api/v1/reference/bmunits/all`.
    BmUnits,
    /// `/api/v1/mining/difficulty-adjustments`.
    Difficulty,
    /// Anything else (answered 404).
    Other,
}

/// What goes wrong with a matched request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests, with a `Retry-After` header (seconds) when given.
    TooManyRequests {
        /// The `Retry-After` value in seconds, if any.
        retry_after_secs: Option<u32>,
    },
    /// 500 Internal Server Error.
    ServerError,
    /// The normal answer, after this extra delay.
    Delay(Duration),
    /// A 200 whose body is the first half of the normal document (well framed: the
    /// `Content-Length` matches what is sent), so the document is cut mid-way.
    TruncatedBody,
    /// A 200 whose body declares the full `Content-Length` but the connection is closed
    /// half-way through: a transport-level failure rather than a bad document.
    AbortedBody,
    /// A 200 whose body is not well-formed (mismatched XML tags, or broken JSON when
    /// `format=json` was asked).
    MalformedXml,
    /// 404 Not Found: the period is "not published".
    NotFound,
    /// A 200 whose stack has no items (`{"data": []}`, or XML with an empty `Data`): how
    /// the real API may answer for a period not published yet, or during an outage.
    EmptyStack,
    /// A 200 with the stack of a different period of the same date.
    WrongPeriod,
    /// A 200 with the stack of the same period number on a different date.
    WrongDate,
}

/// Which requests a rule applies to; `None` matches anything. A rule naming a date, period
/// or side only matches stack requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultMatcher {
    /// The settlement date.
    pub date: Option<SettlementDate>,
    /// The settlement period.
    pub period: Option<u8>,
    /// The stack side.
    pub side: Option<Side>,
    /// The endpoint.
    pub kind: Option<PathKind>,
}

impl FaultMatcher {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches stack requests only.
    pub fn stack() -> Self {
        Self {
            kind: Some(PathKind::Stack),
            ..Self::default()
        }
    }

    /// Whether a request matches.
    pub fn matches(&self, req: &RequestInfo) -> bool {
        let kind_ok = self.kind.is_none_or(|k| k == req.kind);
        let stack_filters = self.date.is_some() || self.period.is_some() || self.side.is_some();
        if stack_filters && req.kind != PathKind::Stack {
            return false;
        }
        kind_ok
            && self.date.is_none_or(|d| Some(d) == req.date)
            && self.period.is_none_or(|p| Some(p) == req.period)
            && self.side.is_none_or(|s| Some(s) == req.side)
    }
}

/// The facts about one request that rules match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestInfo {
    /// The endpoint.
    pub kind: PathKind,
    /// The stack's date (stack requests only).
    pub date: Option<SettlementDate>,
    /// The stack's period.
    pub period: Option<u8>,
    /// The stack's side.
    pub side: Option<Side>,
}

/// One scripted fault: requests matching `matcher` get `fault`, `times` times
/// (`None`: forever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Which requests.
    pub matcher: FaultMatcher,
    /// What goes wrong.
    pub fault: Fault,
    /// How many requests it applies to; `None` is unlimited.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule for every request, forever; narrow it with the builder methods.
    ///
    /// ```
    /// use elexon_sim::{Fault, FaultRule};
    /// use settlement_model::Side;
    /// let rule = FaultRule::new(Fault::ServerError)
    ///     .date("2024-03-21".parse().unwrap())
    ///     .period(7)
    ///     .side(Side::Bid)
    ///     .times(2);
    /// assert_eq!(rule.times, Some(2));
    /// ```
    pub fn new(fault: Fault) -> Self {
        Self {
            matcher: FaultMatcher::any(),
            fault,
            times: None,
        }
    }

    /// Only requests for this settlement date.
    pub fn date(mut self, date: SettlementDate) -> Self {
        self.matcher.date = Some(date);
        self
    }

    /// Only requests for this period.
    pub fn period(mut self, period: u8) -> Self {
        self.matcher.period = Some(period);
        self
    }

    /// Only requests for this stack side.
    pub fn side(mut self, side: Side) -> Self {
        self.matcher.side = Some(side);
        self
    }

    /// Only requests for this endpoint.
    pub fn kind(mut self, kind: PathKind) -> Self {
        self.matcher.kind = Some(kind);
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// The fault rules and the rate-limit knob of a running simulator.
///
/// Rules are tried in the order they were added; a request takes the first matching rule
/// that has uses left, and uses one of them.
#[derive(Debug, Default)]
pub struct FaultController {
    rules: Mutex<Vec<FaultRule>>,
    limiter: Mutex<Limiter>,
}

#[derive(Debug, Default)]
struct Limiter {
    per_second: Option<u32>,
    accepted: VecDeque<Instant>,
}

impl FaultController {
    /// Appends a rule.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.rules).push(rule);
    }

    /// Removes every rule.
    pub fn clear_faults(&self) {
        lock(&self.rules).clear();
    }

    /// The rules still in force, with their remaining counts (spent rules are dropped).
    pub fn remaining(&self) -> Vec<FaultRule> {
        lock(&self.rules).clone()
    }

    /// Answers 429 (with `Retry-After: 1`) once more than `per_second` requests have been
    /// served in the last second; `None` turns the limit off (the default).
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        let mut l = lock(&self.limiter);
        l.per_second = per_second;
        l.accepted.clear();
    }

    /// The fault for a request, consuming one use of the rule that supplies it.
    pub fn take(&self, req: &RequestInfo) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let index = rules
            .iter()
            .position(|r| r.times != Some(0) && r.matcher.matches(req))?;
        let rule = &mut rules[index];
        let fault = rule.fault.clone();
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                rules.remove(index);
            }
        }
        Some(fault)
    }

    /// Whether the rate limit refuses a request arriving at `now`; an accepted request is
    /// counted.
    pub(crate) fn rate_limited(&self, now: Instant) -> bool {
        let mut l = lock(&self.limiter);
        let Some(limit) = l.per_second else {
            return false;
        };
        while l
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            l.accepted.pop_front();
        }
        if l.accepted.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return true;
        }
        l.accepted.push_back(now);
        false
    }
}

/// Locks a mutex, recovering the data if another thread panicked while holding it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(date: &str, period: u8, side: Side) -> RequestInfo {
        RequestInfo {
            kind: PathKind::Stack,
            date: Some(date.parse().unwrap()),
            period: Some(period),
            side: Some(side),
        }
    }

    #[test]
    fn rules_are_consumed_in_order() {
        let c = FaultController::default();
        c.add_fault(FaultRule::new(Fault::ServerError).period(3).times(1));
        c.add_fault(FaultRule::new(Fault::NotFound).times(2));
        let r3 = stack("2024-03-21", 3, Side::Bid);
        let r4 = stack("2024-03-21", 4, Side::Bid);
        assert_eq!(c.take(&r4), Some(Fault::NotFound));
        assert_eq!(c.take(&r3), Some(Fault::ServerError));
        assert_eq!(c.take(&r3), Some(Fault::NotFound));
        assert_eq!(c.take(&r3), None);
        assert!(c.remaining().is_empty());
    }

    #[test]
    fn stack_filters_do_not_match_other_paths() {
        let c = FaultController::default();
        c.add_fault(FaultRule::new(Fault::ServerError).side(Side::Offer));
        let units = RequestInfo {
            kind: PathKind::BmUnits,
            date: None,
            period: None,
            side: None,
        };
        assert_eq!(c.take(&units), None);
        assert_eq!(c.take(&stack("2024-03-21", 1, Side::Bid)), None);
        assert_eq!(
            c.take(&stack("2024-03-21", 1, Side::Offer)),
            Some(Fault::ServerError)
        );
        assert_eq!(c.remaining().len(), 1, "unlimited rules stay");
    }

    #[test]
    fn rate_limit_counts_a_sliding_second() {
        let c = FaultController::default();
        let t0 = Instant::now();
        assert!(!c.rate_limited(t0));
        c.set_rate_limit(Some(2));
        assert!(!c.rate_limited(t0));
        assert!(!c.rate_limited(t0 + Duration::from_millis(10)));
        assert!(c.rate_limited(t0 + Duration::from_millis(20)));
        assert!(!c.rate_limited(t0 + Duration::from_millis(1001)));
    }
}
