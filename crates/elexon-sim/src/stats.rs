//! Request statistics: counts per endpoint, per stack period and per status, and the peak
//! number of requests in any sliding 1-second and 60-second window.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use settlement_model::{SettlementDate, Side};

use crate::faults::{lock, PathKind, RequestInfo};

/// A snapshot of what the simulator has served since it started (or since
/// [`crate::SimHandle::reset_stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Every request received, whatever its answer.
    pub total_requests: u64,
    /// Requests to the stack endpoint (valid or not).
    pub stack_requests: u64,
    /// Requests to `/reference/bmunits/all`.
    pub bmunit_requests: u64,
    /// Requests to the difficulty endpoint.
    pub difficulty_requests: u64,
    /// Requests to any other path.
    pub other_requests: u64,
    /// Valid stack requests per (date, period, side).
    pub per_period: HashMap<(SettlementDate, u8, Side), u64>,
    /// Answers per HTTP status code.
    pub status_counts: BTreeMap<u16, u64>,
    /// Requests that got a scripted fault.
    pub faults_injected: u64,
    /// Requests refused by the rate-limit knob.
    pub rate_limited: u64,
    /// The most requests that arrived within any 1-second window.
    pub peak_per_second: u64,
    /// The most requests that arrived within any 60-second window.
    pub peak_per_minute: u64,
}

impl SimStats {
    /// Requests to one endpoint.
    pub fn requests_of(&self, kind: PathKind) -> u64 {
        match kind {
            PathKind::Stack => self.stack_requests,
            PathKind::BmUnits => self.bmunit_requests,
            PathKind::Difficulty => self.difficulty_requests,
            PathKind::Other => self.other_requests,
        }
    }

    /// Valid stack requests for one date, period and side.
    pub fn requests_for(&self, date: SettlementDate, period: u8, side: Side) -> u64 {
        self.per_period
            .get(&(date, period, side))
            .copied()
            .unwrap_or(0)
    }

    /// Answers with this HTTP status.
    pub fn status(&self, code: u16) -> u64 {
        self.status_counts.get(&code).copied().unwrap_or(0)
    }
}

/// Records requests as they arrive.
#[derive(Debug, Default)]
pub(crate) struct StatsRecorder {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stats: SimStats,
    last_second: VecDeque<Instant>,
    last_minute: VecDeque<Instant>,
}

impl StatsRecorder {
    /// Counts a request arriving at `now`.
    pub(crate) fn arrival(&self, now: Instant, kind: PathKind) {
        let mut g = lock(&self.inner);
        let inner = &mut *g;
        inner.stats.total_requests += 1;
        match kind {
            PathKind::Stack => inner.stats.stack_requests += 1,
            PathKind::BmUnits => inner.stats.bmunit_requests += 1,
            PathKind::Difficulty => inner.stats.difficulty_requests += 1,
            PathKind::Other => inner.stats.other_requests += 1,
        }
        let peak_s = slide(&mut inner.last_second, now, Duration::from_secs(1));
        let peak_m = slide(&mut inner.last_minute, now, Duration::from_secs(60));
        inner.stats.peak_per_second = inner.stats.peak_per_second.max(peak_s);
        inner.stats.peak_per_minute = inner.stats.peak_per_minute.max(peak_m);
    }

    /// Counts a valid stack request.
    pub(crate) fn stack(&self, req: &RequestInfo) {
        if let (Some(d), Some(p), Some(s)) = (req.date, req.period, req.side) {
            *lock(&self.inner)
                .stats
                .per_period
                .entry((d, p, s))
                .or_insert(0) += 1;
        }
    }

    /// Counts an answer.
    pub(crate) fn answered(&self, status: u16, fault: bool, rate_limited: bool) {
        let mut g = lock(&self.inner);
        *g.stats.status_counts.entry(status).or_insert(0) += 1;
        g.stats.faults_injected += u64::from(fault);
        g.stats.rate_limited += u64::from(rate_limited);
    }

    pub(crate) fn snapshot(&self) -> SimStats {
        lock(&self.inner).stats.clone()
    }

    pub(crate) fn reset(&self) {
        *lock(&self.inner) = Inner::default();
    }
}

/// Pushes `now` and drops arrivals older than `window`; returns how many remain, i.e. the
/// requests in the window that ends now. The maximum over all arrivals is the peak over
/// any window, since a busiest window can always be slid to end at an arrival.
fn slide(q: &mut VecDeque<Instant>, now: Instant, window: Duration) -> u64 {
    q.push_back(now);
    while q
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        q.pop_front();
    }
    u64::try_from(q.len()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_are_sliding_windows() {
        let r = StatsRecorder::default();
        let t0 = Instant::now();
        // The window (0.25 s, 1.25 s] holds four of the five; no 1-second window holds all.
        for ms in [0, 300, 500, 1200, 1250] {
            r.arrival(t0 + Duration::from_millis(ms), PathKind::Stack);
        }
        let s = r.snapshot();
        assert_eq!(s.peak_per_second, 4);
        assert_eq!(s.peak_per_minute, 5);
        assert_eq!(s.total_requests, 5);
        assert_eq!(s.requests_of(PathKind::Stack), 5);
        r.reset();
        assert_eq!(r.snapshot(), SimStats::default());
    }
}
