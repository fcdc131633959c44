//! The service's clock: the system time, which a test may move (to a campaign in progress, past
//! a report deadline) without waiting or dating its data decades ahead.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

/// The system time plus an offset shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    /// Moves the clock (every clone) by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Sets the clock (every clone) so that it reads `at` now.
    pub fn set(&self, at: DateTime<Utc>) {
        let micros = (at - Utc::now()).num_microseconds().unwrap_or(0);
        self.offset_micros.store(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_moves_together() {
        let clock = Clock::system();
        let other = clock.clone();
        clock.advance(TimeDelta::days(3));
        let ahead = other.now() - Utc::now();
        assert!(
            ahead > TimeDelta::days(3) - TimeDelta::seconds(5),
            "{ahead}"
        );
        let at = DateTime::parse_from_rfc3339("2021-05-10T08:00:00+07:00")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        other.set(at);
        assert!((clock.now() - at).abs() < TimeDelta::seconds(5));
    }
}
