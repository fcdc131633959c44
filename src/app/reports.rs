//! What the election committee reads: attendance roll-ups by region, unit, candidate or day,
//! overdue reports, and whether every candidate got their fair share of meetings. Tokens see
//! their subtree only.
use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use super::{elections, units, Result, Tx};
use crate::db::regions;
use crate::db::reports::{self as db, CandidateMeetings, Figures, GroupBy, Overdue, Row};
use crate::domain::fairness;
use crate::domain::kinds::Body;
use crate::domain::problem::Problem;
use crate::domain::scope::Caller;

/// The region subtree a report covers: the one asked for, inside the caller's own.
fn report_region(tx: &mut Tx<'_>, who: &Caller, asked: Option<Uuid>) -> Result<Option<Uuid>> {
    match asked {
        None => Ok(who.scope()),
        Some(r) => {
            let region = regions::find(tx, r)?
                .ok_or_else(|| Problem::field("region_id", "no such region"))?;
            who.ensure_reads(&region.path)?;
            Ok(Some(r))
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AttendanceRollup)]
pub struct AttendanceReport {
    pub election_id: Uuid,
    #[schema(required = true)]
    pub region_id: Option<Uuid>,
    pub group_by: GroupBy,
    pub rows: Vec<Row>,
    pub totals: Figures,
    /// A joint meeting counts once under each body.
    pub by_body: Vec<Row>,
}

pub fn attendance(
    tx: &mut Tx<'_>,
    who: &Caller,
    election_id: Uuid,
    region_id: Option<Uuid>,
    by: GroupBy,
) -> Result<AttendanceReport> {
    elections::find(tx, election_id)?;
    let region_id = report_region(tx, who, region_id)?;
    let now = tx.now();
    Ok(AttendanceReport {
        election_id,
        region_id,
        group_by: by,
        rows: db::attendance_rows(tx, election_id, region_id, by, now)?,
        totals: db::attendance_totals(tx, election_id, region_id, now)?,
        by_body: db::attendance_by_body(tx, election_id, region_id, now)?,
    })
}

/// Meetings past their report deadline with no report, with the election they belong to.
pub fn overdue(
    tx: &mut Tx<'_>,
    who: &Caller,
    election_id: Uuid,
    region_id: Option<Uuid>,
) -> Result<(elections::Election, Vec<Overdue>)> {
    let election = elections::find(tx, election_id)?;
    let region_id = report_region(tx, who, region_id)?;
    let now = tx.now();
    Ok((election, db::overdue(tx, election_id, region_id, now)?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CandidateFairness {
    #[serde(flatten)]
    pub meetings: CandidateMeetings,
    /// The election's minimum for the body.
    #[schema(required = true)]
    pub minimum: Option<i64>,
    pub below_minimum: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitFairness {
    pub electoral_unit_id: Uuid,
    pub electoral_unit: String,
    pub body: Body,
    pub candidates: usize,
    #[schema(required = true)]
    pub minimum: Option<i64>,
    pub most_meetings: i64,
    pub least_meetings: i64,
    /// most_meetings - least_meetings
    pub spread: i64,
    /// Candidates below the minimum.
    pub below_minimum: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FairnessReport)]
pub struct Fairness {
    pub candidates: Vec<CandidateFairness>,
    pub units: Vec<UnitFairness>,
    /// Candidates below their body's minimum.
    pub below_minimum: usize,
}

/// What a fairness report covers: one unit, or an election within a region.
#[derive(Debug, Clone, Copy)]
pub enum FairnessOf {
    Unit(Uuid),
    Election {
        election_id: Uuid,
        region_id: Option<Uuid>,
    },
}

pub fn fairness(tx: &mut Tx<'_>, who: &Caller, of: FairnessOf) -> Result<Fairness> {
    let (election_id, unit_id, region_id) = match of {
        FairnessOf::Unit(unit) => {
            let (u, _) = units::find(tx, who, unit)?;
            (u.election_id, Some(unit), None)
        }
        FairnessOf::Election {
            election_id,
            region_id,
        } => (election_id, None, report_region(tx, who, region_id)?),
    };
    let election = elections::find(tx, election_id)?;
    let rows = db::candidate_meetings(tx, election_id, unit_id, region_id)?;
    let minimums = &election.min_meetings_per_candidate;
    let candidates: Vec<CandidateFairness> = rows
        .into_iter()
        .map(|m| {
            let min = fairness::minimum(minimums, m.body);
            CandidateFairness {
                below_minimum: fairness::below_minimum(m.meetings_planned, min),
                minimum: min,
                meetings: m,
            }
        })
        .collect();
    // Units in the order of their body's name, then their own.
    let mut by_unit: BTreeMap<(&str, String, Uuid), (Body, Vec<&CandidateFairness>)> =
        BTreeMap::new();
    for c in &candidates {
        by_unit
            .entry((
                c.meetings.body.as_str(),
                c.meetings.electoral_unit.clone(),
                c.meetings.electoral_unit_id,
            ))
            .or_insert_with(|| (c.meetings.body, Vec::new()))
            .1
            .push(c);
    }
    let units = by_unit
        .into_iter()
        .map(|((_, name, id), (body, cs))| {
            let (most, least, spread) =
                fairness::spread(cs.iter().map(|c| c.meetings.meetings_planned));
            UnitFairness {
                electoral_unit_id: id,
                electoral_unit: name,
                minimum: fairness::minimum(minimums, body),
                body,
                candidates: cs.len(),
                most_meetings: most,
                least_meetings: least,
                spread,
                below_minimum: cs.iter().filter(|c| c.below_minimum).count(),
            }
        })
        .collect();
    Ok(Fairness {
        below_minimum: candidates.iter().filter(|c| c.below_minimum).count(),
        candidates,
        units,
    })
}
