//! The plan of the data: every region, unit, candidate, venue, rule and meeting the demo will
//! ask for, with the moment each action is taken, drawn from a seeded generator and counted
//! out by arithmetic — so the same command gives the same data, and the finished campaign
//! hits the reference figures by construction. Nothing here touches the database.
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
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
const SLOTS: [(u32, u32, i64); 4] = [(7, 30, 120), (10, 15, 90), (14, 0, 120), (19, 30, 90)];
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
    const ALL: [Kind; 5] = [
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

    fn slot(&self, slot: usize) -> (DateTime<Utc>, DateTime<Utc>) {
        let (hour, minute, minutes) = SLOTS[slot % SLOTS.len()];
        let starts_at = self.day_start((slot / SLOTS.len()) as i64)
            + TimeDelta::hours(i64::from(hour))
            + TimeDelta::minutes(i64::from(minute));
        (starts_at, starts_at + TimeDelta::minutes(minutes))
    }

    fn slots(&self) -> usize {
        self.days as usize * SLOTS.len()
    }

    fn banned(&self, slot: usize) -> bool {
        let day = (slot / SLOTS.len()) as i64;
        (self.ban_days.0..self.ban_days.1).contains(&day)
    }

    /// Most meetings were held early: the days left get fewer of them.
    fn day_weight(&self, day: i64) -> f64 {
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

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn person(rng: &mut StdRng) -> String {
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

/// Plans the demo of `mode` as seen at `now`; `None` if the calendar cannot be built.
pub fn plan(mode: Mode, now: DateTime<Utc>) -> Result<Plan, String> {
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
    meetings(&mut plan, &mut rng)?;
    Ok(plan)
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

fn meetings(plan: &mut Plan, rng: &mut StdRng) -> Result<(), String> {
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
    let planned_at = (starts_at - TimeDelta::days(2))
        .max(c.campaign_starts_at() - TimeDelta::hours(12))
        .min(c.now - TimeDelta::hours(1));
    let fate = if r.cancelled {
        Fate::Cancelled {
            at: (starts_at - TimeDelta::days(1))
                .max(planned_at + TimeDelta::hours(1))
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

    #[test]
    fn split_keeps_the_total() {
        assert_eq!(split(66, 19).iter().sum::<i32>(), 66);
        assert_eq!(split(7, 3), vec![3, 2, 2]);
    }

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
        let plan = plan(Mode::Finished, Utc::now()).expect("a plan");
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
