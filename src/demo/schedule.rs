//! The meetings of the plan: how many of each kind, which are cancelled or online, and a
//! slot for each where its candidates and its venues are free (and the rules of the place
//! allow it); then what becomes of each — check-ins, reports, late ones, corrections.
use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::names::{self, Covid};
use super::plan::{
    person, pick, Fate, Format, Kind, Meeting, Mode, Online, Place, Plan, REFERENCE_ONLINE, SLOTS,
};
use crate::domain::kinds::Body;

/// The share of meetings of each kind, in the order of [`Kind::ALL`].
const MIX: [f64; 5] = [0.02, 0.04, 0.28, 0.26, 0.40];
/// The finished campaign's meetings held, and cancelled, of each kind (1,893 held).
const FINISHED_HELD: [usize; 5] = [60, 40, 300, 500, 993];
const FINISHED_CANCELLED: [usize; 5] = [0, 1, 6, 7, 10];
/// Its 21 online meetings: held from the banned town during the ban, and with connection
/// points elsewhere.
const FINISHED_ONLINE_BANNED: usize = 12;
const FINISHED_ONLINE_POINTS: usize = REFERENCE_ONLINE - FINISHED_ONLINE_BANNED;
const CHECKED_IN_SHARE: f64 = 0.10;
const LATE_SHARE: f64 = 0.05;
const MISSING_SHARE: f64 = 0.02;
const CORRECTED_SHARE: f64 = 0.012;

/// A meeting to schedule.
struct Request {
    kind: Kind,
    units: Vec<usize>,
    district: usize,
    commune: Option<usize>,
    format: Format,
    cancelled: bool,
}

/// How many meetings of each kind to ask for, and how many to cancel, put online with
/// connection points, and hold online because of the ban.
struct Quota {
    created: [usize; 5],
    cancelled: [usize; 5],
    online_points: usize,
    online_banned: usize,
}

fn quota(mode: Mode) -> Quota {
    match mode {
        Mode::Finished => Quota {
            created: std::array::from_fn(|k| FINISHED_HELD[k] + FINISHED_CANCELLED[k]),
            cancelled: FINISHED_CANCELLED,
            online_points: FINISHED_ONLINE_POINTS,
            online_banned: FINISHED_ONLINE_BANNED,
        },
        Mode::MidCampaign { meetings } => {
            let n = meetings as f64;
            let mut created = MIX.map(|share| (n * share).round() as usize);
            let others: usize = created[..4].iter().sum();
            created[4] = meetings.saturating_sub(others);
            // At least one of each story, however few the meetings: the largest kinds first.
            let at_least_one = |x: f64| (x.round() as usize).max(usize::from(meetings >= 20));
            let mut cancelled = [0; 5];
            for k in [4, 2, 3, 1, 0].iter().cycle().take(at_least_one(n * 0.015)) {
                cancelled[*k] += usize::from(cancelled[*k] < created[*k]);
            }
            Quota {
                cancelled,
                created,
                online_points: at_least_one(n * 0.008),
                online_banned: at_least_one(n * 0.004),
            }
        }
    }
}

fn requests(plan: &Plan, rng: &mut StdRng) -> Vec<Request> {
    let q = quota(plan.mode);
    let of_body = |body: Body| -> Vec<usize> {
        (0..plan.units.len())
            .filter(|u| plan.units[*u].body == body)
            .collect()
    };
    let national = of_body(Body::NationalAssembly);
    let mut out = Vec::new();
    for (k, kind) in Kind::ALL.iter().enumerate() {
        let owners = match kind {
            Kind::National => national.clone(),
            Kind::Joint | Kind::Province => of_body(Body::ProvinceCouncil),
            Kind::District => of_body(Body::DistrictCouncil),
            Kind::Commune => of_body(Body::CommuneCouncil),
        };
        if owners.is_empty() {
            continue;
        }
        let cancel_every = (q.cancelled[k] > 0).then(|| q.created[k] / q.cancelled[k]);
        for i in 0..q.created[k] {
            let owner = owners[i % owners.len()];
            let unit = &plan.units[owner];
            let round = i / owners.len();
            let district = unit.districts[round % unit.districts.len().max(1)];
            let commune = match unit.place {
                Place::Commune(c) => Some(c),
                _ => {
                    let of_district: Vec<usize> = (0..plan.communes.len())
                        .filter(|c| plan.communes[*c].district == district)
                        .collect();
                    // Every third meeting of a district's unit is at the district hall.
                    (round % 3 != 0 && !of_district.is_empty())
                        .then(|| of_district[(round + owner) % of_district.len()])
                }
            };
            let units = match kind {
                Kind::Joint => {
                    let na = national
                        .iter()
                        .copied()
                        .find(|n| plan.units[*n].districts.contains(&district));
                    na.into_iter().chain([owner]).collect()
                }
                _ => vec![owner],
            };
            let cancelled = cancel_every.is_some_and(|e| i % e == e / 2 && i / e < q.cancelled[k]);
            out.push(Request {
                kind: *kind,
                units,
                district,
                commune,
                format: Format::InPerson,
                cancelled,
            });
        }
    }
    let banned = plan.districts.iter().position(|d| d.covid == Covid::Banned);
    let mark = |out: &mut Vec<Request>,
                wanted: usize,
                format: Format,
                fits: &dyn Fn(&Request) -> bool| {
        let eligible: Vec<usize> = (0..out.len())
            .filter(|i| !out[*i].cancelled && out[*i].format == Format::InPerson && fits(&out[*i]))
            .collect();
        if wanted == 0 || eligible.is_empty() {
            return;
        }
        let step = (eligible.len() / wanted).max(1);
        for i in eligible.iter().step_by(step).take(wanted) {
            out[*i].format = format;
        }
    };
    mark(&mut out, q.online_banned, Format::OnlineOnly, &|r| {
        Some(r.district) == banned && r.kind != Kind::National && r.kind != Kind::Joint
    });
    mark(&mut out, q.online_points, Format::OnlinePoints, &|r| {
        Some(r.district) != banned
            && matches!(r.kind, Kind::National | Kind::Joint | Kind::Province)
    });
    out.shuffle(rng);
    out
}

/// Who is busy at which slot: units (their candidates meet together) and venues.
struct Calendar {
    units: Vec<Vec<bool>>,
    venues: Vec<Vec<bool>>,
}

pub fn meetings(plan: &mut Plan, rng: &mut StdRng) -> Result<(), String> {
    let requests = requests(plan, rng);
    let c = &plan.campaign;
    let slots = c.slots();
    let mut cal = Calendar {
        units: vec![vec![false; slots]; plan.units.len()],
        venues: vec![vec![false; slots]; plan.venues.len()],
    };
    let day_weights: Vec<f64> = (0..c.days).map(|d| c.day_weight(d)).collect();
    let total_weight: f64 = day_weights.iter().sum();
    let banned = plan.districts.iter().position(|d| d.covid == Covid::Banned);
    let mut out = Vec::with_capacity(requests.len());
    let mut unscheduled = 0;
    for r in requests {
        let mut x = rng.random_range(0.0..total_weight);
        let mut day = 0;
        while day + 1 < day_weights.len() && x >= day_weights[day] {
            x -= day_weights[day];
            day += 1;
        }
        let start = day * SLOTS.len() + rng.random_range(0..SLOTS.len());
        let places: Vec<usize> = match r.commune {
            Some(cm) => plan.communes[cm].venues.clone(),
            None => vec![plan.districts[r.district].hall],
        };
        let points = match r.format {
            Format::InPerson => 1,
            Format::OnlinePoints => 2.min(places.len()),
            Format::OnlineOnly => 0,
        };
        let offset = rng.random_range(0..places.len().max(1));
        let found = (0..slots).map(|k| (start + k) % slots).find_map(|s| {
            if r.units.iter().any(|u| cal.units[*u][s]) {
                return None;
            }
            let in_ban = Some(r.district) == banned && c.banned(s);
            if (r.format == Format::OnlineOnly) != in_ban {
                return None;
            }
            let free: Vec<usize> = (0..places.len())
                .map(|k| places[(offset + k) % places.len()])
                .filter(|v| !cal.venues[*v][s])
                .take(points)
                .collect();
            (free.len() == points).then_some((s, free))
        });
        let Some((slot, sites)) = found else {
            unscheduled += 1;
            continue;
        };
        for u in &r.units {
            cal.units[*u][slot] = true;
        }
        for v in &sites {
            cal.venues[*v][slot] = true;
        }
        let (starts_at, ends_at) = c.slot(slot);
        out.push(meeting(plan, rng, r, sites, starts_at, ends_at));
    }
    if plan.mode == Mode::Finished && unscheduled > 0 {
        return Err(format!("{unscheduled} meetings found no free slot"));
    }
    plan.unscheduled = unscheduled;
    out.sort_by_key(|m| m.starts_at);
    plan.meetings = out;
    Ok(())
}

fn meeting(
    plan: &Plan,
    rng: &mut StdRng,
    r: Request,
    sites: Vec<usize>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Meeting {
    let c = &plan.campaign;
    let district = &plan.districts[r.district];
    let place = match r.commune {
        Some(cm) => names::in_sentence(&plan.communes[cm].name),
        None => names::in_sentence(&district.name),
    };
    let (who, chair_role) = match r.kind {
        Kind::National => (
            "người ứng cử đại biểu Quốc hội khóa XV",
            "Phó Chủ tịch Ủy ban MTTQ Việt Nam tỉnh".to_owned(),
        ),
        Kind::Joint => (
            "người ứng cử đại biểu Quốc hội và HĐND tỉnh",
            "Phó Chủ tịch Ủy ban MTTQ Việt Nam tỉnh".to_owned(),
        ),
        Kind::Province => (
            "người ứng cử đại biểu HĐND tỉnh",
            "Phó Chủ tịch Ủy ban MTTQ Việt Nam tỉnh".to_owned(),
        ),
        Kind::District => (
            "người ứng cử đại biểu HĐND cấp huyện",
            format!(
                "Chủ tịch Ủy ban MTTQ Việt Nam {}",
                names::in_sentence(&district.name)
            ),
        ),
        Kind::Commune => (
            "người ứng cử đại biểu HĐND cấp xã",
            format!("Chủ tịch Ủy ban MTTQ Việt Nam {place}"),
        ),
    };
    let title = match r.format {
        Format::InPerson => format!("Hội nghị tiếp xúc cử tri của {who} tại {place}"),
        _ => format!("Hội nghị trực tuyến tiếp xúc cử tri của {who}, {place}"),
    };
    let online = (r.format != Format::InPerson).then(|| {
        let platform = *pick(rng, &names::PLATFORMS);
        Online {
            platform,
            join_url: format!(
                "https://hop.{}/tiep-xuc-cu-tri/{}-{}",
                plan.seed.mail_domain,
                names::ascii_slug(&place),
                starts_at.timestamp()
            ),
            max_participants: if r.format == Format::OnlineOnly {
                250
            } else {
                150
            },
            expected_attendees: rng.random_range(40..=90),
        }
    });
    let ahead = (starts_at - TimeDelta::days(2))
        .max(c.campaign_starts_at() - TimeDelta::hours(12))
        .min(c.now - TimeDelta::hours(1));
    let fate = if r.cancelled {
        Fate::Cancelled {
            at: (starts_at - TimeDelta::days(1))
                .max(ahead + TimeDelta::hours(1))
                .min(c.now - TimeDelta::minutes(30)),
            reason: names::CANCEL_REASONS[rng.random_range(0..names::CANCEL_REASONS.len())],
        }
    } else {
        let roll: f64 = rng.random_range(0.0..1.0);
        let filed_at = if plan.mode != Mode::Finished && roll < MISSING_SHARE {
            None
        } else if roll < MISSING_SHARE + LATE_SHARE {
            Some(ends_at + TimeDelta::hours(rng.random_range(26..60)))
        } else {
            Some(ends_at + TimeDelta::minutes(rng.random_range(30..20 * 60)))
        };
        let corrected_at = (rng.random_range(0.0..1.0) < CORRECTED_SHARE)
            .then(|| filed_at.map(|f| f + TimeDelta::hours(rng.random_range(30..120))))
            .flatten();
        let opinions = (0..rng.random_range(0..=3))
            .map(|_| rng.random_range(0..names::OPINIONS.len()))
            .collect();
        Fate::Held {
            checked_in: rng.random_bool(CHECKED_IN_SHARE),
            filed_at,
            corrected_at,
            weight: rng.random_range(0.55..0.95),
            opinions,
            more_opinions: rng.random_range(0..=8),
            notes: rng
                .random_bool(0.5)
                .then(|| rng.random_range(0..names::NOTES.len())),
        }
    };
    // After the campaign, a meeting without door check-ins is one its organizers recorded
    // after the fact from the signed minutes (SPEC §2 allows it): its candidates were not
    // sent a notice of a meeting already held.
    let planned_at = match fate {
        Fate::Held {
            checked_in: false, ..
        } if plan.mode == Mode::Finished => ends_at + TimeDelta::minutes(5),
        _ => ahead,
    };
    Meeting {
        units: r.units,
        format: r.format,
        sites,
        online,
        expected: rng.random_range(60..=120),
        title,
        chair: (person(rng), chair_role),
        starts_at,
        ends_at,
        planned_at,
        fate,
    }
}

/// `total` attendances over meetings that may hold `caps` each, in proportion to `weights`
/// as far as the capacities allow; `None` if they cannot hold that many.
pub fn distribute(total: i64, caps: &[i64], weights: &[f64]) -> Option<Vec<i64>> {
    if caps.iter().sum::<i64>() < total {
        return None;
    }
    let wanted: Vec<f64> = caps
        .iter()
        .zip(weights)
        .map(|(c, w)| *c as f64 * w)
        .collect();
    let sum: f64 = wanted.iter().sum();
    let mut out: Vec<i64> = if sum > 0.0 {
        wanted
            .iter()
            .zip(caps)
            .map(|(w, c)| ((total as f64 * w / sum).floor() as i64).min(*c))
            .collect()
    } else {
        vec![0; caps.len()]
    };
    let mut left = total - out.iter().sum::<i64>();
    while left > 0 {
        let before = left;
        for (n, c) in out.iter_mut().zip(caps) {
            if left == 0 {
                break;
            }
            if *n < *c {
                *n += 1;
                left -= 1;
            }
        }
        if left == before {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::plan::{setting, REFERENCE_HELD};

    #[test]
    fn distribute_hits_the_total_within_the_capacities() {
        let caps = [10, 50, 3, 0];
        let got = distribute(40, &caps, &[0.9, 0.6, 0.8, 0.7]).expect("room enough");
        assert_eq!(got.iter().sum::<i64>(), 40);
        assert!(got.iter().zip(caps).all(|(n, c)| *n <= c));
        assert!(distribute(64, &caps, &[1.0; 4]).is_none());
    }

    #[test]
    fn the_finished_campaign_is_the_reference_province() {
        let (mut plan, mut rng) = setting(Mode::Finished, Utc::now()).expect("a setting");
        meetings(&mut plan, &mut rng).expect("the meetings");
        assert_eq!(plan.districts.len(), 9);
        assert_eq!(plan.seats(Body::NationalAssembly), 7);
        assert_eq!(plan.seats(Body::ProvinceCouncil), 66);
        assert_eq!(plan.seats(Body::DistrictCouncil), 319);
        assert_eq!(plan.seats(Body::CommuneCouncil), 4_073);
        let held: Vec<&Meeting> = plan
            .meetings
            .iter()
            .filter(|m| matches!(m.fate, Fate::Held { .. }))
            .collect();
        assert_eq!(held.len(), REFERENCE_HELD);
        let online = held.iter().filter(|m| m.format != Format::InPerson).count();
        assert_eq!(online, REFERENCE_ONLINE);
        assert!(held.iter().all(|m| matches!(
            m.fate,
            Fate::Held {
                filed_at: Some(_),
                ..
            }
        )));
        assert!(plan
            .meetings
            .iter()
            .all(|m| m.ends_at <= plan.campaign.polling_starts_at - TimeDelta::hours(24)));
    }
}
