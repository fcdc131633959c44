//! Meetings: plan, edit or reschedule, cancel, read and list. Planning checks rules 1–5 of
//! SPEC §3 in one transaction (rules 2 and 3 by the database's exclusion constraints), acting
//! on a meeting needs a scope over its venues and units (rule 11), an ended meeting is frozen
//! but for its report (rule 15), every change is audited (rule 10) and its candidates are told
//! (rule 9).
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{reevaluation, Result, Tx};
use crate::db::candidates::Candidate;
use crate::db::meetings::{
    self as db, MeetingFields, MeetingFilter, MeetingInsertForm, MeetingRow, SiteBooking, SiteRow,
};
use crate::db::{elections, health_rules, units, venues};
use crate::domain::assessment::{assess, SitePlan};
use crate::domain::booking;
use crate::domain::campaign_window::CampaignWindow;
use crate::domain::kinds::{self, CandidateStatus, Format, MeetingStatus};
use crate::domain::problem::{Code, FieldErrors, Problem};
use crate::domain::scope::{Caller, MeetingPlace};
use crate::domain::search;
use crate::domain::text;
use crate::domain::values::{time_zone, timestamp, LocalTimes};
use crate::email::notices;

/// The title of a meeting that was given none.
pub const DEFAULT_TITLE: &str = "Hội nghị tiếp xúc cử tri";
const MAX_UNITS: usize = 10;
const MAX_SITES: usize = 200;
/// A meeting lasts at most this long.
const MAX_LENGTH: TimeDelta = TimeDelta::hours(24);

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChairIn {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteIn {
    pub venue_id: Uuid,
    #[schema(minimum = 0, maximum = 100000)]
    pub expected_attendees: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlineIn {
    #[schema(max_length = 100)]
    pub platform: Option<String>,
    /// An http(s) URL.
    #[schema(format = Uri)]
    pub join_url: Option<String>,
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_participants: i32,
    /// At most max_participants.
    #[schema(minimum = 0, maximum = 1000000)]
    pub expected_attendees: i32,
}

/// A meeting as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    pub election_id: Uuid,
    /// Several units make a joint meeting, counted once.
    #[schema(min_items = 1, max_items = 10)]
    pub electoral_unit_ids: Vec<Uuid>,
    #[schema(value_type = crate::domain::kinds::Format)]
    pub format: String,
    #[schema(min_length = 1, max_length = 300, default = "Hội nghị tiếp xúc cử tri")]
    pub title: Option<String>,
    pub chair: Option<ChairIn>,
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// After starts_at, at most 24 hours later, inside the campaign window.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// Default: every active candidate of the units. Each must belong to one of them.
    pub candidate_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    /// in_person: exactly one; online: zero or more connection points.
    #[schema(max_items = 200, default = json!([]))]
    pub sites: Vec<SiteIn>,
    /// Required for online meetings; absent for in_person.
    pub online: Option<OnlineIn>,
}

/// The fields a PATCH may change; `chair` and `online` may be cleared with `null`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingPatch {
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// null removes the chair.
    pub chair: Option<Option<ChairIn>>,
    #[schema(format = DateTime)]
    pub starts_at: Option<String>,
    #[schema(format = DateTime)]
    pub ends_at: Option<String>,
    #[schema(value_type = Option<crate::domain::kinds::Format>)]
    pub format: Option<String>,
    pub candidate_ids: Option<Vec<Uuid>>,
    #[schema(max_items = 200)]
    pub sites: Option<Vec<SiteIn>>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// null removes the online block.
    pub online: Option<Option<OnlineIn>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnlinePlan {
    pub platform: Option<String>,
    pub join_url: Option<String>,
    pub max_participants: i32,
    pub expected_attendees: i32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SitePlanned {
    pub venue_id: Uuid,
    pub expected_attendees: i32,
}

/// A meeting as the organizer wants it, every field individually valid.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingPlan {
    pub election_id: Uuid,
    pub unit_ids: Vec<Uuid>,
    pub format: Format,
    pub title: String,
    pub chair: Option<(String, Option<String>)>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `None`: every active candidate of the units.
    pub candidate_ids: Option<Vec<Uuid>>,
    pub sites: Vec<SitePlanned>,
    pub online: Option<OnlinePlan>,
}

fn chair(e: &mut FieldErrors, c: Option<&ChairIn>) -> Option<(String, Option<String>)> {
    let c = c?;
    let name = e.take("chair.name", text::name(&c.name, 200))?;
    let role = e.take("chair.role", text::optional_name(c.role.as_deref(), 200))?;
    Some((name, role))
}

fn join_url(raw: Option<&str>) -> std::result::Result<Option<String>, String> {
    raw.map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            let u = text::name(u, 2000)?;
            match url::Url::parse(&u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(u),
                _ => Err(format!("{u:?} is not an http(s) URL")),
            }
        })
        .transpose()
}

fn online(e: &mut FieldErrors, o: &OnlineIn) -> Option<OnlinePlan> {
    let platform = e.take(
        "online.platform",
        text::optional_name(o.platform.as_deref(), 100),
    );
    let join_url = e.take("online.join_url", join_url(o.join_url.as_deref()));
    if !(1..=1_000_000).contains(&o.max_participants) {
        e.add("online.max_participants", "must be between 1 and 1000000");
    }
    if !(0..=1_000_000).contains(&o.expected_attendees) {
        e.add("online.expected_attendees", "must be between 0 and 1000000");
    }
    Some(OnlinePlan {
        platform: platform?,
        join_url: join_url?,
        max_participants: o.max_participants,
        expected_attendees: o.expected_attendees,
    })
}

fn sites(e: &mut FieldErrors, sites: &[SiteIn]) -> Vec<SitePlanned> {
    if sites.len() > MAX_SITES {
        e.add("sites", format!("at most {MAX_SITES} sites"));
    }
    for (i, s) in sites.iter().enumerate() {
        if !(0..=100_000).contains(&s.expected_attendees) {
            e.add(
                format!("sites[{i}].expected_attendees"),
                "must be between 0 and 100000",
            );
        }
        if sites[..i].iter().any(|o| o.venue_id == s.venue_id) {
            e.add(format!("sites[{i}].venue_id"), "the venue is listed twice");
        }
    }
    sites
        .iter()
        .map(|s| SitePlanned {
            venue_id: s.venue_id,
            expected_attendees: s.expected_attendees,
        })
        .collect()
}

/// The checks on a plan's shape that need no database.
fn span(e: &mut FieldErrors, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) {
    if ends_at <= starts_at {
        e.add("ends_at", "must be after starts_at");
    } else if ends_at - starts_at > MAX_LENGTH {
        e.add("ends_at", "a meeting lasts at most 24 hours");
    }
}

fn unit_list(e: &mut FieldErrors, unit_ids: &[Uuid]) {
    if unit_ids.is_empty() || unit_ids.len() > MAX_UNITS {
        e.add(
            "electoral_unit_ids",
            format!("name 1 to {MAX_UNITS} electoral units"),
        );
    }
    let distinct: HashSet<&Uuid> = unit_ids.iter().collect();
    if distinct.len() != unit_ids.len() {
        e.add("electoral_unit_ids", "an electoral unit is listed twice");
    }
}

fn shape(e: &mut FieldErrors, plan: &MeetingPlan) {
    span(e, plan.starts_at, plan.ends_at);
    unit_list(e, &plan.unit_ids);
    match plan.format {
        Format::InPerson => {
            if plan.sites.len() != 1 {
                e.add("sites", "an in_person meeting has exactly one site");
            }
            if plan.online.is_some() {
                e.add("online", "an in_person meeting has no online block");
            }
        }
        Format::Online => {
            if plan.online.is_none() {
                e.add("online", "an online meeting needs its online block");
            }
        }
    }
}

impl NewMeeting {
    /// Every field checked at once; the plan's shape too when the fields allow it.
    pub fn parse(&self) -> std::result::Result<MeetingPlan, Problem> {
        let mut e = FieldErrors::new();
        let format = e.take("format", kinds::parse::<Format>(&self.format));
        let title = e.take(
            "title",
            text::name(self.title.as_deref().unwrap_or(DEFAULT_TITLE), 300),
        );
        let chair = chair(&mut e, self.chair.as_ref());
        let starts_at = e.take("starts_at", timestamp(&self.starts_at));
        let ends_at = e.take("ends_at", timestamp(&self.ends_at));
        let online = self.online.as_ref().map(|o| online(&mut e, o));
        let sites = sites(&mut e, &self.sites);
        let plan = match (format, title, starts_at, ends_at) {
            (Some(format), Some(title), Some(starts_at), Some(ends_at)) => Some(MeetingPlan {
                election_id: self.election_id,
                unit_ids: self.electoral_unit_ids.clone(),
                format,
                title,
                chair,
                starts_at,
                ends_at,
                candidate_ids: self.candidate_ids.clone(),
                sites,
                online: online.clone().flatten(),
            }),
            _ => None,
        };
        // An online block that failed its own checks is reported already; the format's part
        // of the shape check would only add "an online meeting needs its online block". The
        // times and units are checked whatever else failed, so that every bad field is named.
        match &plan {
            Some(plan) if !matches!(online, Some(None)) => shape(&mut e, plan),
            _ => {
                if let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at) {
                    span(&mut e, starts_at, ends_at);
                }
                unit_list(&mut e, &self.electoral_unit_ids);
            }
        }
        e.done(plan)
    }
}

impl MeetingPatch {
    /// Merges the fields present into the stored plan and checks the result's shape.
    pub fn apply(&self, mut plan: MeetingPlan) -> std::result::Result<MeetingPlan, Problem> {
        let mut e = FieldErrors::new();
        if let Some(t) = &self.title {
            if let Some(t) = e.take("title", text::name(t, 300)) {
                plan.title = t;
            }
        }
        if let Some(c) = &self.chair {
            plan.chair = chair(&mut e, c.as_ref());
        }
        if let Some(t) = self
            .starts_at
            .as_deref()
            .and_then(|s| e.take("starts_at", timestamp(s)))
        {
            plan.starts_at = t;
        }
        if let Some(t) = self
            .ends_at
            .as_deref()
            .and_then(|s| e.take("ends_at", timestamp(s)))
        {
            plan.ends_at = t;
        }
        if let Some(f) = self
            .format
            .as_deref()
            .and_then(|f| e.take("format", kinds::parse::<Format>(f)))
        {
            plan.format = f;
        }
        if let Some(c) = &self.candidate_ids {
            plan.candidate_ids = Some(c.clone());
        }
        if let Some(s) = &self.sites {
            plan.sites = sites(&mut e, s);
        }
        if let Some(o) = &self.online {
            plan.online = o.as_ref().and_then(|o| online(&mut e, o));
        }
        if e.is_empty() {
            shape(&mut e, &plan);
        }
        e.finish()?;
        Ok(plan)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Chair {
    pub name: String,
    #[schema(required = true)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Online {
    #[schema(required = true)]
    pub platform: Option<String>,
    #[schema(required = true)]
    pub join_url: Option<String>,
    pub max_participants: i32,
    pub expected_attendees: i32,
    pub present: i32,
    pub admitted: i32,
}

/// A meeting as clients see it (SPEC §4).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Meeting {
    pub id: Uuid,
    pub election_id: Uuid,
    pub province_id: Uuid,
    /// The region of the venue (in person) or of the electoral unit (online).
    #[schema(required = true)]
    pub region_id: Option<Uuid>,
    pub electoral_unit_ids: Vec<Uuid>,
    pub format: Format,
    pub title: String,
    #[schema(required = true)]
    pub chair: Option<Chair>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// starts_at and ends_at in the election's time zone, with its offset.
    pub local: LocalTimes,
    pub status: MeetingStatus,
    #[schema(required = true)]
    pub cancel_reason: Option<String>,
    pub candidate_ids: Vec<Uuid>,
    pub sites: Vec<SiteRow>,
    #[schema(required = true)]
    pub online: Option<Online>,
    /// Sum of the sites' effective capacities plus the online max_participants.
    pub capacity: i32,
    /// A rule change made this meeting break rule 4 or 5.
    pub needs_attention: bool,
    #[schema(value_type = Vec<crate::domain::reevaluation::Attention>)]
    pub attention: serde_json::Value,
    /// Also the ETag: send it back as If-Match to PATCH.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Meeting {
    /// The plan this meeting follows, for a PATCH to merge into.
    fn plan(&self) -> MeetingPlan {
        MeetingPlan {
            election_id: self.election_id,
            unit_ids: self.electoral_unit_ids.clone(),
            format: self.format,
            title: self.title.clone(),
            chair: self
                .chair
                .as_ref()
                .map(|c| (c.name.clone(), c.role.clone())),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            candidate_ids: Some(self.candidate_ids.clone()),
            sites: self
                .sites
                .iter()
                .map(|s| SitePlanned {
                    venue_id: s.venue_id,
                    expected_attendees: s.expected_attendees,
                })
                .collect(),
            online: self.online.as_ref().map(|o| OnlinePlan {
                platform: o.platform.clone(),
                join_url: o.join_url.clone(),
                max_participants: o.max_participants,
                expected_attendees: o.expected_attendees,
            }),
        }
    }

    /// Whether a change moved the meeting in a way its candidates must hear of: its time,
    /// venues, format, online platform or link, or candidates.
    fn rescheduled_from(&self, before: &Meeting) -> bool {
        let venues = |m: &Meeting| m.sites.iter().map(|s| s.venue_id).collect::<Vec<_>>();
        let online = |m: &Meeting| {
            m.online
                .as_ref()
                .map(|o| (o.platform.clone(), o.join_url.clone()))
        };
        before.starts_at != self.starts_at
            || before.ends_at != self.ends_at
            || venues(before) != venues(self)
            || before.format != self.format
            || online(before) != online(self)
            || before.candidate_ids != self.candidate_ids
    }
}

/// An election's zone as stored (checked when it was written).
fn zone_of(stored: &str) -> Result<chrono_tz::Tz> {
    time_zone(stored).map_err(|e| super::Error::internal(format!("an election's zone: {e}")))
}

fn view(
    m: MeetingRow,
    zone: chrono_tz::Tz,
    units: Vec<Uuid>,
    candidates: Vec<Uuid>,
    sites: Vec<SiteRow>,
) -> Meeting {
    let online = match (m.online_max_participants, m.online_expected_attendees) {
        (Some(max), Some(expected)) => Some(Online {
            platform: m.online_platform,
            join_url: m.online_join_url,
            max_participants: max,
            expected_attendees: expected,
            present: m.online_present,
            admitted: m.online_admitted,
        }),
        _ => None,
    };
    let capacity = sites.iter().map(|s| s.effective_capacity).sum::<i32>()
        + online.as_ref().map_or(0, |o| o.max_participants);
    Meeting {
        id: m.id,
        election_id: m.election_id,
        province_id: m.province_id,
        region_id: m.region_path.last().copied(),
        electoral_unit_ids: units,
        format: m.format,
        title: m.title,
        chair: m.chair_name.map(|name| Chair {
            name,
            role: m.chair_role,
        }),
        local: LocalTimes::new(zone, m.starts_at, m.ends_at),
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        status: m.status,
        cancel_reason: m.cancel_reason,
        candidate_ids: candidates,
        sites,
        online,
        capacity,
        needs_attention: m.needs_attention,
        attention: m.attention,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The meetings of these rows, with one query in all (`db::parts_of`), not one per meeting.
pub fn views(tx: &mut Tx<'_>, rows: Vec<MeetingRow>) -> Result<Vec<Meeting>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<(Uuid, Uuid)> = rows.iter().map(|m| (m.province_id, m.id)).collect();
    let mut parts: HashMap<Uuid, db::Parts> = db::parts_of(tx, &keys)?.into_iter().collect();
    rows.into_iter()
        .map(|m| {
            let found = parts
                .remove(&m.id)
                .ok_or_else(|| super::Error::internal("a meeting's parts went missing"))?;
            let zone = zone_of(&found.timezone)?;
            // A meeting's candidates are its active links; a cancelled meeting keeps all of
            // its own.
            let cancelled = m.status == MeetingStatus::Cancelled;
            let candidates = found
                .candidates
                .into_iter()
                .filter(|&(_, active)| active || cancelled)
                .map(|(c, _)| c)
                .collect();
            Ok(view(m, zone, found.units, candidates, found.sites))
        })
        .collect()
}

fn view_of(tx: &mut Tx<'_>, row: MeetingRow) -> Result<Meeting> {
    views(tx, vec![row])?
        .pop()
        .ok_or_else(|| super::Error::internal("a meeting's view went missing"))
}

fn load(tx: &mut Tx<'_>, id: Uuid) -> Result<Meeting> {
    let row = db::find(tx, id)?.ok_or_else(|| Problem::not_found("meeting"))?;
    view_of(tx, row)
}

/// A meeting the caller may read (any of its venues or units in their subtree).
pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<Meeting> {
    let row = db::find(tx, id)?.ok_or_else(|| Problem::not_found("meeting"))?;
    who.ensure_reads_among(&row.reach)?;
    view_of(tx, row)
}

/// A meeting the caller may act on (rule 11), locked for the change, with its current state.
/// Also used by attendance reports.
pub fn lock_for_action(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<(MeetingRow, Meeting)> {
    let found = db::find(tx, id)?.ok_or_else(|| Problem::not_found("meeting"))?;
    who.ensure_reads_among(&found.reach)?;
    let row = db::lock(tx, found.province_id, id)?.ok_or_else(|| Problem::not_found("meeting"))?;
    who.ensure_acts_among(&row.actors)?;
    let meeting = view_of(tx, row.clone())?;
    Ok((row, meeting))
}

pub fn list(tx: &mut Tx<'_>, who: &Caller, mut filter: MeetingFilter) -> Result<Vec<Meeting>> {
    filter.scope = who.scope();
    let rows = db::list(tx, filter)?;
    views(tx, rows)
}

/// What checking a plan against the database established.
struct Checked {
    province_id: Uuid,
    /// The election's time zone.
    zone: chrono_tz::Tz,
    region_path: Vec<Uuid>,
    place: MeetingPlace,
    candidate_ids: Vec<Uuid>,
    bookings: Vec<SiteBooking>,
    /// What the meeting is found by (`domain::search`).
    words: String,
}

/// Rule 1, scope (rule 11), the references of a plan, then rules 4 and 5; rules 2 and 3
/// are the exclusion constraints' when booking.
fn check(tx: &mut Tx<'_>, who: &Caller, plan: &MeetingPlan) -> Result<Checked> {
    let election = elections::find(tx, plan.election_id)?
        .ok_or_else(|| Problem::field("election_id", "no such election"))?;
    let window =
        CampaignWindow::for_election(election.campaign_starts_at, election.polling_starts_at);
    window.check(plan.starts_at, plan.ends_at)?;

    let mut errors = FieldErrors::new();
    let found_units = units::find_many(tx, &plan.unit_ids)?;
    for id in &plan.unit_ids {
        match found_units.iter().find(|(u, _)| u.id == *id) {
            None => errors.add("electoral_unit_ids", format!("no such electoral unit {id}")),
            Some((u, _)) if u.election_id != plan.election_id => errors.add(
                "electoral_unit_ids",
                format!("electoral unit {id} belongs to another election"),
            ),
            Some(_) => {}
        }
    }
    let provinces: HashSet<Uuid> = found_units.iter().map(|(u, _)| u.province_id).collect();
    if provinces.len() > 1 {
        errors.add(
            "electoral_unit_ids",
            "a joint meeting's units must lie in one province",
        );
    }
    let venue_ids: Vec<Uuid> = plan.sites.iter().map(|s| s.venue_id).collect();
    let likely = match provinces.len() {
        1 => provinces.iter().next().copied(),
        _ => None,
    };
    let found_venues = venues::find_many(tx, &venue_ids, likely)?;
    for (i, site) in plan.sites.iter().enumerate() {
        match found_venues.iter().find(|(v, _)| v.id == site.venue_id) {
            None => errors.add(format!("sites[{i}].venue_id"), "no such venue"),
            Some((v, _)) if !provinces.is_empty() && !provinces.contains(&v.province_id) => errors
                .add(
                    format!("sites[{i}].venue_id"),
                    "the venue lies in another province than the electoral units",
                ),
            Some(_) => {}
        }
    }
    let unit_candidates = crate::db::candidates::of_units(tx, &plan.unit_ids)?;
    let candidate_ids = chosen_candidates(&mut errors, plan, &unit_candidates);
    errors.finish()?;

    let place = MeetingPlace {
        venue_paths: found_venues.iter().map(|(_, p)| p.clone()).collect(),
        unit_paths: found_units.iter().map(|(_, p)| p.clone()).collect(),
    };
    who.ensure_acts_on(&place)?;
    let province_id = found_units
        .first()
        .map(|(u, _)| u.province_id)
        .ok_or_else(|| {
            Problem::field(
                "electoral_unit_ids",
                "at least one electoral unit is required",
            )
        })?;

    health_rules::lock_province_rules(tx, province_id, false)?;
    let site_plans: Vec<SitePlan> = plan
        .sites
        .iter()
        .filter_map(|s| {
            let (v, path) = found_venues.iter().find(|(v, _)| v.id == s.venue_id)?;
            Some(SitePlan {
                venue_id: v.id,
                venue: v.facts(),
                venue_region_path: path.clone(),
                expected_attendees: s.expected_attendees,
            })
        })
        .collect();
    let rules = reevaluation::rules_for(tx, &site_plans, plan.starts_at, plan.ends_at)?;
    let assessment = assess(
        plan.format == Format::InPerson,
        &site_plans,
        plan.online
            .as_ref()
            .map(|o| (o.expected_attendees, o.max_participants)),
        &rules,
        plan.starts_at,
        plan.ends_at,
    );
    assessment.check()?;

    let region_path = match plan.format {
        Format::InPerson => found_venues.first().map(|(_, p)| p.clone()),
        Format::Online => found_units
            .iter()
            .map(|(_, p)| p.clone())
            .max_by_key(Vec::len),
    }
    .unwrap_or_else(|| vec![province_id]);
    let words = search::meeting_words(
        &plan.title,
        plan.sites.iter().filter_map(|s| {
            let (v, _) = found_venues.iter().find(|(v, _)| v.id == s.venue_id)?;
            Some((v.name.as_str(), v.address.as_str()))
        }),
        unit_candidates
            .iter()
            .filter(|c| candidate_ids.contains(&c.id))
            .map(|c| c.full_name.as_str()),
    );
    Ok(Checked {
        zone: zone_of(&election.timezone)?,
        words,
        province_id,
        region_path,
        place,
        candidate_ids,
        bookings: assessment
            .sites
            .iter()
            .map(|s| SiteBooking {
                venue_id: s.venue_id,
                expected_attendees: s.expected_attendees,
                effective_capacity: s.verdict.effective_capacity,
                binding_rule_id: s.verdict.binding_rule_id,
            })
            .collect(),
    })
}

/// The plan's candidates: those named (each an active candidate of the units), or every
/// active candidate of the units; sorted, without repeats.
fn chosen_candidates(
    errors: &mut FieldErrors,
    plan: &MeetingPlan,
    of_units: &[Candidate],
) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = match &plan.candidate_ids {
        None => of_units
            .iter()
            .filter(|c| c.status == CandidateStatus::Active)
            .map(|c| c.id)
            .collect(),
        Some(ids) => {
            for id in ids {
                match of_units.iter().find(|c| c.id == *id) {
                    None => errors.add(
                        "candidate_ids",
                        format!("candidate {id} does not belong to the meeting's electoral units"),
                    ),
                    Some(c) if c.status != CandidateStatus::Active => {
                        errors.add("candidate_ids", format!("candidate {id} has withdrawn"))
                    }
                    Some(_) => {}
                }
            }
            ids.clone()
        }
    };
    if ids.is_empty() && errors.is_empty() {
        errors.add("candidate_ids", "the meeting has no active candidate");
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The columns a checked plan writes.
fn fields(plan: &MeetingPlan, checked: &Checked) -> MeetingFields {
    let online = plan.online.as_ref();
    MeetingFields {
        region_path: checked.region_path.clone(),
        actors: checked.place.actors(),
        reach: checked.place.reach(),
        format: plan.format,
        title: plan.title.clone(),
        chair_name: plan.chair.as_ref().map(|c| c.0.clone()),
        chair_role: plan.chair.as_ref().and_then(|c| c.1.clone()),
        starts_at: plan.starts_at,
        ends_at: plan.ends_at,
        online_platform: online.and_then(|o| o.platform.clone()),
        online_join_url: online.and_then(|o| o.join_url.clone()),
        online_max_participants: online.map(|o| o.max_participants),
        online_expected_attendees: online.map(|o| o.expected_attendees),
    }
}

fn travel_buffer(tx: &Tx<'_>) -> TimeDelta {
    TimeDelta::minutes(tx.settings().scheduling.travel_buffer_minutes)
}

/// Writes candidates and sites; the exclusion constraints refuse double bookings, and a
/// refusal names the meeting already holding the candidate or venue.
/// `before` is the meeting as it was, `None` for a new one. Returns the sites it added, as
/// written: for a new meeting, every site.
fn book(
    tx: &mut Tx<'_>,
    id: Uuid,
    plan: &MeetingPlan,
    checked: &Checked,
    before: Option<&Meeting>,
) -> Result<Vec<SiteRow>> {
    let buffer = travel_buffer(tx);
    let busy = booking::candidate_busy(plan.starts_at, plan.ends_at, buffer);
    let during = booking::venue_busy(plan.starts_at, plan.ends_at);
    let venue_ids: Vec<Uuid> = checked.bookings.iter().map(|b| b.venue_id).collect();
    db::queue_bookings(tx, &checked.candidate_ids, &venue_ids)?;
    db::book_candidates(
        tx,
        id,
        checked.province_id,
        before.is_none(),
        &checked.candidate_ids,
        db::range(busy.0, busy.1),
    )?
    .map_err(|clash| clash.problem(buffer))?;
    let booked_venues: Vec<Uuid> = before
        .map(|b| b.sites.iter().map(|s| s.venue_id).collect())
        .unwrap_or_default();
    let added = db::book_sites(
        tx,
        id,
        checked.province_id,
        &booked_venues,
        &checked.bookings,
        db::range(during.0, during.1),
    )?
    .map_err(|clash| clash.problem(buffer))?;
    Ok(added)
}

/// The meeting as it was, for a notice to say what moved.
fn before_change(before: &Meeting) -> notices::Before {
    notices::Before {
        starts_at: before.starts_at,
        ends_at: before.ends_at,
        venue_ids: before.sites.iter().map(|s| s.venue_id).collect(),
        online: before.format == Format::Online,
        online_platform: before.online.as_ref().and_then(|o| o.platform.clone()),
        join_url: before.online.as_ref().and_then(|o| o.join_url.clone()),
        candidate_ids: before.candidate_ids.clone(),
    }
}

/// Queues the change notice to the meeting's candidates (rule 9), unless the meeting is
/// already over: back-filling a meeting held last week tells nobody anything.
fn notify_candidates(
    tx: &mut Tx<'_>,
    meeting: &Meeting,
    event: notices::MeetingEvent,
) -> Result<()> {
    if meeting.ends_at > tx.now() {
        let ctx = notices::Context::new(tx.settings(), tx.now());
        notices::meeting_changes(tx, &ctx, &[(meeting.id, event)])?;
    }
    Ok(())
}

/// Scope (rule 11) before the body is judged: the units and venues a new meeting names,
/// those that exist, must be ones the caller may plan for.
fn ensure_acts_on_named(tx: &mut Tx<'_>, who: &Caller, new: &NewMeeting) -> Result<()> {
    if who.scope().is_none() {
        return Ok(());
    }
    let venue_ids: Vec<Uuid> = new.sites.iter().map(|s| s.venue_id).collect();
    let units = units::find_many(tx, &new.electoral_unit_ids)?;
    let likely = units.first().map(|(u, _)| u.province_id);
    let place = MeetingPlace {
        venue_paths: venues::find_many(tx, &venue_ids, likely)?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
        unit_paths: units.into_iter().map(|(_, p)| p).collect(),
    };
    if place.venue_paths.is_empty() && place.unit_paths.is_empty() {
        return Ok(());
    }
    Ok(who.ensure_acts_on(&place)?)
}

/// Plans a meeting; every rule is checked in this transaction.
pub fn plan(tx: &mut Tx<'_>, who: &Caller, new: &NewMeeting) -> Result<Meeting> {
    who.ensure_can_mutate()?;
    ensure_acts_on_named(tx, who, new)?;
    let plan = new.parse()?;
    let id = Uuid::now_v7();
    let checked = check(tx, who, &plan)?;
    let row = db::insert(
        tx,
        &MeetingInsertForm {
            id,
            province_id: checked.province_id,
            election_id: plan.election_id,
            fields: fields(&plan, &checked),
        },
        &checked.words,
    )?;
    db::insert_units(tx, id, checked.province_id, &plan.unit_ids)?;
    let mut sites = book(tx, id, &plan, &checked, None)?;
    sites.sort_by_key(|s| s.id);
    // The view from what was just written, as `views` would read it back: units, candidates
    // and sites in id order, every candidate active.
    let mut unit_ids = plan.unit_ids.clone();
    unit_ids.sort();
    let meeting = view(
        row,
        checked.zone,
        unit_ids,
        checked.candidate_ids.clone(),
        sites,
    );
    audit::record(
        tx,
        who,
        Change::created("meeting", id, Some(meeting.province_id), &meeting),
    )?;
    notify_candidates(tx, &meeting, notices::MeetingEvent::Created)?;
    Ok(meeting)
}

fn ensure_planned(m: &MeetingRow) -> Result<()> {
    if m.status == MeetingStatus::Planned {
        Ok(())
    } else {
        Err(Problem::new(
            Code::MeetingNotPlanned,
            format!(
                "the meeting is {}; only planned meetings can change",
                m.status
            ),
        )
        .into())
    }
}

/// Rule 15: once a meeting has ended only its report changes it, except by an admin (audited),
/// so an overdue report cannot be made to disappear. Checked on the locked row at `now`, the
/// time the change is then stamped with: no change lands after the end it was checked against.
fn ensure_not_ended(who: &Caller, m: &MeetingRow, now: DateTime<Utc>) -> Result<()> {
    if m.ends_at <= now && !who.is_admin() {
        return Err(Problem::new(
            Code::MeetingEnded,
            format!(
                "the meeting ended at {}; only its attendance report can change it now",
                m.ends_at.to_rfc3339()
            ),
        )
        .into());
    }
    Ok(())
}

/// The version an `If-Match` names: a number, or any version.
#[derive(Debug, Clone, Copy)]
pub enum Expected {
    Version(i32),
    Any,
}

/// Edits or reschedules a planned meeting at the version the client read.
pub fn edit(
    tx: &mut Tx<'_>,
    who: &Caller,
    id: Uuid,
    expected: Expected,
    patch: &MeetingPatch,
) -> Result<Meeting> {
    let (row, before) = lock_for_action(tx, who, id)?;
    if let Expected::Version(v) = expected {
        if row.version != v {
            return Err(Problem::new(
                Code::VersionConflict,
                format!(
                    "the meeting is at version {}, not {v}; read it again and retry",
                    row.version
                ),
            )
            .into());
        }
    }
    ensure_planned(&row)?;
    let now = tx.now();
    ensure_not_ended(who, &row, now)?;
    let plan = patch.apply(before.plan())?;
    let checked = check(tx, who, &plan)?;
    db::update(
        tx,
        row.province_id,
        id,
        &fields(&plan, &checked),
        &checked.words,
        now,
    )?;
    book(tx, id, &plan, &checked, Some(&before))?;
    db::set_attention(tx, row.province_id, id, &serde_json::json!([]))?;
    let after = load(tx, id)?;
    audit::record(
        tx,
        who,
        Change::updated("meeting", id, Some(after.province_id), &before, &after),
    )?;
    if after.rescheduled_from(&before) {
        notify_candidates(
            tx,
            &after,
            notices::MeetingEvent::Edited(before_change(&before)),
        )?;
    }
    Ok(after)
}

/// Cancels a planned meeting and frees its candidates and venues.
pub fn cancel(tx: &mut Tx<'_>, who: &Caller, id: Uuid, reason: &str) -> Result<Meeting> {
    let (row, before) = lock_for_action(tx, who, id)?;
    let reason = text::free_text(reason, 1000).map_err(|m| Problem::field("reason", m))?;
    ensure_planned(&row)?;
    let now = tx.now();
    ensure_not_ended(who, &row, now)?;
    db::cancel(tx, row.province_id, id, &reason, now)?;
    db::release(tx, id)?;
    let after = load(tx, id)?;
    audit::record(
        tx,
        who,
        Change {
            action: "cancel",
            entity_type: "meeting",
            entity_id: id,
            province_id: Some(after.province_id),
            before: audit::json(&before),
            after: audit::json(&after),
        },
    )?;
    notify_candidates(
        tx,
        &after,
        notices::MeetingEvent::Cancelled {
            candidate_ids: before.candidate_ids.clone(),
        },
    )?;
    Ok(after)
}

/// A candidate who withdraws leaves every future planned meeting (the meetings stay, with the
/// other candidates); a meeting left without any active candidate is flagged and its
/// organizers told (rule 13).
/// Re-evaluates these meetings of one province (rules 8 and 13) for the change `who` made;
/// returns those that now break a rule. Each meeting that changes (capacities, flag) is
/// audited as a `reevaluate` of it, with both sides (rule 10).
pub fn reevaluate(
    tx: &mut Tx<'_>,
    who: &Caller,
    province_id: Uuid,
    meeting_ids: &[Uuid],
    rule_reference: Option<&str>,
) -> Result<Vec<crate::domain::reevaluation::AffectedMeeting>> {
    if meeting_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db::lock_many(tx, province_id, meeting_ids)?;
    let before: HashMap<Uuid, Meeting> = views(tx, rows)?.into_iter().map(|m| (m.id, m)).collect();
    let done = reevaluation::reevaluate(tx, province_id, meeting_ids, rule_reference)?;
    let rows = db::lock_many(tx, province_id, &done.changed)?;
    for after in views(tx, rows)? {
        audit::record(
            tx,
            who,
            Change {
                action: "reevaluate",
                entity_type: "meeting",
                entity_id: after.id,
                province_id: Some(after.province_id),
                before: before.get(&after.id).and_then(audit::json),
                after: audit::json(&after),
            },
        )?;
    }
    Ok(done.affected)
}

pub fn withdraw_candidate(
    tx: &mut Tx<'_>,
    who: &Caller,
    candidate: &Candidate,
) -> Result<Vec<Uuid>> {
    let now = tx.now();
    let future = db::future_of_candidate(tx, candidate.id, now)?;
    let rows = db::lock_many(tx, candidate.province_id, &future)?;
    let before: HashMap<Uuid, Meeting> = views(tx, rows)?.into_iter().map(|m| (m.id, m)).collect();
    let left = db::drop_candidate(tx, candidate.id, &future)?;
    db::touch(tx, candidate.province_id, &left, now)?;
    db::refresh_search(tx, &left)?;
    // Each meeting the candidate left is audited as changed (rule 10), before its re-evaluation.
    let rows = db::lock_many(tx, candidate.province_id, &left)?;
    for after in views(tx, rows)? {
        audit::record(
            tx,
            who,
            Change::updated(
                "meeting",
                after.id,
                Some(after.province_id),
                &before.get(&after.id),
                &after,
            ),
        )?;
    }
    reevaluate(tx, who, candidate.province_id, &left, None)?;
    Ok(left)
}
