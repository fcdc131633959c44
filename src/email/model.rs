//! The data an email is made of: the meetings it lists and what happened to each, its
//! recipient, the election's name and zone, the committee's problems in words' terms, and the
//! rendered result the outbox stores.
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::db::mail::LineRow;
use crate::domain::kinds::{IcsMethod, Locale};

/// One meeting as a candidate's mail shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingLine {
    pub meeting_id: Uuid,
    /// The iCalendar SEQUENCE: the meeting's version, raised by every change.
    pub sequence: i32,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location: String,
    pub online_join_url: Option<String>,
    pub online: bool,
    /// Cancelled, or this candidate was taken off it: either way it is off their calendar.
    pub cancelled: bool,
    pub cancel_reason: Option<String>,
    pub electoral_units: Vec<String>,
    /// When the meeting last changed: the DTSTAMP of a subscribed calendar's events.
    pub updated_at: DateTime<Utc>,
}

impl MeetingLine {
    pub fn placement(&self) -> Placement {
        Placement {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            location: self.location.clone(),
            online: self.online,
            join_url: self.online_join_url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The calendar user who sends invitations and cancellations (`MAIL_FROM`): the iCalendar
/// ORGANIZER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organizer {
    pub name: Option<String>,
    pub email: String,
}

impl Organizer {
    /// `MAIL_FROM` as a mailbox, e.g. `Ủy ban MTTQ <no-reply@voter-meetings.local>`.
    pub fn from_mail_from(mail_from: &str) -> Option<Organizer> {
        let mailbox: lettre::message::Mailbox = mail_from.parse().ok()?;
        Some(Organizer {
            name: mailbox.name,
            email: mailbox.email.to_string(),
        })
    }
}

/// When and where a meeting takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location: String,
    pub online: bool,
    pub join_url: Option<String>,
}

impl Placement {
    pub fn same_time(&self, other: &Placement) -> bool {
        self.starts_at == other.starts_at && self.ends_at == other.ends_at
    }

    pub fn same_place(&self, other: &Placement) -> bool {
        self.location == other.location
            && self.online == other.online
            && self.join_url == other.join_url
    }
}

/// What happened to one meeting, as one candidate is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new meeting, or one the candidate was just added to.
    New,
    /// Its time or place moved; `before` is where and when it was.
    Rescheduled { before: Placement },
    /// Cancelled (its reason is on the line).
    Cancelled,
    /// The candidate was taken off it: for them it is cancelled.
    Removed,
}

impl Change {
    /// The iTIP method that applies this change to the event a calendar holds (RFC 5546).
    pub fn method(&self) -> IcsMethod {
        match self {
            Change::New | Change::Rescheduled { .. } => IcsMethod::Request,
            Change::Cancelled | Change::Removed => IcsMethod::Cancel,
        }
    }
}

/// One meeting of a change notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMeeting {
    pub line: MeetingLine,
    pub change: Change,
}

/// What a change notice says in its subject and first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    New,
    Rescheduled,
    Cancelled,
    /// More than one meeting changed in one request.
    Several,
}

impl NoticeKind {
    pub fn of(changes: &[ChangedMeeting]) -> NoticeKind {
        match changes {
            [one] => match one.change {
                Change::New => NoticeKind::New,
                Change::Rescheduled { .. } => NoticeKind::Rescheduled,
                Change::Cancelled | Change::Removed => NoticeKind::Cancelled,
            },
            _ => NoticeKind::Several,
        }
    }
}

/// A public-health rule as people know it: by its reference ("Công điện 01/CĐ-UBND"), or,
/// when it has none, by the region that issued it and the day it took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleName {
    pub reference: Option<String>,
    pub region: String,
    pub effective_from: DateTime<Utc>,
}

/// Why a planned meeting cannot go ahead as planned, with names instead of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttentionProblem {
    /// Rule 5: the rule bans in-person gatherings at this venue.
    InPersonBanned { venue: String, rule: RuleName },
    /// Rule 4: the site expects more than it may hold; `rule` is the binding rule (none: the
    /// venue's own seats).
    OverCapacity {
        venue: String,
        expected: i32,
        allowed: i32,
        rule: Option<RuleName>,
    },
    /// Rule 4, online: more expected than the platform admits.
    OnlineOverCapacity { expected: i32, max: i32 },
    /// Rule 13: no active candidate is left on the meeting.
    NoActiveCandidate,
    /// Rule 13: the election's campaign window changed and no longer holds the meeting.
    OutsideCampaignWindow {
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
}

/// A meeting an organizing committee must look at, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionMeeting {
    pub meeting_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The names of its venues (none: online only).
    pub venues: Vec<String>,
    pub problems: Vec<AttentionProblem>,
}

/// A calendar attachment and its iTIP method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub method: IcsMethod,
    pub ics: String,
}

/// A mail ready for the outbox: both bodies and the optional `.ics` attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub calendar: Option<Attachment>,
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
            cancel_reason: r.cancel_reason,
            electoral_units: r.electoral_units,
            updated_at: r.updated_at,
        }
    }
}
