//! Rule 8 (and 13) of SPEC §3, carried out: re-evaluates future planned meetings against the
//! rules and venues now in force, stores each site's new effective capacity, flags or clears
//! `needs_attention` (`domain::reevaluation` decides), and queues one notice to the organizers
//! of the meetings newly flagged. Nothing is cancelled.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Result, Tx};
use crate::db::meetings as db;
use crate::db::{elections, health_rules, venues};
use crate::domain::assessment::{assess, RegionalRule, SitePlan};
use crate::domain::campaign_window::CampaignWindow;
use crate::domain::kinds::Format;
use crate::domain::reevaluation::{
    decide, no_active_candidate, outside_window, AffectedMeeting, Stored, StoredSite,
};
use crate::email::notices;

/// The rules set in any region on the sites' paths whose period overlaps `[from, to)`.
pub fn rules_for(
    tx: &mut Tx<'_>,
    sites: &[SitePlan],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RegionalRule>> {
    let regions: Vec<Uuid> = sites
        .iter()
        .flat_map(|s| s.venue_region_path.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    Ok(health_rules::in_regions_during(tx, &regions, from, to)?
        .iter()
        .map(|r| r.regional())
        .collect())
}

/// What a re-evaluation found and did.
#[derive(Debug, Default)]
pub struct Reevaluated {
    /// The meetings that now break a rule.
    pub affected: Vec<AffectedMeeting>,
    /// The meetings it changed (capacities or the flag): each moved to its next version.
    pub changed: Vec<Uuid>,
}

/// Re-evaluates these meetings of one province (callers go through
/// `meetings::reevaluate`, which audits what changed). `rule_reference` names the rule that
/// changed, for the organizers' notice.
pub fn reevaluate(
    tx: &mut Tx<'_>,
    province_id: Uuid,
    meeting_ids: &[Uuid],
    rule_reference: Option<&str>,
) -> Result<Reevaluated> {
    if meeting_ids.is_empty() {
        return Ok(Reevaluated::default());
    }
    let rows = db::lock_many(tx, province_id, meeting_ids)?;
    let sites = db::sites_of(tx, meeting_ids)?;
    let venue_ids: Vec<Uuid> = sites
        .iter()
        .map(|s| s.venue_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let venues: HashMap<Uuid, (venues::Venue, Vec<Uuid>)> =
        venues::find_many(tx, &venue_ids, Some(province_id))?
            .into_iter()
            .map(|(v, p)| (v.id, (v, p)))
            .collect();
    let with_candidates: HashSet<Uuid> = db::candidates_of(tx, meeting_ids)?
        .into_iter()
        .filter(|(_, _, active)| *active)
        .map(|(m, _, _)| m)
        .collect();
    let plans_of = |meeting: Uuid| -> Vec<SitePlan> {
        sites
            .iter()
            .filter(|s| s.meeting_id == meeting)
            .filter_map(|s| {
                let (v, path) = venues.get(&s.venue_id)?;
                Some(SitePlan {
                    venue_id: v.id,
                    venue: v.facts(),
                    venue_region_path: path.clone(),
                    expected_attendees: s.expected_attendees,
                })
            })
            .collect()
    };
    let all_plans: Vec<SitePlan> = rows.iter().flat_map(|m| plans_of(m.id)).collect();
    let rules = match (
        rows.iter().map(|m| m.starts_at).min(),
        rows.iter().map(|m| m.ends_at).max(),
    ) {
        (Some(from), Some(to)) => rules_for(tx, &all_plans, from, to)?,
        _ => Vec::new(),
    };
    let mut windows: HashMap<Uuid, CampaignWindow> = HashMap::new();
    for election_id in rows.iter().map(|m| m.election_id).collect::<HashSet<_>>() {
        if let Some(e) = elections::find(tx, election_id)? {
            windows.insert(
                election_id,
                CampaignWindow::for_election(e.campaign_starts_at, e.polling_starts_at),
            );
        }
    }
    let now = tx.now();
    let mut affected = Vec::new();
    let mut changed = Vec::new();
    let mut newly_flagged = Vec::new();
    for m in rows {
        let plans = plans_of(m.id);
        let online = m
            .online_max_participants
            .zip(m.online_expected_attendees)
            .map(|(max, expected)| (expected, max));
        let fresh = assess(
            m.format == Format::InPerson,
            &plans,
            online,
            &rules,
            m.starts_at,
            m.ends_at,
        );
        let stored = Stored {
            sites: sites
                .iter()
                .filter(|s| s.meeting_id == m.id)
                .map(|s| StoredSite {
                    venue_id: s.venue_id,
                    effective_capacity: s.effective_capacity,
                    binding_rule_id: s.binding_rule_id,
                })
                .collect(),
            needs_attention: m.needs_attention,
            attention: m.attention.clone(),
        };
        let orphaned = (!with_candidates.contains(&m.id)).then(no_active_candidate);
        let window = windows.get(&m.election_id);
        let outside = window.and_then(|w| outside_window(w, m.starts_at, m.ends_at));
        let verdict = decide(
            &stored,
            &fresh,
            orphaned.into_iter().chain(outside).collect(),
        );
        for s in &verdict.site_updates {
            db::set_site_capacity(
                tx,
                m.id,
                s.venue_id,
                s.effective_capacity,
                s.binding_rule_id,
            )?;
        }
        if let Some(attention) = &verdict.attention {
            db::set_attention(tx, m.province_id, m.id, attention)?;
        }
        if verdict.new_version {
            db::touch(tx, m.province_id, &[m.id], now)?;
            changed.push(m.id);
        }
        if verdict.newly_flagged {
            newly_flagged.push(notices::Flagged {
                meeting_id: m.id,
                problems: fresh.problems.clone(),
                no_active_candidate: !with_candidates.contains(&m.id),
                outside_window: window
                    .filter(|w| w.check(m.starts_at, m.ends_at).is_err())
                    .copied(),
            });
        }
        if verdict.flagged {
            affected.push(AffectedMeeting {
                id: m.id,
                title: m.title,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                problems: verdict.problems,
            });
        }
    }
    let ctx = notices::Context::new(tx.settings(), now);
    notices::attention(tx, &ctx, rule_reference, &newly_flagged)?;
    Ok(Reevaluated { affected, changed })
}

/// Future planned meetings with a site at a venue inside `region_id`'s subtree overlapping
/// `[from, until)`: those a rule there reaches.
pub fn reached_by_rule(
    tx: &mut Tx<'_>,
    region_id: Uuid,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<Uuid>> {
    let now = tx.now();
    Ok(db::planned_in_region(tx, region_id, from, until, now)?)
}
