//! Planning meetings: the transactions that check rules 1–5 of SPEC §3 and write a meeting,
//! and the re-evaluation of planned meetings when the rules or venues they depend on change
//! (rule 8).
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::db::meetings::{
    self, MeetingFields, MeetingInsertForm, MeetingRow, MeetingView, SiteBooking,
};
use crate::db::schema::{meeting_sites, meetings as meetings_t, regions, venues as venues_t};
use crate::db::{elections, health_rules, venues};
use crate::domain::assessment::{assess, Assessment, Problem, SitePlan};
use crate::domain::campaign::CampaignWindow;
use crate::error::{ApiError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    InPerson,
    Online,
}

impl Format {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "in_person" => Ok(Format::InPerson),
            "online" => Ok(Format::Online),
            other => Err(format!("must be in_person or online, not {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::InPerson => "in_person",
            Format::Online => "online",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OnlinePlan {
    pub platform: Option<String>,
    pub join_url: Option<String>,
    pub max_participants: i32,
    pub expected_attendees: i32,
}

#[derive(Debug, Clone, Copy)]
pub struct SiteRequest {
    pub venue_id: Uuid,
    pub expected_attendees: i32,
}

/// A meeting as the organizer wants it, every field individually valid.
#[derive(Debug, Clone)]
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
    pub sites: Vec<SiteRequest>,
    pub online: Option<OnlinePlan>,
}

/// What checking a plan against the database established.
struct Checked {
    province_id: Uuid,
    region_path: Vec<Uuid>,
    candidate_ids: Vec<Uuid>,
    bookings: Vec<SiteBooking>,
}

/// Creates a meeting; every rule is checked in this transaction.
pub fn create(
    conn: &mut PgConnection,
    who: &Caller,
    plan: MeetingPlan,
    travel_buffer: Duration,
) -> Result<MeetingView, ApiError> {
    let id = Uuid::now_v7();
    let checked = check(conn, who, &plan)?;
    meetings::insert(
        conn,
        &MeetingInsertForm {
            id,
            province_id: checked.province_id,
            election_id: plan.election_id,
            fields: fields(&plan, &checked),
        },
    )?;
    meetings::insert_units(conn, id, checked.province_id, &plan.unit_ids)?;
    book(conn, id, &plan, &checked, travel_buffer, None)?;
    let view = meetings::load_view(conn, id)?;
    audit::record(
        conn,
        who,
        Change {
            action: "create",
            entity_type: "meeting",
            entity_id: id,
            province_id: Some(view.province_id),
            before: None,
            after: serde_json::to_value(&view).ok(),
        },
    )?;
    notify_candidates(conn, &view)?;
    Ok(view)
}

/// Edits or reschedules a planned meeting whose version is `expected_version`.
pub fn edit(
    conn: &mut PgConnection,
    who: &Caller,
    id: Uuid,
    expected_version: i32,
    change: impl FnOnce(MeetingPlan) -> Result<MeetingPlan, ApiError>,
    travel_buffer: Duration,
) -> Result<MeetingView, ApiError> {
    let row = meetings::lock(conn, id)?;
    who.ensure_write(&row.region_path)?;
    if row.version != expected_version {
        return Err(ApiError::problem(
            actix_web::http::StatusCode::PRECONDITION_FAILED,
            "version_conflict",
            format!(
                "the meeting is at version {}, not {expected_version}; read it again and retry",
                row.version
            ),
        ));
    }
    ensure_planned(&row)?;
    let before = meetings::view_one(conn, row.clone())?;
    let plan = change(plan_of(&before))?;
    let checked = check(conn, who, &plan)?;
    meetings::update(conn, id, &fields(&plan, &checked))?;
    book(conn, id, &plan, &checked, travel_buffer, Some(&before))?;
    set_attention(conn, id, Vec::new())?;
    let after = meetings::load_view(conn, id)?;
    audit::record(
        conn,
        who,
        Change {
            action: "update",
            entity_type: "meeting",
            entity_id: id,
            province_id: Some(after.province_id),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    let rescheduled = before.starts_at != after.starts_at
        || before.ends_at != after.ends_at
        || before.sites.iter().map(|s| s.venue_id).collect::<Vec<_>>()
            != after.sites.iter().map(|s| s.venue_id).collect::<Vec<_>>()
        || before.format != after.format
        || before.candidate_ids != after.candidate_ids;
    if rescheduled {
        notify_candidates(conn, &after)?;
    }
    Ok(after)
}

/// Cancels a planned meeting and frees its candidates and venues.
pub fn cancel(
    conn: &mut PgConnection,
    who: &Caller,
    id: Uuid,
    reason: String,
) -> Result<MeetingView, ApiError> {
    let row = meetings::lock(conn, id)?;
    who.ensure_write(&row.region_path)?;
    ensure_planned(&row)?;
    let before = meetings::view_one(conn, row)?;
    diesel::update(meetings_t::table.find(id))
        .set((
            meetings_t::status.eq("cancelled"),
            meetings_t::cancel_reason.eq(&reason),
            meetings_t::needs_attention.eq(false),
            meetings_t::attention.eq(json!([])),
            meetings_t::version.eq(meetings_t::version + 1),
            meetings_t::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    meetings::release(conn, id)?;
    let after = meetings::load_view(conn, id)?;
    audit::record(
        conn,
        who,
        Change {
            action: "cancel",
            entity_type: "meeting",
            entity_id: id,
            province_id: Some(after.province_id),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    notify_candidates(conn, &after)?;
    Ok(after)
}

/// Queues the change notice to the meeting's candidates (SPEC §3 rule 9) — unless the
/// meeting is already over: back-filling a meeting held last week tells nobody anything.
fn notify_candidates(conn: &mut PgConnection, meeting: &MeetingView) -> Result<(), ApiError> {
    if meeting.ends_at > Utc::now() {
        crate::email::outbox::enqueue_meeting_changes(conn, &[meeting.id])?;
    }
    Ok(())
}

fn ensure_planned(row: &MeetingRow) -> Result<(), ApiError> {
    if row.status == "planned" {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "meeting_not_planned",
            format!(
                "the meeting is {}; only planned meetings can change",
                row.status
            ),
        ))
    }
}

/// The plan a stored meeting follows, for a PATCH to merge into.
fn plan_of(v: &MeetingView) -> MeetingPlan {
    MeetingPlan {
        election_id: v.election_id,
        unit_ids: v.electoral_unit_ids.clone(),
        format: if v.format == "online" {
            Format::Online
        } else {
            Format::InPerson
        },
        title: v.title.clone(),
        chair: v.chair.as_ref().map(|c| (c.name.clone(), c.role.clone())),
        starts_at: v.starts_at,
        ends_at: v.ends_at,
        candidate_ids: Some(v.candidate_ids.clone()),
        sites: v
            .sites
            .iter()
            .map(|s| SiteRequest {
                venue_id: s.venue_id,
                expected_attendees: s.expected_attendees,
            })
            .collect(),
        online: v.online.as_ref().map(|o| OnlinePlan {
            platform: o.platform.clone(),
            join_url: o.join_url.clone(),
            max_participants: o.max_participants,
            expected_attendees: o.expected_attendees,
        }),
    }
}

/// The columns a checked plan writes.
fn fields(plan: &MeetingPlan, checked: &Checked) -> MeetingFields {
    let online = plan.online.as_ref();
    MeetingFields {
        region_path: checked.region_path.clone(),
        format: plan.format.as_str().to_owned(),
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

/// Rules 1, 4 and 5, scope, and the references of a plan; rules 2 and 3 are left to the
/// exclusion constraints when booking.
fn check(conn: &mut PgConnection, who: &Caller, plan: &MeetingPlan) -> Result<Checked, ApiError> {
    let election = elections::find_election(conn, plan.election_id)
        .map_err(|_| ApiError::field("election_id", "no such election"))?;
    let window =
        CampaignWindow::for_election(election.campaign_starts_at, election.polling_starts_at);
    if !window.contains(plan.starts_at, plan.ends_at) {
        return Err(ApiError::unprocessable(
            "outside_campaign_window",
            format!(
                "voter-contact meetings of this election may take place only from {} until {} (24 hours before polling)",
                window.starts_at.to_rfc3339(),
                window.ends_at.to_rfc3339()
            ),
        )
        .with(json!({"campaign_starts_at": window.starts_at, "campaign_ends_at": window.ends_at})));
    }

    let mut errors = FieldErrors::new();
    let units = elections::find_units(conn, &plan.unit_ids)?;
    for id in &plan.unit_ids {
        match units.iter().find(|(u, _)| u.id == *id) {
            None => errors.add("electoral_unit_ids", format!("no such electoral unit {id}")),
            Some((u, _)) if u.election_id != plan.election_id => errors.add(
                "electoral_unit_ids",
                format!("electoral unit {id} belongs to another election"),
            ),
            Some(_) => {}
        }
    }
    let provinces: HashSet<Uuid> = units.iter().map(|(u, _)| u.province_id).collect();
    if provinces.len() > 1 {
        errors.add(
            "electoral_unit_ids",
            "a joint meeting's units must lie in one province",
        );
    }
    let venue_ids: Vec<Uuid> = plan.sites.iter().map(|s| s.venue_id).collect();
    let found_venues = venues::find_many(conn, &venue_ids)?;
    for (i, site) in plan.sites.iter().enumerate() {
        match found_venues.iter().find(|(v, _)| v.id == site.venue_id) {
            None => errors.add(format!("sites[{i}].venue_id"), "no such venue"),
            Some((v, _)) if !provinces.contains(&v.province_id) && !provinces.is_empty() => errors
                .add(
                    format!("sites[{i}].venue_id"),
                    "the venue lies in another province than the electoral units",
                ),
            Some(_) => {}
        }
    }
    let unit_candidates = elections::candidates_of_units(conn, &plan.unit_ids)?;
    let candidate_ids: Vec<Uuid> = match &plan.candidate_ids {
        None => unit_candidates
            .iter()
            .filter(|c| c.status == "active")
            .map(|c| c.id)
            .collect(),
        Some(ids) => {
            for id in ids {
                match unit_candidates.iter().find(|c| c.id == *id) {
                    None => errors.add(
                        "candidate_ids",
                        format!("candidate {id} does not belong to the meeting's electoral units"),
                    ),
                    Some(c) if c.status != "active" => {
                        errors.add("candidate_ids", format!("candidate {id} has withdrawn"))
                    }
                    Some(_) => {}
                }
            }
            ids.clone()
        }
    };
    if candidate_ids.is_empty() && errors.is_empty() {
        errors.add("candidate_ids", "the meeting has no active candidate");
    }
    errors.finish()?;

    for (_, path) in &units {
        who.ensure_write(path)?;
    }
    for (_, path) in &found_venues {
        who.ensure_write(path)?;
    }
    let province_id = units.first().map(|(u, _)| u.province_id).ok_or_else(|| {
        ApiError::field(
            "electoral_unit_ids",
            "at least one electoral unit is required",
        )
    })?;

    health_rules::lock_province_rules(conn, province_id, false)?;
    let site_plans: Vec<SitePlan> = plan
        .sites
        .iter()
        .filter_map(|s| {
            let (v, path) = found_venues.iter().find(|(v, _)| v.id == s.venue_id)?;
            Some(v.facts().map(|venue| SitePlan {
                venue_id: v.id,
                venue,
                venue_region_path: path.clone(),
                expected_attendees: s.expected_attendees,
            }))
        })
        .collect::<Result<_, _>>()?;
    let assessment = assess_plan(
        conn,
        plan.format,
        &site_plans,
        plan.online.as_ref(),
        plan.starts_at,
        plan.ends_at,
    )?;
    if let Some(first) = assessment.problems.first() {
        return Err(ApiError::unprocessable(first.code(), first.describe())
            .with(json!({"problems": assessment.problems})));
    }

    let region_path = match plan.format {
        Format::InPerson => found_venues.first().map(|(_, p)| p.clone()),
        Format::Online => units.iter().map(|(_, p)| p.clone()).max_by_key(Vec::len),
    }
    .unwrap_or_else(|| vec![province_id]);
    let mut candidate_ids = candidate_ids;
    candidate_ids.sort();
    candidate_ids.dedup();
    Ok(Checked {
        province_id,
        region_path,
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

fn assess_plan(
    conn: &mut PgConnection,
    format: Format,
    sites: &[SitePlan],
    online: Option<&OnlinePlan>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<Assessment, ApiError> {
    let regions: Vec<Uuid> = sites
        .iter()
        .flat_map(|s| s.venue_region_path.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rules = health_rules::in_regions_during(conn, &regions, starts_at, ends_at)?;
    Ok(assess(
        format == Format::InPerson,
        sites,
        online.map(|o| (o.expected_attendees, o.max_participants)),
        &rules,
        starts_at,
        ends_at,
    ))
}

/// Writes candidates and sites; the exclusion constraints refuse double bookings, and a
/// refusal names the meeting already holding the candidate or venue.
/// `before` is the meeting as it was, `None` for a new one.
fn book(
    conn: &mut PgConnection,
    id: Uuid,
    plan: &MeetingPlan,
    checked: &Checked,
    travel_buffer: Duration,
    before: Option<&MeetingView>,
) -> Result<(), ApiError> {
    let busy_until = plan.ends_at + travel_buffer;
    let venue_ids: Vec<Uuid> = checked.bookings.iter().map(|b| b.venue_id).collect();
    meetings::queue_bookings(conn, &checked.candidate_ids, &venue_ids)?;
    let booked = conn.transaction(|c| {
        meetings::book_candidates(
            c,
            id,
            checked.province_id,
            before.is_none(),
            &checked.candidate_ids,
            plan.starts_at,
            busy_until,
        )
        .map_err(ApiError::from)
    });
    if let Err(e) = booked {
        if e.code() == "candidate_conflict" {
            if let Some((other, candidate)) = meetings::candidate_clash(
                conn,
                &checked.candidate_ids,
                meetings::range(plan.starts_at, busy_until),
                id,
            )? {
                return Err(ApiError::conflict(
                    "candidate_conflict",
                    format!(
                        "candidate {candidate} is already in meeting {other} at that time (counting {} minutes of travel after each meeting)",
                        travel_buffer.num_minutes()
                    ),
                )
                .with(json!({"conflicting_meeting_id": other, "candidate_id": candidate})));
            }
        }
        return Err(e);
    }
    let booked_venues: Vec<Uuid> = before
        .map(|b| b.sites.iter().map(|s| s.venue_id).collect())
        .unwrap_or_default();
    let booked = conn.transaction(|c| {
        meetings::book_sites(
            c,
            id,
            checked.province_id,
            &booked_venues,
            &checked.bookings,
            plan.starts_at,
            plan.ends_at,
        )
        .map_err(ApiError::from)
    });
    if let Err(e) = booked {
        if e.code() == "venue_conflict" {
            if let Some((other, venue)) = meetings::venue_clash(
                conn,
                &venue_ids,
                meetings::range(plan.starts_at, plan.ends_at),
                id,
            )? {
                return Err(ApiError::conflict(
                    "venue_conflict",
                    format!("venue {venue} already hosts meeting {other} at that time"),
                )
                .with(json!({"conflicting_meeting_id": other, "venue_id": venue})));
            }
        }
        return Err(e);
    }
    Ok(())
}

/// What `attention` (and `affected_meetings`) say of each problem.
fn described(problems: &[Problem]) -> Vec<serde_json::Value> {
    problems
        .iter()
        .map(|p| json!({"code": p.code(), "detail": p.describe(), "problem": p}))
        .collect()
}

fn set_attention(
    conn: &mut PgConnection,
    id: Uuid,
    attention: Vec<serde_json::Value>,
) -> QueryResult<usize> {
    diesel::update(meetings_t::table.find(id))
        .set((
            meetings_t::needs_attention.eq(!attention.is_empty()),
            meetings_t::attention.eq(serde_json::Value::Array(attention)),
        ))
        .execute(conn)
}

/// A planned meeting that the rules now in force would not allow as planned.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedMeeting {
    pub id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub problems: Vec<serde_json::Value>,
}

/// Future planned meetings with a site at a venue inside `region_id`'s subtree overlapping
/// `[from, until)`.
pub fn meetings_reached(
    conn: &mut PgConnection,
    region_id: Uuid,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<Uuid>, ApiError> {
    let mut q = meetings_t::table
        .inner_join(meeting_sites::table.on(meeting_sites::meeting_id.eq(meetings_t::id)))
        .inner_join(venues_t::table.on(venues_t::id.eq(meeting_sites::venue_id)))
        .inner_join(regions::table.on(regions::id.eq(venues_t::region_id)))
        .filter(meetings_t::status.eq("planned"))
        .filter(meetings_t::starts_at.gt(Utc::now()))
        .filter(regions::path.contains(vec![region_id]))
        .filter(meetings_t::ends_at.gt(from))
        .select(meetings_t::id)
        .distinct()
        .into_boxed();
    if let Some(until) = until {
        q = q.filter(meetings_t::starts_at.lt(until));
    }
    Ok(q.load(conn)?)
}

/// Future planned meetings at a venue.
pub fn meetings_at_venue(conn: &mut PgConnection, venue_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(meetings_t::table
        .inner_join(meeting_sites::table.on(meeting_sites::meeting_id.eq(meetings_t::id)))
        .filter(meeting_sites::venue_id.eq(venue_id))
        .filter(meetings_t::status.eq("planned"))
        .filter(meetings_t::starts_at.gt(Utc::now()))
        .select(meetings_t::id)
        .distinct()
        .load(conn)?)
}

/// Re-evaluates planned meetings against the rules and venues now in force (SPEC §3 rule 8):
/// stores each site's effective capacity, flags or clears `needs_attention`, and queues a
/// notice to the organizers of newly flagged meetings. Nothing is cancelled.
/// Returns the meetings that now break a rule.
pub fn reevaluate(
    conn: &mut PgConnection,
    meeting_ids: &[Uuid],
    rule_reference: Option<&str>,
) -> Result<Vec<AffectedMeeting>, ApiError> {
    if meeting_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<MeetingRow> = meetings_t::table
        .filter(meetings_t::id.eq_any(meeting_ids))
        .select(MeetingRow::as_select())
        .order((meetings_t::starts_at, meetings_t::id))
        .for_update()
        .load(conn)?;
    let sites = meetings::sites_of(conn, meeting_ids)?;
    let venue_ids: Vec<Uuid> = sites
        .iter()
        .map(|s| s.venue_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let venues: HashMap<Uuid, (venues::Venue, Vec<Uuid>)> = venues::find_many(conn, &venue_ids)?
        .into_iter()
        .map(|(v, p)| (v.id, (v, p)))
        .collect();
    let regions: Vec<Uuid> = venues
        .values()
        .flat_map(|(_, p)| p.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (earliest, latest) = rows.iter().fold(
        (None, None),
        |(lo, hi): (Option<DateTime<Utc>>, Option<DateTime<Utc>>), m| {
            (
                Some(lo.map_or(m.starts_at, |l| l.min(m.starts_at))),
                Some(hi.map_or(m.ends_at, |h| h.max(m.ends_at))),
            )
        },
    );
    let rules = match (earliest, latest) {
        (Some(from), Some(to)) => health_rules::in_regions_during(conn, &regions, from, to)?,
        _ => Vec::new(),
    };
    let mut affected = Vec::new();
    let mut newly_flagged = Vec::new();
    for m in rows {
        let plans: Vec<SitePlan> = sites
            .iter()
            .filter(|s| s.meeting_id == m.id)
            .filter_map(|s| {
                let (v, path) = venues.get(&s.venue_id)?;
                Some(v.facts().map(|venue| SitePlan {
                    venue_id: v.id,
                    venue,
                    venue_region_path: path.clone(),
                    expected_attendees: s.expected_attendees,
                }))
            })
            .collect::<Result<_, _>>()?;
        let online = m
            .online_max_participants
            .zip(m.online_expected_attendees)
            .map(|(max, e)| (e, max));
        let a = assess(
            m.format == "in_person",
            &plans,
            online,
            &rules,
            m.starts_at,
            m.ends_at,
        );
        let mut changed = false;
        for s in &a.sites {
            let stored = sites
                .iter()
                .find(|x| x.meeting_id == m.id && x.venue_id == s.venue_id);
            if stored.is_some_and(|x| {
                x.effective_capacity != s.verdict.effective_capacity
                    || x.binding_rule_id != s.verdict.binding_rule_id
            }) {
                changed = true;
                diesel::update(
                    meeting_sites::table
                        .filter(meeting_sites::meeting_id.eq(m.id))
                        .filter(meeting_sites::venue_id.eq(s.venue_id)),
                )
                .set((
                    meeting_sites::effective_capacity.eq(s.verdict.effective_capacity),
                    meeting_sites::binding_rule_id.eq(s.verdict.binding_rule_id),
                ))
                .execute(conn)?;
            }
        }
        let flagged = !a.problems.is_empty();
        let attention = described(&a.problems);
        // Rows whose verdict did not change are not written again.
        if m.attention != serde_json::Value::Array(attention.clone()) {
            set_attention(conn, m.id, attention.clone())?;
        }
        if changed || flagged != m.needs_attention {
            diesel::update(meetings_t::table.find(m.id))
                .set((
                    meetings_t::version.eq(meetings_t::version + 1),
                    meetings_t::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
        }
        if flagged {
            if !m.needs_attention {
                newly_flagged.push((
                    m.id,
                    a.problems
                        .iter()
                        .map(Problem::describe)
                        .collect::<Vec<_>>()
                        .join("; "),
                ));
            }
            affected.push(AffectedMeeting {
                id: m.id,
                title: m.title,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                problems: attention,
            });
        }
    }
    if !newly_flagged.is_empty() {
        let ids: Vec<Uuid> = newly_flagged.iter().map(|(id, _)| *id).collect();
        crate::email::outbox::enqueue_attention(conn, rule_reference, &ids, &newly_flagged)?;
    }
    Ok(affected)
}

/// A candidate who withdraws leaves every future planned meeting (the meetings stay, with
/// the other candidates); returns those meetings.
pub fn withdraw_from_future_meetings(
    conn: &mut PgConnection,
    candidate_id: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    use crate::db::schema::meeting_candidates;
    let future = meetings_t::table
        .filter(meetings_t::status.eq("planned"))
        .filter(meetings_t::starts_at.gt(Utc::now()))
        .select(meetings_t::id);
    let left: Vec<Uuid> = diesel::update(
        meeting_candidates::table
            .filter(meeting_candidates::candidate_id.eq(candidate_id))
            .filter(meeting_candidates::active)
            .filter(meeting_candidates::meeting_id.eq_any(future)),
    )
    .set(meeting_candidates::active.eq(false))
    .returning(meeting_candidates::meeting_id)
    .get_results(conn)?;
    diesel::update(meetings_t::table.filter(meetings_t::id.eq_any(&left)))
        .set((
            meetings_t::version.eq(meetings_t::version + 1),
            meetings_t::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(left)
}
