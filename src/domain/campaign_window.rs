//! The campaign window: when voter-contact meetings may take place (SPEC §2, §3 rule 1).

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::json;

use crate::domain::problem::{Code, Problem};

/// Campaigning closes this long before polling opens (Law 85/2015/QH13, Art. 64).
pub const CLOSES_BEFORE_POLLING: TimeDelta = TimeDelta::hours(24);

/// From publication of the official candidate lists until 24 hours before polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CampaignWindow {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl CampaignWindow {
    pub fn for_election(
        campaign_starts_at: DateTime<Utc>,
        polling_starts_at: DateTime<Utc>,
    ) -> Self {
        CampaignWindow {
            starts_at: campaign_starts_at,
            ends_at: polling_starts_at - CLOSES_BEFORE_POLLING,
        }
    }

    /// Whether a meeting over `[starts_at, ends_at)` lies entirely inside the
    /// window; it may end exactly when campaigning closes.
    pub fn contains(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> bool {
        self.starts_at <= starts_at && starts_at <= ends_at && ends_at <= self.ends_at
    }

    /// Rule 1: `outside_campaign_window`, with the window, unless the meeting lies inside it.
    pub fn check(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<(), Problem> {
        if self.contains(starts_at, ends_at) {
            return Ok(());
        }
        Err(Problem::new(
            Code::OutsideCampaignWindow,
            format!(
                "voter-contact meetings of this election may take place only from {} until {} (24 hours before polling)",
                self.starts_at.to_rfc3339(),
                self.ends_at.to_rfc3339()
            ),
        )
        .with(json!({"campaign_starts_at": self.starts_at, "campaign_ends_at": self.ends_at})))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Vietnam 2021: lists published 27 April, polling opened 07:00 on
    /// 23 May (UTC+7), so campaigning closed 07:00 on 22 May local time.
    fn election_2021() -> CampaignWindow {
        CampaignWindow::for_election(
            Utc.with_ymd_and_hms(2021, 4, 27, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2021, 5, 23, 0, 0, 0).unwrap(),
        )
    }

    fn utc(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, month, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_window_closes_24_hours_before_polling() {
        let window = election_2021();
        assert_eq!(window.starts_at, utc(4, 27, 0));
        assert_eq!(window.ends_at, utc(5, 22, 0));
    }

    #[test]
    fn a_meeting_well_inside_is_contained() {
        assert!(election_2021().contains(utc(5, 10, 1), utc(5, 10, 4)));
    }

    #[test]
    fn a_meeting_may_start_when_the_window_opens_and_end_when_it_closes() {
        let window = election_2021();
        assert!(window.contains(utc(4, 27, 0), utc(4, 27, 3)));
        assert!(window.contains(utc(5, 21, 21), utc(5, 22, 0)));
    }

    #[test]
    fn a_meeting_crossing_either_edge_is_not_contained() {
        let window = election_2021();
        assert!(!window.contains(utc(4, 26, 23), utc(4, 27, 2)));
        assert!(!window.contains(utc(5, 21, 22), utc(5, 22, 1)));
        assert!(!window.contains(utc(5, 22, 1), utc(5, 22, 3)));
        assert!(!window.contains(utc(4, 20, 1), utc(4, 20, 3)));
    }

    #[test]
    fn a_meeting_outside_is_refused_with_the_window() {
        let p = election_2021()
            .check(utc(5, 22, 1), utc(5, 22, 3))
            .expect_err("outside");
        assert_eq!(p.code, Code::OutsideCampaignWindow);
        assert_eq!(p.extra["campaign_ends_at"], json!(utc(5, 22, 0)));
    }

    #[test]
    fn a_backwards_range_is_not_contained() {
        assert!(!election_2021().contains(utc(5, 10, 4), utc(5, 10, 1)));
    }
}
