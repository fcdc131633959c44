//! Carrying out the plan: every record and every action through the use cases of `app`, as
//! the service itself, each "as at" the moment the plan gives it (the clock is set before
//! each), many actions to a transaction. Nothing is written here but through a use case.
use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::names;
use super::plan::{self, Fate, Format, Place, Plan, Rule};
use super::schedule;
use crate::app::{
    attendance, candidates, elections, health_rules, meetings, regions, reports, tokens, units,
    venues, Ctx, Tx,
};
use crate::db::attendance::{Opinion, SiteAttendance};
use crate::db::meetings::MeetingFilter;
use crate::db::reports::{Figures, GroupBy};
use crate::domain::kinds::Role;
use crate::domain::scope::Caller;

/// Actions per transaction.
const BATCH: usize = 400;

/// What the demo created, counted by itself as it went.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    pub districts: usize,
    pub communes: usize,
    pub electoral_units: usize,
    pub candidates: usize,
    pub withdrawn: usize,
    pub venues: usize,
    pub health_rules: usize,
    pub meetings_created: usize,
    pub cancelled: usize,
    /// Meetings whose report was filed, and the attendances filed.
    pub held: usize,
    pub attendances: i64,
    /// Meetings not cancelled and not (yet) reported: upcoming, or awaiting their report.
    pub not_held: usize,
    /// Meetings not cancelled, held or not, in person and online.
    pub in_person: usize,
    pub online: usize,
    pub reports_late: usize,
    pub corrections: usize,
    pub check_ins: usize,
    /// Upcoming meetings the day's rule put in breach (mid-campaign).
    pub needs_attention: usize,
    /// Seats per body: National Assembly, provincial, district, commune.
    pub seats: [i32; 4],
}

/// The tokens a user tries the demo with (shown once: only their hashes are stored).
#[derive(Debug, Clone)]
pub struct Tokens {
    pub admin: String,
    pub organizer: String,
    pub organizer_region: String,
    pub observer: String,
}

pub struct Loaded {
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub counted: Counted,
    pub tokens: Tokens,
    /// What `GET /reports/attendance?election_id=…` shows, by the same use case.
    pub report: Figures,
}

type Fail = anyhow::Error;

fn refused(what: impl std::fmt::Display) -> impl FnOnce(crate::app::Error) -> Fail {
    move |e| match &e {
        crate::app::Error::Problem(p) => {
            let fields: Vec<String> = p
                .errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            anyhow::anyhow!("{what}: {:?}: {} {}", p.code, p.detail, fields.join("; "))
        }
        _ => anyhow::anyhow!("{what}: {e}"),
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// The ids of what the plan's records became.
struct Ids {
    province: Uuid,
    election: Uuid,
    districts: Vec<Uuid>,
    communes: Vec<Uuid>,
    units: Vec<Uuid>,
    venues: Vec<Uuid>,
}

impl Ids {
    fn place(&self, p: Place) -> Uuid {
        match p {
            Place::Province => self.province,
            Place::District(d) => self.districts[d],
            Place::Commune(c) => self.communes[c],
        }
    }
}

/// Runs `work` as at `at`, in the transaction it is given.
fn at<T>(
    ctx: &Ctx,
    tx: &mut Tx<'_>,
    when: DateTime<Utc>,
    work: impl FnOnce(&mut Tx<'_>) -> T,
) -> T {
    ctx.env.clock.set(when);
    work(tx)
}

pub fn load(
    ctx: &Ctx,
    conn: &mut PgConnection,
    plan: &Plan,
    who: &Caller,
) -> anyhow::Result<Loaded> {
    let mut counted = Counted::default();
    let started = std::time::Instant::now();
    let ids = set_up(ctx, conn, plan, who, &mut counted)?;
    tracing::info!(elapsed = ?started.elapsed(), "demo: regions, election, units, candidates, venues");
    let meeting_ids = campaign(ctx, conn, plan, who, &ids, &mut counted)?;
    tracing::info!(elapsed = ?started.elapsed(), "demo: rules and meetings");
    attend(
        ctx,
        conn,
        plan,
        who,
        ids.election,
        &meeting_ids,
        &mut counted,
    )?;
    tracing::info!(elapsed = ?started.elapsed(), "demo: check-ins and reports");
    if let Some(rule) = &plan.attention_rule {
        let change = ctx
            .tx_on(conn, |tx| {
                at(ctx, tx, rule.announced_at, |tx| {
                    create_rule(tx, who, &ids, rule)
                })
            })
            .map_err(refused(rule.reference))?;
        counted.health_rules += 1;
        counted.needs_attention = change.affected_meetings.len();
    }
    ctx.env.clock.set(Utc::now());
    let tokens = issue_tokens(ctx, conn, plan, who, &ids)?;
    let report = ctx
        .tx_on(conn, |tx| {
            reports::attendance(tx, who, ids.election, None, GroupBy::Region)
        })
        .map_err(refused("the attendance report"))?
        .totals;
    Ok(Loaded {
        province_id: ids.province,
        election_id: ids.election,
        counted,
        tokens,
        report,
    })
}

/// The election, regions, units and their candidates, venues: a week before the campaign;
/// the candidates who withdraw, two days before it.
fn set_up(
    ctx: &Ctx,
    conn: &mut PgConnection,
    plan: &Plan,
    who: &Caller,
    counted: &mut Counted,
) -> anyhow::Result<Ids> {
    let c = &plan.campaign;
    let week_before = c.campaign_starts_at() - TimeDelta::days(7);
    let (province, election) = ctx
        .tx_on(conn, |tx| {
            at(ctx, tx, week_before - TimeDelta::days(3), |tx| {
                let election = elections::create(
                    tx,
                    who,
                    elections::NewElection {
                        name: names::ELECTION.to_owned(),
                        polling_starts_at: rfc3339(c.polling_starts_at),
                        campaign_starts_at: rfc3339(c.campaign_starts_at()),
                        timezone: Some(plan::TIME_ZONE.name().to_owned()),
                        report_deadline_hours: Some(plan::REPORT_DEADLINE_HOURS),
                        min_meetings_per_candidate: Some(
                            serde_json::json!({"national_assembly": 10, "province_council": 5}),
                        ),
                    },
                )?;
                let province = regions::create(
                    tx,
                    who,
                    regions::NewRegion {
                        name: plan.seed.name.to_owned(),
                        level: "province".to_owned(),
                        parent_id: None,
                        code: Some(plan.seed.code.to_owned()),
                        contact_email: Some(format!("mttq@{}", plan.seed.mail_domain)),
                    },
                )?;
                Ok((province.id, election.id))
            })
        })
        .map_err(refused("the province and the election"))?;
    let mut ids = Ids {
        province,
        election,
        districts: Vec::new(),
        communes: Vec::new(),
        units: Vec::new(),
        venues: Vec::new(),
    };
    ctx.env.clock.set(week_before);
    for (d, district) in plan.districts.iter().enumerate() {
        let new = regions::NewRegion {
            name: district.name.clone(),
            level: "district".to_owned(),
            parent_id: Some(province),
            code: Some(district.code.clone()),
            contact_email: Some(district.contact_email.clone()),
        };
        let communes: Vec<regions::NewRegion> = plan
            .communes
            .iter()
            .filter(|c| c.district == d)
            .map(|c| regions::NewRegion {
                name: c.name.clone(),
                level: "commune".to_owned(),
                parent_id: None,
                code: None,
                contact_email: c.contact_email.clone(),
            })
            .collect();
        let (district_id, commune_ids) = ctx
            .tx_on(conn, |tx| {
                let district_id = regions::create(tx, who, new)?.id;
                let mut ids = Vec::new();
                for mut c in communes {
                    c.parent_id = Some(district_id);
                    ids.push(regions::create(tx, who, c)?.id);
                }
                Ok((district_id, ids))
            })
            .map_err(refused(&district.name))?;
        ids.districts.push(district_id);
        ids.communes.extend(commune_ids);
    }
    counted.districts = ids.districts.len();
    counted.communes = ids.communes.len();
    for chunk in plan.units.chunks(BATCH / 8) {
        let made = ctx
            .tx_on(conn, |tx| {
                let mut made = Vec::new();
                for u in chunk {
                    let unit = units::create(
                        tx,
                        who,
                        election,
                        units::NewUnit {
                            name: u.name.clone(),
                            body: u.body.as_str().to_owned(),
                            region_id: ids.place(u.place),
                            seats: u.seats,
                        },
                    )?;
                    let mut of_unit = Vec::new();
                    for p in &u.candidates {
                        let candidate = candidates::create(
                            tx,
                            who,
                            unit.id,
                            candidates::NewCandidate {
                                full_name: p.full_name.clone(),
                                email: p.email.clone(),
                                locale: Some(p.locale.to_owned()),
                            },
                        )?;
                        of_unit.push(candidate.id);
                    }
                    made.push((unit.id, of_unit));
                }
                Ok(made)
            })
            .map_err(refused("electoral units and candidates"))?;
        ids.units.extend(made.iter().map(|(u, _)| *u));
        let first = ids.units.len() - made.len();
        let withdrawals: Vec<Uuid> = made
            .iter()
            .enumerate()
            .flat_map(|(k, (_, cs))| plan.units[first + k].withdrawn.iter().map(|i| cs[*i]))
            .collect();
        counted.candidates += made.iter().map(|(_, cs)| cs.len()).sum::<usize>();
        ctx.tx_on(conn, |tx| {
            at(ctx, tx, c.campaign_starts_at() - TimeDelta::days(2), |tx| {
                for id in &withdrawals {
                    candidates::patch(
                        tx,
                        who,
                        *id,
                        candidates::CandidatePatch {
                            status: Some("withdrawn".to_owned()),
                            ..Default::default()
                        },
                    )?;
                }
                Ok(())
            })
        })
        .map_err(refused("a withdrawal"))?;
        counted.withdrawn += withdrawals.len();
        ctx.env.clock.set(week_before);
    }
    counted.electoral_units = ids.units.len();
    for body in [0, 1, 2, 3] {
        let b = [
            crate::domain::kinds::Body::NationalAssembly,
            crate::domain::kinds::Body::ProvinceCouncil,
            crate::domain::kinds::Body::DistrictCouncil,
            crate::domain::kinds::Body::CommuneCouncil,
        ][body];
        counted.seats[body] = plan.seats(b);
    }
    for chunk in plan.venues.chunks(BATCH) {
        let made = ctx
            .tx_on(conn, |tx| {
                chunk
                    .iter()
                    .map(|v| {
                        venues::create(
                            tx,
                            who,
                            &venues::NewVenue {
                                name: v.name.clone(),
                                region_id: ids.place(v.place),
                                address: v.address.clone(),
                                capacity: v.capacity,
                                area_m2: v.area_m2.map(|a| a.round()),
                                setting: v.setting.as_str().to_owned(),
                            },
                        )
                        .map(|v| v.id)
                    })
                    .collect::<crate::app::Result<Vec<Uuid>>>()
            })
            .map_err(refused("venues"))?;
        ids.venues.extend(made);
    }
    counted.venues = ids.venues.len();
    Ok(ids)
}

fn create_rule(
    tx: &mut Tx<'_>,
    who: &Caller,
    ids: &Ids,
    r: &Rule,
) -> crate::app::Result<health_rules::RuleChange> {
    health_rules::create(
        tx,
        who,
        &health_rules::RuleFields {
            region_id: Some(ids.place(r.place)),
            effective_from: Some(rfc3339(r.effective_from)),
            effective_until: Some(r.effective_until.map(rfc3339)),
            applies_to: Some(r.applies_to.to_owned()),
            max_attendees: Some(r.max_attendees),
            max_occupancy_percent: Some(r.max_occupancy_percent),
            min_area_per_person_m2: Some(r.min_area_per_person_m2),
            combine: None,
            reference: Some(Some(r.reference.to_owned())),
            in_person_allowed: Some(r.in_person_allowed),
        },
    )
}

/// One step of the campaign, in the order of time.
enum Step {
    Rule(usize),
    Plan(usize),
    Cancel(usize),
}

/// The campaign as it went: rules announced, meetings planned, some cancelled — each at its
/// moment. Returns the meetings' ids, in the plan's order.
fn campaign(
    ctx: &Ctx,
    conn: &mut PgConnection,
    plan: &Plan,
    who: &Caller,
    ids: &Ids,
    counted: &mut Counted,
) -> anyhow::Result<Vec<Uuid>> {
    let mut steps: Vec<(DateTime<Utc>, Step)> = plan
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.announced_at, Step::Rule(i)))
        .collect();
    for (i, m) in plan.meetings.iter().enumerate() {
        steps.push((m.planned_at, Step::Plan(i)));
        if let Fate::Cancelled { at, .. } = m.fate {
            steps.push((at, Step::Cancel(i)));
        }
    }
    steps.sort_by_key(|(t, s)| (*t, matches!(s, Step::Cancel(_))));
    let mut meeting_ids = vec![Uuid::nil(); plan.meetings.len()];
    for chunk in steps.chunks(BATCH) {
        let planned = ctx
            .tx_on(conn, |tx| {
                let mut planned: Vec<(usize, Uuid)> = Vec::new();
                for (when, step) in chunk {
                    ctx.env.clock.set(*when);
                    match step {
                        Step::Rule(i) => {
                            create_rule(tx, who, ids, &plan.rules[*i])?;
                        }
                        Step::Plan(i) => planned.push((*i, plan_meeting(tx, who, plan, ids, *i)?)),
                        Step::Cancel(i) => {
                            let id = planned
                                .iter()
                                .find(|(k, _)| k == i)
                                .map_or(meeting_ids[*i], |(_, id)| *id);
                            let Fate::Cancelled { reason, .. } = plan.meetings[*i].fate else {
                                continue;
                            };
                            meetings::cancel(tx, who, id, reason)?;
                        }
                    }
                }
                Ok(planned)
            })
            .map_err(refused("the campaign"))?;
        for (i, id) in planned {
            meeting_ids[i] = id;
        }
    }
    counted.health_rules = plan.rules.len();
    counted.meetings_created = plan.meetings.len();
    counted.cancelled = plan
        .meetings
        .iter()
        .filter(|m| matches!(m.fate, Fate::Cancelled { .. }))
        .count();
    Ok(meeting_ids)
}

/// Plans meeting `i` with as many expected at each site as the rules in force then allow.
fn plan_meeting(
    tx: &mut Tx<'_>,
    who: &Caller,
    plan: &Plan,
    ids: &Ids,
    i: usize,
) -> crate::app::Result<Uuid> {
    let m = &plan.meetings[i];
    let (starts_at, ends_at) = (rfc3339(m.starts_at), rfc3339(m.ends_at));
    let mut sites = Vec::new();
    for v in &m.sites {
        let venue_id = ids.venues[*v];
        let cap = health_rules::venue_capacity(tx, who, venue_id, &starts_at, &ends_at)?;
        if !cap.in_person_allowed {
            return Err(crate::app::Error::internal(format!(
                "the plan put {} at a venue where gatherings are banned",
                m.title
            )));
        }
        sites.push(meetings::SiteIn {
            venue_id,
            expected_attendees: m.expected.min(cap.effective_capacity),
        });
    }
    let meeting = meetings::plan(
        tx,
        who,
        &meetings::NewMeeting {
            election_id: ids.election,
            electoral_unit_ids: m.units.iter().map(|u| ids.units[*u]).collect(),
            format: if m.format == Format::InPerson {
                "in_person"
            } else {
                "online"
            }
            .to_owned(),
            title: Some(m.title.clone()),
            chair: Some(meetings::ChairIn {
                name: m.chair.0.clone(),
                role: Some(m.chair.1.clone()),
            }),
            starts_at,
            ends_at,
            candidate_ids: None,
            sites,
            online: m.online.as_ref().map(|o| meetings::OnlineIn {
                platform: Some(o.platform.to_owned()),
                join_url: Some(o.join_url.clone()),
                max_participants: o.max_participants,
                expected_attendees: o.expected_attendees,
            }),
        },
    )?;
    Ok(meeting.id)
}

/// What one held meeting's report says.
struct Filed {
    meeting: usize,
    sites: Vec<(Uuid, i32)>,
    online: Option<i32>,
}

impl Filed {
    fn total(&self) -> i32 {
        self.sites.iter().map(|(_, n)| n).sum::<i32>() + self.online.unwrap_or(0)
    }
}

/// A meeting's sites with their effective capacities, and its online maximum.
type Shape = (Vec<(Uuid, i32)>, Option<i32>);

/// One step after the meetings: a door check-in, a report, a correction.
enum After {
    CheckIn(usize),
    Report(usize),
    Correct(usize),
}

/// The attendances, spread over the meetings reported within what each may hold: the
/// reference province's 130,735 for the finished campaign, its average per meeting in the
/// middle of one. Then check-ins at the door, reports, late reports and corrections, each at
/// its moment.
fn attend(
    ctx: &Ctx,
    conn: &mut PgConnection,
    plan: &Plan,
    who: &Caller,
    election_id: Uuid,
    meeting_ids: &[Uuid],
    counted: &mut Counted,
) -> anyhow::Result<()> {
    let now = plan.campaign.now;
    let reported: Vec<usize> = (0..plan.meetings.len())
        .filter(
            |i| matches!(plan.meetings[*i].fate, Fate::Held { filed_at: Some(f), .. } if f <= now),
        )
        .collect();
    // Capacities as they stand once every rule is known: a meeting that has ended keeps them.
    let mut by_id: HashMap<Uuid, Shape> = HashMap::new();
    ctx.tx_on(conn, |tx| {
        let mut after = None;
        loop {
            let page = meetings::list(
                tx,
                who,
                MeetingFilter {
                    scope: None,
                    election_id: Some(election_id),
                    electoral_unit_id: None,
                    region_id: None,
                    candidate_id: None,
                    status: None,
                    format: None,
                    from: None,
                    to: None,
                    needs_attention: None,
                    updated_since: None,
                    q: None,
                    after,
                    limit: 500,
                },
            )?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some((last.starts_at, last.id));
            for m in page {
                let sites = m.sites.iter().map(|s| (s.id, s.effective_capacity));
                by_id.insert(
                    m.id,
                    (sites.collect(), m.online.map(|o| o.max_participants)),
                );
            }
        }
    })
    .map_err(refused("the meetings held"))?;
    let shapes = reported
        .iter()
        .map(|i| {
            by_id
                .remove(&meeting_ids[*i])
                .ok_or_else(|| anyhow::anyhow!("meeting {} was not loaded", meeting_ids[*i]))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let caps: Vec<i64> = shapes
        .iter()
        .map(|(sites, online)| {
            sites.iter().map(|(_, c)| i64::from(*c)).sum::<i64>() + i64::from(online.unwrap_or(0))
        })
        .collect();
    let weights: Vec<f64> = reported
        .iter()
        .map(|i| match plan.meetings[*i].fate {
            Fate::Held { weight, .. } => weight,
            Fate::Cancelled { .. } => 0.0,
        })
        .collect();
    let target = match plan.mode {
        plan::Mode::Finished => plan::REFERENCE_ATTENDANCES,
        plan::Mode::MidCampaign { .. } => (reported.len() as f64
            * plan::REFERENCE_ATTENDANCES as f64
            / plan::REFERENCE_HELD as f64)
            .round() as i64,
    };
    let totals = schedule::distribute(target, &caps, &weights)
        .ok_or_else(|| anyhow::anyhow!("the venues cannot hold {target} attendances"))?;
    let mut filed: Vec<Filed> = Vec::with_capacity(reported.len());
    for ((i, (sites, online)), total) in reported.iter().zip(shapes).zip(totals) {
        let mut parts: Vec<i64> = sites.iter().map(|(_, c)| i64::from(*c)).collect();
        parts.extend(online.map(i64::from));
        let split = schedule::distribute(total, &parts, &vec![1.0; parts.len()])
            .ok_or_else(|| anyhow::anyhow!("a meeting cannot hold {total}"))?;
        filed.push(Filed {
            meeting: *i,
            sites: sites
                .iter()
                .zip(&split)
                .map(|((id, _), n)| (*id, *n as i32))
                .collect(),
            online: online.map(|_| split[sites.len()] as i32),
        });
    }
    let mut steps: Vec<(DateTime<Utc>, After)> = Vec::new();
    for (k, f) in filed.iter().enumerate() {
        let m = &plan.meetings[f.meeting];
        let Fate::Held {
            checked_in,
            filed_at: Some(filed_at),
            corrected_at,
            ..
        } = m.fate
        else {
            continue;
        };
        if checked_in && f.total() > 0 {
            steps.push((m.starts_at + TimeDelta::minutes(10), After::CheckIn(k)));
        }
        steps.push((filed_at, After::Report(k)));
        if let Some(t) = corrected_at.filter(|t| *t <= now) {
            steps.push((t, After::Correct(k)));
        }
    }
    steps.sort_by_key(|(t, _)| *t);
    for chunk in steps.chunks(BATCH) {
        ctx.tx_on(conn, |tx| {
            for (when, step) in chunk {
                ctx.env.clock.set(*when);
                match step {
                    After::CheckIn(k) => check_in(tx, who, meeting_ids, &filed[*k])?,
                    After::Report(k) => {
                        report(tx, who, plan, meeting_ids, &filed[*k], false)?;
                    }
                    After::Correct(k) => {
                        report(tx, who, plan, meeting_ids, &filed[*k], true)?;
                    }
                }
            }
            Ok(())
        })
        .map_err(refused("attendance"))?;
    }
    for (when, step) in &steps {
        match step {
            After::CheckIn(_) => counted.check_ins += 1,
            After::Correct(_) => counted.corrections += 1,
            After::Report(k) => {
                let m = &plan.meetings[filed[*k].meeting];
                if *when > m.ends_at + TimeDelta::hours(i64::from(plan::REPORT_DEADLINE_HOURS)) {
                    counted.reports_late += 1;
                }
            }
        }
    }
    counted.held = filed.len();
    counted.attendances = filed.iter().map(|f| i64::from(f.total())).sum();
    counted.not_held = plan.meetings.len() - counted.cancelled - counted.held;
    let standing = plan
        .meetings
        .iter()
        .filter(|m| !matches!(m.fate, Fate::Cancelled { .. }));
    for m in standing {
        if m.format == Format::InPerson {
            counted.in_person += 1;
        } else {
            counted.online += 1;
        }
    }
    Ok(())
}

/// The door counters: everyone who came, site by site, and the online block.
fn check_in(
    tx: &mut Tx<'_>,
    who: &Caller,
    meeting_ids: &[Uuid],
    f: &Filed,
) -> crate::app::Result<()> {
    let id = meeting_ids[f.meeting];
    let counts = f
        .sites
        .iter()
        .map(|(site, n)| (Some(*site), *n))
        .chain(f.online.map(|n| (None, n)));
    for (site_id, n) in counts.filter(|(_, n)| *n > 0) {
        attendance::check_in(
            tx,
            who,
            id,
            &attendance::CheckIn {
                site_id,
                count: Some(n),
            },
        )?;
    }
    Ok(())
}

/// Files the report; a report later corrected was first filed with a slip in the first
/// site's (or the online) count.
fn report(
    tx: &mut Tx<'_>,
    who: &Caller,
    plan: &Plan,
    meeting_ids: &[Uuid],
    f: &Filed,
    correcting: bool,
) -> crate::app::Result<()> {
    let m = &plan.meetings[f.meeting];
    let Fate::Held {
        corrected_at,
        ref opinions,
        more_opinions,
        notes,
        ..
    } = m.fate
    else {
        return Ok(());
    };
    let mut sites = f.sites.clone();
    let mut online = f.online;
    if corrected_at.is_some_and(|t| t <= plan.campaign.now) && !correcting {
        match sites.first_mut() {
            Some((_, n)) if *n > 0 => *n -= (*n).min(5),
            _ => {
                if let Some(n) = online.as_mut() {
                    *n -= (*n).min(5);
                }
            }
        }
    }
    let attendees = sites.iter().map(|(_, n)| n).sum::<i32>() + online.unwrap_or(0);
    let opinions: Vec<Opinion> = opinions
        .iter()
        .map(|o| {
            let (topic, text) = names::OPINIONS[*o];
            Opinion {
                topic: Some(topic.to_owned()),
                text: Some(text.to_owned()),
            }
        })
        .collect();
    attendance::file_report(
        tx,
        who,
        meeting_ids[f.meeting],
        &attendance::ReportRequest {
            attendees,
            sites: sites
                .into_iter()
                .map(|(site_id, attendees)| SiteAttendance { site_id, attendees })
                .collect(),
            online_attendees: online,
            opinions_count: Some(opinions.len() as i32 + more_opinions),
            opinions,
            notes: notes.map(|n| names::NOTES[n].to_owned()),
            correction_reason: correcting.then(|| names::CORRECTION_REASON.to_owned()),
        },
        // A correction names the revision it corrects: the first, filed with the slip.
        correcting.then_some(meetings::Expected::Version(1)),
    )?;
    Ok(())
}

/// An admin, an organizer for the first district and an observer for the province.
fn issue_tokens(
    ctx: &Ctx,
    conn: &mut PgConnection,
    plan: &Plan,
    who: &Caller,
    ids: &Ids,
) -> anyhow::Result<Tokens> {
    let district = plan
        .districts
        .first()
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let issue = |name: String, role: Role, region_id: Option<Uuid>| tokens::NewToken {
        name,
        role: role.as_str().to_owned(),
        region_id,
    };
    let wanted = [
        issue(super::admin_token_name(plan.seed.name), Role::Admin, None),
        issue(
            format!("demo: ban tổ chức {district}"),
            Role::Organizer,
            ids.districts.first().copied(),
        ),
        issue(
            format!("demo: quan sát {}", plan.seed.name),
            Role::Observer,
            Some(ids.province),
        ),
    ];
    let issued = ctx
        .tx_on(conn, |tx| {
            wanted
                .iter()
                .map(|t| tokens::create(tx, who, t.clone()).map(|i| i.token))
                .collect::<crate::app::Result<Vec<String>>>()
        })
        .map_err(refused("the demo's tokens"))?;
    let [admin, organizer, observer]: [String; 3] = issued
        .try_into()
        .map_err(|_| anyhow::anyhow!("three tokens were asked for"))?;
    Ok(Tokens {
        admin,
        organizer,
        organizer_region: district,
        observer,
    })
}
