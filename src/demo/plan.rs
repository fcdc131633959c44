//! The plan of the data: every region, unit, candidate, venue, rule and meeting the demo will
//! ask for, with the moment each action is taken, drawn from a seeded generator and counted
//! out by arithmetic — so the same command gives the same data, and the finished campaign
//! hits the reference figures by construction. This file holds the plan and its setting;
//! `schedule` draws the meetings. Nothing here touches the database.
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::names::{self, Covid, ProvinceSeed};
use crate::domain::kinds::{Body, Setting};

const SEED: u64 = 20_210_523;
pub const TIME_ZONE: Tz = chrono_tz::Asia::Ho_Chi_Minh;
pub const REPORT_DEADLINE_HOURS: i32 = 24;
/// The reference province's figures (SPEC §1): what the finished campaign reproduces.
pub const REFERENCE_HELD: usize = 1_893;
pub const REFERENCE_ONLINE: usize = 21;
pub const REFERENCE_ATTENDANCES: i64 = 130_735;
/// Local start (hour, minute) and length in minutes of a day's meeting slots, more than the
/// travel buffer apart.
pub const SLOTS: [(u32, u32, i64); 4] = [(7, 30, 120), (10, 15, 90), (14, 0, 120), (19, 30, 90)];

/// Which demo to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Hà Tĩnh, twenty days into the campaign, with about this many meetings.
    MidCampaign { meetings: usize },
    /// Thái Nguyên, after the 2021 campaign: the reference figures.
    Finished,
}

/// Who a meeting is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    National,
    /// One meeting for a National Assembly unit and a provincial-council unit together.
    Joint,
    Province,
    District,
    Commune,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::National,
        Kind::Joint,
        Kind::Province,
        Kind::District,
        Kind::Commune,
    ];
}

/// Where a record lies: indices into the plan's districts and communes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Province,
    District(usize),
    Commune(usize),
}

pub struct District {
    pub name: String,
    pub code: String,
    pub covid: Covid,
    pub contact_email: String,
    /// The district hall (index into venues), set with the venues.
    pub hall: usize,
}

pub struct Commune {
    pub name: String,
    pub district: usize,
    /// About a third have none: their notices go to the district.
    pub contact_email: Option<String>,
    pub venues: Vec<usize>,
}

pub struct Person {
    pub full_name: String,
    pub email: String,
    pub locale: &'static str,
}

pub struct Unit {
    pub name: String,
    pub body: Body,
    pub place: Place,
    pub seats: i32,
    pub candidates: Vec<Person>,
    /// Candidates (indices) who withdraw before any meeting is planned.
    pub withdrawn: Vec<usize>,
    /// The districts whose voters it serves.
    pub districts: Vec<usize>,
}

pub struct Venue {
    pub name: String,
    pub address: String,
    pub place: Place,
    pub capacity: i32,
    pub area_m2: Option<f64>,
    pub setting: Setting,
}

pub struct Rule {
    pub place: Place,
    pub announced_at: DateTime<Utc>,
    pub effective_from: DateTime<Utc>,
    pub effective_until: Option<DateTime<Utc>>,
    pub applies_to: &'static str,
    pub max_attendees: Option<i32>,
    pub max_occupancy_percent: Option<i32>,
    pub min_area_per_person_m2: Option<f64>,
    pub reference: &'static str,
    pub in_person_allowed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    InPerson,
    /// Online with connection points (sites) where voters gather.
    OnlinePoints,
    /// Online without any site: in-person gatherings were banned.
    OnlineOnly,
}

pub struct Online {
    pub platform: &'static str,
    pub join_url: String,
    pub max_participants: i32,
    pub expected_attendees: i32,
}

/// What becomes of a meeting once planned.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    Cancelled {
        at: DateTime<Utc>,
        reason: &'static str,
    },
    Held {
        /// The door counters are used (at the start).
        checked_in: bool,
        /// When its report is filed (none: never, the report is missing).
        filed_at: Option<DateTime<Utc>>,
        /// A correction filed later.
        corrected_at: Option<DateTime<Utc>>,
        /// Its share of the attendances, before capacities bound it.
        weight: f64,
        opinions: Vec<usize>,
        more_opinions: i32,
        notes: Option<usize>,
    },
}

pub struct Meeting {
    pub units: Vec<usize>,
    pub format: Format,
    pub sites: Vec<usize>,
    pub online: Option<Online>,
    /// Expected attendees asked for at each site (bounded by the capacity when planned).
    pub expected: i32,
    pub title: String,
    pub chair: (String, String),
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub planned_at: DateTime<Utc>,
    pub fate: Fate,
}

/// The campaign's calendar in the election's zone: day 0 opens it.
pub struct Campaign {
    pub first_midnight: DateTime<Utc>,
    pub polling_starts_at: DateTime<Utc>,
    /// Days with meeting slots (the last day of the campaign closes at 07:00, before any).
    pub days: i64,
    /// The moment the demo runs: what is "now" for the data.
    pub now: DateTime<Utc>,
    /// The day containing `now` (past the last day for a finished campaign).
    pub today: i64,
    /// The three days of the ban on gatherings, and the first day of the tightening.
    pub ban_days: (i64, i64),
    pub tightened_from: i64,
}

impl Campaign {
    fn new(mode: Mode, now: DateTime<Utc>) -> Option<Self> {
        let (first_day, polling_day, ban_from, tightened_from) = match mode {
            Mode::Finished => (
                NaiveDate::from_ymd_opt(2021, 4, 27)?,
                NaiveDate::from_ymd_opt(2021, 5, 23)?,
                17,
                13,
            ),
            Mode::MidCampaign { .. } => {
                let today = now.with_timezone(&TIME_ZONE).date_naive();
                (
                    today - TimeDelta::days(20),
                    today + TimeDelta::days(8),
                    9,
                    12,
                )
            }
        };
        let first_midnight = first_day
            .and_time(NaiveTime::MIN)
            .and_local_timezone(TIME_ZONE)
            .earliest()?
            .with_timezone(&Utc);
        let polling_starts_at = first_midnight
            + TimeDelta::days((polling_day - first_day).num_days())
            + TimeDelta::hours(7);
        let days = (polling_day - first_day).num_days() - 1;
        Some(Campaign {
            first_midnight,
            polling_starts_at,
            days,
            now,
            today: (now - first_midnight).num_days(),
            ban_days: (ban_from, ban_from + 3),
            tightened_from,
        })
    }

    pub fn campaign_starts_at(&self) -> DateTime<Utc> {
        self.first_midnight
    }

    pub fn day_start(&self, day: i64) -> DateTime<Utc> {
        self.first_midnight + TimeDelta::days(day)
    }

    pub fn slot(&self, slot: usize) -> (DateTime<Utc>, DateTime<Utc>) {
        let (hour, minute, minutes) = SLOTS[slot % SLOTS.len()];
        let starts_at = self.day_start((slot / SLOTS.len()) as i64)
            + TimeDelta::hours(i64::from(hour))
            + TimeDelta::minutes(i64::from(minute));
        (starts_at, starts_at + TimeDelta::minutes(minutes))
    }

    pub fn slots(&self) -> usize {
        self.days as usize * SLOTS.len()
    }

    pub fn banned(&self, slot: usize) -> bool {
        let day = (slot / SLOTS.len()) as i64;
        (self.ban_days.0..self.ban_days.1).contains(&day)
    }

    /// Most meetings were held early: the days left get fewer of them.
    pub fn day_weight(&self, day: i64) -> f64 {
        match day.cmp(&self.today) {
            std::cmp::Ordering::Less => 1.0,
            std::cmp::Ordering::Equal => 0.6,
            std::cmp::Ordering::Greater => 0.4,
        }
    }
}

/// Everything the demo will ask for.
pub struct Plan {
    pub mode: Mode,
    pub seed: &'static ProvinceSeed,
    pub campaign: Campaign,
    pub districts: Vec<District>,
    pub communes: Vec<Commune>,
    pub units: Vec<Unit>,
    pub venues: Vec<Venue>,
    pub rules: Vec<Rule>,
    /// The rule of the day the demo runs, for upcoming meetings (mid-campaign only).
    pub attention_rule: Option<Rule>,
    pub meetings: Vec<Meeting>,
    /// Meetings asked for that found no free slot (mid-campaign only; the finished
    /// campaign refuses to be planned short).
    pub unscheduled: usize,
}

impl Plan {
    /// The units' seats per body, in the order of [`Kind::ALL`]'s bodies.
    pub fn seats(&self, body: Body) -> i32 {
        self.units
            .iter()
            .filter(|u| u.body == body)
            .map(|u| u.seats)
            .sum()
    }
}

/// `total` in `parts` nearly equal whole parts, the larger first.
pub fn split(total: i32, parts: usize) -> Vec<i32> {
    let n = parts.max(1) as i32;
    (0..n)
        .map(|i| total / n + i32::from(i < total % n))
        .collect()
}

pub fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub fn person(rng: &mut StdRng) -> String {
    let family = *pick(rng, &names::FAMILY_NAMES);
    if rng.random_bool(0.4) {
        format!(
            "{family} {} {}",
            pick(rng, &names::FEMALE_MIDDLE_NAMES),
            pick(rng, &names::FEMALE_GIVEN_NAMES)
        )
    } else {
        format!(
            "{family} {} {}",
            pick(rng, &names::MALE_MIDDLE_NAMES),
            pick(rng, &names::MALE_GIVEN_NAMES)
        )
    }
}

/// The setting of the demo of `mode` as seen at `now` — regions, units, candidates, venues,
/// rules — and the generator that goes on to draw its meetings.
pub fn setting(mode: Mode, now: DateTime<Utc>) -> Result<(Plan, StdRng), String> {
    let campaign = Campaign::new(mode, now).ok_or("no campaign calendar")?;
    let seed = match mode {
        Mode::Finished => &names::THAI_NGUYEN,
        Mode::MidCampaign { .. } => &names::HA_TINH,
    };
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut plan = Plan {
        mode,
        seed,
        campaign,
        districts: Vec::new(),
        communes: Vec::new(),
        units: Vec::new(),
        venues: Vec::new(),
        rules: Vec::new(),
        attention_rule: None,
        meetings: Vec::new(),
        unscheduled: 0,
    };
    regions(&mut plan, &mut rng);
    units(&mut plan, &mut rng);
    venues(&mut plan, &mut rng);
    rules(&mut plan);
    Ok((plan, rng))
}

fn regions(plan: &mut Plan, rng: &mut StdRng) {
    let domain = plan.seed.mail_domain;
    for (d, seed) in plan.seed.districts.iter().enumerate() {
        plan.districts.push(District {
            name: seed.name.to_owned(),
            code: seed.code.to_owned(),
            covid: seed.covid,
            contact_email: format!(
                "mttq.{}@{domain}",
                names::ascii_slug(names::split_kind(seed.name).1)
            ),
            hall: 0,
        });
        for name in seed.communes.split(',').map(str::trim) {
            let contact_email = rng.random_bool(0.65).then(|| {
                format!(
                    "mttq.{}.{}@{domain}",
                    names::ascii_slug(names::split_kind(name).1),
                    names::ascii_slug(names::split_kind(seed.name).1)
                )
            });
            plan.communes.push(Commune {
                name: name.to_owned(),
                district: d,
                contact_email,
                venues: Vec::new(),
            });
        }
    }
}

/// National Assembly units over the province, provincial-council units in the districts,
/// district- and commune-council units; at least two candidates more than seats, as the law
/// requires; in one large unit of eight a candidate withdraws.
fn units(plan: &mut Plan, rng: &mut StdRng) {
    let seed = plan.seed;
    let mut new = |plan: &mut Plan,
                   name: String,
                   body: Body,
                   place: Place,
                   seats: i32,
                   districts: Vec<usize>| {
        let n = plan.units.len();
        let count = seats + 2 + i32::from(rng.random_bool(0.3));
        let candidates = (0..count)
            .map(|i| {
                let full_name = person(rng);
                Person {
                    email: format!(
                        "{}.u{n}c{i}@ungcuvien.{}",
                        names::ascii_slug(&full_name),
                        seed.mail_domain
                    ),
                    full_name,
                    locale: if rng.random_bool(0.05) { "en" } else { "vi" },
                }
            })
            .collect();
        let withdrawn = if seats >= 3 && n % 8 == 5 {
            vec![0]
        } else {
            Vec::new()
        };
        plan.units.push(Unit {
            name,
            body,
            place,
            seats,
            candidates,
            withdrawn,
            districts,
        });
    };
    for (i, seats) in seed.national_seats.iter().enumerate() {
        let districts = (0..seed.districts.len())
            .filter(|d| seed.districts[*d].national_unit == i)
            .collect();
        new(
            plan,
            format!("Đơn vị bầu cử Quốc hội số {}", i + 1),
            Body::NationalAssembly,
            Place::Province,
            *seats,
            districts,
        );
    }
    let province_units: usize = seed.districts.iter().map(|d| d.province_units).sum();
    let mut province_seats = split(seed.province_seats, province_units).into_iter();
    let mut number = 0;
    for (d, district) in seed.districts.iter().enumerate() {
        for _ in 0..district.province_units {
            number += 1;
            let seats = province_seats.next().unwrap_or(1);
            new(
                plan,
                format!("Đơn vị bầu cử HĐND tỉnh số {number}"),
                Body::ProvinceCouncil,
                Place::District(d),
                seats,
                vec![d],
            );
        }
    }
    for (d, district) in seed.districts.iter().enumerate() {
        let parts = (district.district_seats as usize).div_ceil(5);
        let where_ = names::in_sentence(district.name);
        for (k, seats) in split(district.district_seats, parts)
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0)
        {
            new(
                plan,
                format!("Đơn vị bầu cử HĐND {where_} số {}", k + 1),
                Body::DistrictCouncil,
                Place::District(d),
                seats,
                vec![d],
            );
        }
    }
    let councils: Vec<(usize, Vec<i32>)> = match seed.commune_seats {
        Some(total) => split(total, plan.communes.len())
            .into_iter()
            .enumerate()
            .map(|(c, seats)| (c, split(seats, (seats as usize).div_ceil(5))))
            .collect(),
        None => {
            let mut firsts = Vec::new();
            for (d, district) in seed.districts.iter().enumerate() {
                let of_district =
                    (0..plan.communes.len()).filter(|c| plan.communes[*c].district == d);
                firsts.extend(
                    of_district
                        .take(district.commune_councils)
                        .map(|c| (c, vec![3, 3])),
                );
            }
            firsts
        }
    };
    for (c, parts) in councils {
        let where_ = names::in_sentence(&plan.communes[c].name);
        let district = plan.communes[c].district;
        for (k, seats) in parts.into_iter().enumerate() {
            new(
                plan,
                format!("Đơn vị bầu cử HĐND {where_} số {}", k + 1),
                Body::CommuneCouncil,
                Place::Commune(c),
                seats,
                vec![district],
            );
        }
    }
}

/// One to three places per commune — its People's Committee hall always, often a village
/// cultural house, sometimes a school hall or a sports ground — and one hall per district.
fn venues(plan: &mut Plan, rng: &mut StdRng) {
    let province = plan.seed.name;
    let indoor = |rng: &mut StdRng, lo: i32, hi: i32| {
        let capacity = rng.random_range(lo..=hi);
        (
            capacity,
            Some(f64::from(capacity) * rng.random_range(1.2..2.0)),
        )
    };
    for d in 0..plan.districts.len() {
        let name = plan.districts[d].name.clone();
        let (capacity, area_m2) = indoor(rng, 250, 400);
        plan.districts[d].hall = plan.venues.len();
        plan.venues.push(Venue {
            name: format!("Hội trường UBND {}", names::in_sentence(&name)),
            address: format!("{name}, {province}"),
            place: Place::District(d),
            capacity,
            area_m2,
            setting: Setting::Indoor,
        });
    }
    for c in 0..plan.communes.len() {
        let commune = &plan.communes[c];
        let district = commune.district;
        let (kind, name) = names::split_kind(&commune.name);
        let (kind, name) = (kind.clone(), name.to_owned());
        let where_ = format!(
            "{}, {}, {province}",
            commune.name, plan.districts[district].name
        );
        let mut seeds = Vec::new();
        let (capacity, area_m2) = indoor(rng, 120, 250);
        seeds.push((
            format!("Hội trường UBND {kind} {name}"),
            where_.clone(),
            capacity,
            area_m2,
            Setting::Indoor,
        ));
        if rng.random_bool(0.6) {
            let (capacity, area_m2) = indoor(rng, 60, 140);
            if kind == "xã" {
                let village = pick(rng, &names::VILLAGES);
                seeds.push((
                    format!("Nhà văn hóa thôn {village}"),
                    format!("Thôn {village}, {where_}"),
                    capacity,
                    area_m2,
                    Setting::Indoor,
                ));
            } else {
                let block = rng.random_range(1..=12);
                seeds.push((
                    format!("Nhà văn hóa tổ dân phố {block}"),
                    format!("Tổ dân phố {block}, {where_}"),
                    capacity,
                    area_m2,
                    Setting::Indoor,
                ));
            }
        }
        if rng.random_bool(0.35) {
            if rng.random_bool(0.7) {
                let (capacity, area_m2) = indoor(rng, 150, 300);
                seeds.push((
                    format!("Hội trường Trường THCS {name}"),
                    where_.clone(),
                    capacity,
                    area_m2,
                    Setting::Indoor,
                ));
            } else {
                seeds.push((
                    format!("Sân vận động {kind} {name}"),
                    where_.clone(),
                    rng.random_range(250..=400),
                    None,
                    Setting::Outdoor,
                ));
            }
        }
        for (name, address, capacity, area_m2, setting) in seeds {
            plan.communes[c].venues.push(plan.venues.len());
            plan.venues.push(Venue {
                name,
                address,
                place: Place::Commune(c),
                capacity,
                area_m2,
                setting,
            });
        }
    }
}

/// The rules in force over the campaign: 75 % occupancy province-wide from the start; a
/// Chỉ thị 15 variant in the tightened districts for the last part; a three-day ban on
/// in-person meetings in the banned one. Each is announced four days before it applies, so
/// every meeting it concerns is planned knowing it. Mid-campaign, the day's last-minute cap.
fn rules(plan: &mut Plan) {
    let c = &plan.campaign;
    let ahead = TimeDelta::days(4);
    let mut rules = vec![Rule {
        place: Place::Province,
        announced_at: c.campaign_starts_at() - TimeDelta::days(1),
        effective_from: c.campaign_starts_at(),
        effective_until: None,
        applies_to: "indoor",
        max_attendees: None,
        max_occupancy_percent: Some(75),
        min_area_per_person_m2: None,
        reference: names::PROVINCE_RULE,
        in_person_allowed: true,
    }];
    for (d, district) in plan.districts.iter().enumerate() {
        let from = match district.covid {
            Covid::Normal => continue,
            Covid::Tightened => c.day_start(c.tightened_from),
            Covid::Banned => c.day_start(c.ban_days.0),
        };
        rules.push(match district.covid {
            Covid::Banned => Rule {
                place: Place::District(d),
                announced_at: from - ahead,
                effective_from: from,
                effective_until: Some(c.day_start(c.ban_days.1)),
                applies_to: "any",
                max_attendees: None,
                max_occupancy_percent: None,
                min_area_per_person_m2: None,
                reference: names::BAN_RULE,
                in_person_allowed: false,
            },
            _ => Rule {
                place: Place::District(d),
                announced_at: from - ahead,
                effective_from: from,
                effective_until: None,
                applies_to: "indoor",
                max_attendees: Some(50),
                max_occupancy_percent: None,
                min_area_per_person_m2: Some(2.0),
                reference: names::TIGHTENED_RULE,
                in_person_allowed: true,
            },
        });
    }
    plan.rules = rules;
    if let Mode::MidCampaign { .. } = plan.mode {
        let d = plan
            .districts
            .iter()
            .position(|d| d.code == "447")
            .unwrap_or(0);
        plan.attention_rule = Some(Rule {
            place: Place::District(d),
            announced_at: c.now,
            effective_from: c.day_start(c.today + 1),
            effective_until: None,
            applies_to: "indoor",
            max_attendees: Some(30),
            max_occupancy_percent: None,
            min_area_per_person_m2: None,
            reference: names::ATTENTION_RULE,
            in_person_allowed: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_the_total() {
        assert_eq!(split(66, 19).iter().sum::<i32>(), 66);
        assert_eq!(split(7, 3), vec![3, 2, 2]);
    }
}
