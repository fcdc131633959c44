//! Elections: the campaign window, time zone, report deadline and minimum meetings per body
//! (admins create them).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{Result, Tx};
use crate::db::elections::{self as db, ElectionInsertForm, ElectionRow};
use crate::domain::campaign_window::CampaignWindow;
use crate::domain::kinds::{self, Body};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;
use crate::domain::values::{time_zone, timestamp};

/// An election as clients see it: with its computed `campaign_ends_at`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Election {
    pub id: Uuid,
    pub name: String,
    pub polling_starts_at: DateTime<Utc>,
    pub campaign_starts_at: DateTime<Utc>,
    /// 24 hours before polling_starts_at; meetings must end by then.
    pub campaign_ends_at: DateTime<Utc>,
    pub timezone: String,
    pub report_deadline_hours: i32,
    #[schema(value_type = MinimumMeetings)]
    pub min_meetings_per_candidate: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ElectionRow> for Election {
    fn from(r: ElectionRow) -> Self {
        Election {
            campaign_ends_at: CampaignWindow::for_election(
                r.campaign_starts_at,
                r.polling_starts_at,
            )
            .ends_at,
            id: r.id,
            name: r.name,
            polling_starts_at: r.polling_starts_at,
            campaign_starts_at: r.campaign_starts_at,
            timezone: r.timezone,
            report_deadline_hours: r.report_deadline_hours,
            min_meetings_per_candidate: r.min_meetings_per_candidate,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Election {
    pub fn window(&self) -> CampaignWindow {
        CampaignWindow::for_election(self.campaign_starts_at, self.polling_starts_at)
    }
}

/// An election as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewElection {
    #[schema(min_length = 1, max_length = 300)]
    pub name: String,
    /// In the years 2000 to 2100.
    #[schema(format = DateTime)]
    pub polling_starts_at: String,
    /// Must be before campaign_ends_at (24 hours before polling_starts_at). In the years 2000 to 2100.
    #[schema(format = DateTime)]
    pub campaign_starts_at: String,
    /// IANA time zone.
    #[schema(default = "Asia/Ho_Chi_Minh")]
    pub timezone: Option<String>,
    #[schema(minimum = 1, maximum = 720, default = 24)]
    pub report_deadline_hours: Option<i32>,
    #[schema(value_type = Option<MinimumMeetings>)]
    pub min_meetings_per_candidate: Option<serde_json::Value>,
}

/// Parses `{body: minimum}`; every key must be a body, every value 0..=1000.
pub fn minimums(v: &serde_json::Value) -> std::result::Result<serde_json::Value, String> {
    let map = v
        .as_object()
        .ok_or("must be an object such as {\"national_assembly\": 10}")?;
    let mut out = BTreeMap::new();
    for (k, n) in map {
        let body = kinds::parse::<Body>(k)?;
        let n = n
            .as_i64()
            .filter(|n| (0..=1000).contains(n))
            .ok_or_else(|| format!("{k}: must be a whole number from 0 to 1000"))?;
        out.insert(body.as_str().to_owned(), n);
    }
    serde_json::to_value(out).map_err(|e| e.to_string())
}

/// `min_meetings_per_candidate` as the document describes it: what [`minimums`] accepts, a
/// whole number from 0 to 1000 for any of the bodies (`tests/api/openapi.rs` holds the two
/// together).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Minimum meetings per candidate, by body.")]
pub struct MinimumMeetings {
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub national_assembly: i32,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub province_council: i32,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub district_council: i32,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub commune_council: i32,
}

/// The fields a PATCH may correct; any of an election's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElectionPatch {
    #[schema(min_length = 1, max_length = 300)]
    pub name: Option<String>,
    #[schema(format = DateTime)]
    pub polling_starts_at: Option<String>,
    /// Must be before campaign_ends_at (24 hours before polling_starts_at).
    #[schema(format = DateTime)]
    pub campaign_starts_at: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    #[schema(minimum = 1, maximum = 720)]
    pub report_deadline_hours: Option<i32>,
    #[schema(value_type = Option<MinimumMeetings>)]
    pub min_meetings_per_candidate: Option<serde_json::Value>,
}

impl ElectionPatch {
    /// The election as it would be: the stored one with these fields over it.
    fn over(&self, e: &Election) -> NewElection {
        NewElection {
            name: self.name.clone().unwrap_or_else(|| e.name.clone()),
            polling_starts_at: self
                .polling_starts_at
                .clone()
                .unwrap_or_else(|| e.polling_starts_at.to_rfc3339()),
            campaign_starts_at: self
                .campaign_starts_at
                .clone()
                .unwrap_or_else(|| e.campaign_starts_at.to_rfc3339()),
            timezone: Some(self.timezone.clone().unwrap_or_else(|| e.timezone.clone())),
            report_deadline_hours: Some(
                self.report_deadline_hours
                    .unwrap_or(e.report_deadline_hours),
            ),
            min_meetings_per_candidate: Some(
                self.min_meetings_per_candidate
                    .clone()
                    .unwrap_or_else(|| e.min_meetings_per_candidate.clone()),
            ),
        }
    }
}

impl NewElection {
    fn parse(&self) -> std::result::Result<ElectionInsertForm, Problem> {
        let mut e = FieldErrors::new();
        let name = e.take("name", text::name(&self.name, 300));
        let polling = e.take("polling_starts_at", timestamp(&self.polling_starts_at));
        let campaign = e.take("campaign_starts_at", timestamp(&self.campaign_starts_at));
        let tz = e.take(
            "timezone",
            time_zone(self.timezone.as_deref().unwrap_or("Asia/Ho_Chi_Minh")),
        );
        let deadline = self.report_deadline_hours.unwrap_or(24);
        if !(1..=720).contains(&deadline) {
            e.add("report_deadline_hours", "must be between 1 and 720");
        }
        let minimums = e.take(
            "min_meetings_per_candidate",
            minimums(
                self.min_meetings_per_candidate
                    .as_ref()
                    .unwrap_or(&json!({})),
            ),
        );
        if let (Some(p), Some(c)) = (polling, campaign) {
            if c >= CampaignWindow::for_election(c, p).ends_at {
                e.add(
                    "campaign_starts_at",
                    "must be before campaign_ends_at (24 hours before polling_starts_at)",
                );
            }
        }
        let ((((name, polling), campaign), tz), minimums) =
            e.done(name.zip(polling).zip(campaign).zip(tz).zip(minimums))?;
        Ok(ElectionInsertForm {
            id: Uuid::now_v7(),
            name,
            polling_starts_at: polling,
            campaign_starts_at: campaign,
            timezone: tz.name().to_owned(),
            report_deadline_hours: deadline,
            min_meetings_per_candidate: minimums,
        })
    }
}

pub fn create(tx: &mut Tx<'_>, who: &Caller, new: NewElection) -> Result<Election> {
    who.ensure_admin()?;
    let election = Election::from(db::insert(tx, new.parse()?)?);
    audit::record(
        tx,
        who,
        Change::created("election", election.id, None, &election),
    )?;
    Ok(election)
}

/// Corrects an election (admins only, audited). A change of its campaign window or time zone
/// re-evaluates its future planned meetings (rule 13): those now outside the window are
/// flagged and their organizers told; nothing is cancelled.
pub fn patch(tx: &mut Tx<'_>, who: &Caller, id: Uuid, patch: &ElectionPatch) -> Result<Election> {
    who.ensure_admin()?;
    let before = Election::from(db::lock(tx, id)?.ok_or_else(|| Problem::not_found("election"))?);
    let form = ElectionInsertForm {
        id,
        ..patch.over(&before).parse()?
    };
    let now = tx.now();
    let after = Election::from(db::update(tx, &form, now)?);
    audit::record(
        tx,
        who,
        Change::updated("election", id, None, &before, &after),
    )?;
    if after.window() != before.window() || after.timezone != before.timezone {
        let planned = crate::db::meetings::planned_of_election(tx, id, now)?;
        let mut by_province: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
        for (province, meeting) in planned {
            by_province.entry(province).or_default().push(meeting);
        }
        for (province, meetings) in by_province {
            super::meetings::reevaluate(tx, who, province, &meetings, None)?;
        }
    }
    Ok(after)
}

/// An election; every token reads every election (they are national).
pub fn find(tx: &mut Tx<'_>, id: Uuid) -> Result<Election> {
    Ok(db::find(tx, id)?
        .map(Election::from)
        .ok_or_else(|| Problem::not_found("election"))?)
}

pub fn list(tx: &mut Tx<'_>, after: Option<Uuid>, limit: i64) -> Result<Vec<Election>> {
    Ok(db::list(tx, after, limit)?
        .into_iter()
        .map(Election::from)
        .collect())
}
