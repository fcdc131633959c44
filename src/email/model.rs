//! The data an email is made of: the meetings it lists, its recipient, the election's name and
//! zone, and the rendered result the outbox stores.
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::mail::LineRow;
use crate::domain::kinds::Locale;

/// One meeting as a candidate's mail shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingLine {
    pub meeting_id: Uuid,
    /// The iCalendar SEQUENCE: raised each time the meeting is rescheduled or cancelled.
    pub sequence: i32,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location: String,
    pub online_join_url: Option<String>,
    pub online: bool,
    pub cancelled: bool,
    pub electoral_units: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub locale: Locale,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionInfo {
    pub name: String,
    pub timezone: Tz,
}

/// A planned meeting that a new or changed health rule now makes unlawful.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionLine {
    pub meeting_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// What is wrong now, e.g. which site exceeds which capacity.
    pub problem: String,
}

/// A mail ready for the outbox: both bodies and the optional `.ics` attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub ics: Option<String>,
}

impl From<LineRow> for MeetingLine {
    fn from(r: LineRow) -> Self {
        MeetingLine {
            meeting_id: r.meeting_id,
            sequence: r.sequence,
            title: r.title,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            location: r.location,
            online_join_url: r.online_join_url,
            online: r.online,
            cancelled: r.cancelled,
            electoral_units: r.electoral_units,
        }
    }
}
