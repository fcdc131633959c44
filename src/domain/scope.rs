//! Who may read and change what (SPEC §1 and §3 rule 11). Records are placed in the region
//! tree by *paths*: the ids from the province down to the record's own region, so "region X
//! lies in the subtree of S" is "path(X) contains S".
use serde::Serialize;
use uuid::Uuid;

use crate::domain::kinds::Role;
use crate::domain::problem::Problem;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// The region subtree the token reaches; `None` = the whole country.
    pub region_id: Option<Uuid>,
    /// The path of that region, province first (empty for a national token).
    #[serde(skip)]
    pub region_path: Vec<Uuid>,
}

/// Where a meeting is: the paths of its venues' regions and of its electoral units' regions.
#[derive(Debug, Clone, Default)]
pub struct MeetingPlace {
    pub venue_paths: Vec<Vec<Uuid>>,
    pub unit_paths: Vec<Vec<Uuid>>,
}

impl MeetingPlace {
    /// Where the meeting sits: its venues, or for a meeting without one (online, no
    /// connection point) the region of its deepest electoral unit.
    pub fn anchors(&self) -> Vec<&[Uuid]> {
        if self.venue_paths.is_empty() {
            self.unit_paths
                .iter()
                .max_by_key(|p| p.len())
                .map(Vec::as_slice)
                .into_iter()
                .collect()
        } else {
            self.venue_paths.iter().map(Vec::as_slice).collect()
        }
    }

    /// The regions whose organizers may act on the meeting (plan, change, cancel, check in,
    /// report): those on the path of every anchor, for which every unit is one they may plan
    /// for — inside their subtree, or a unit whose region contains theirs.
    pub fn actors(&self) -> Vec<Uuid> {
        let anchors = self.anchors();
        let Some(first) = anchors.first() else {
            return Vec::new();
        };
        first
            .iter()
            .enumerate()
            .filter(|(depth, s)| {
                let own_path = &first[..=*depth];
                anchors.iter().all(|a| a.contains(s))
                    && self
                        .unit_paths
                        .iter()
                        .all(|u| u.contains(s) || u.last().is_some_and(|r| own_path.contains(r)))
            })
            .map(|(_, s)| *s)
            .collect()
    }

    /// The regions whose tokens may read the meeting: every region on the path of one of its
    /// venues or units (a token reads what lies in its subtree).
    pub fn reach(&self) -> Vec<Uuid> {
        let mut reach: Vec<Uuid> = self
            .venue_paths
            .iter()
            .chain(&self.unit_paths)
            .flatten()
            .copied()
            .collect();
        reach.sort();
        reach.dedup();
        reach
    }
}

fn outside() -> Problem {
    Problem::forbidden("this record is outside your region")
}

impl Caller {
    /// A caller acting for the service itself (the CLI, the demo): an admin without a token.
    pub fn system(name: &str) -> Self {
        Caller {
            id: Uuid::nil(),
            name: name.to_owned(),
            role: Role::Admin,
            region_id: None,
            region_path: Vec::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The region this token is confined to, if any (admins reach everything).
    pub fn scope(&self) -> Option<Uuid> {
        if self.is_admin() {
            None
        } else {
            self.region_id
        }
    }

    /// Whether a record whose region has this path lies inside the token's subtree.
    pub fn reaches(&self, path: &[Uuid]) -> bool {
        self.scope().is_none_or(|r| path.contains(&r))
    }

    pub fn ensure_reads(&self, path: &[Uuid]) -> Result<(), Problem> {
        if self.reaches(path) {
            Ok(())
        } else {
            Err(outside())
        }
    }

    /// Observers read; everyone else may ask for changes (scope is checked per record).
    pub fn ensure_can_mutate(&self) -> Result<(), Problem> {
        if self.role == Role::Observer {
            Err(Problem::forbidden("observers cannot change anything"))
        } else {
            Ok(())
        }
    }

    /// Organizers change only their subtree; observers never change anything.
    pub fn ensure_changes(&self, path: &[Uuid]) -> Result<(), Problem> {
        self.ensure_can_mutate()?;
        self.ensure_reads(path)
    }

    pub fn ensure_admin(&self) -> Result<(), Problem> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Problem::forbidden("only an administrator may do this"))
        }
    }

    /// An electoral unit (and its candidates) is readable inside the subtree, and also where
    /// its region contains the caller's: a commune organizer reads the district, provincial
    /// and National Assembly units whose candidates meet voters in that commune.
    pub fn reads_unit(&self, unit_path: &[Uuid]) -> bool {
        self.reaches(unit_path)
            || unit_path
                .last()
                .is_some_and(|unit_region| self.region_path.contains(unit_region))
    }

    /// Planning and acting on a meeting (change, cancel, check-in, report) — rule 11, see
    /// [`MeetingPlace::actors`].
    pub fn ensure_acts_on(&self, place: &MeetingPlace) -> Result<(), Problem> {
        self.ensure_acts_among(&place.actors())
    }

    /// Like [`ensure_acts_on`](Self::ensure_acts_on), with the actors a meeting stored.
    pub fn ensure_acts_among(&self, actors: &[Uuid]) -> Result<(), Problem> {
        self.ensure_can_mutate()?;
        if self.scope().is_none_or(|s| actors.contains(&s)) {
            Ok(())
        } else {
            Err(Problem::forbidden(
                "acting on this meeting needs a region that contains its venues and its electoral units",
            ))
        }
    }

    /// Reading a meeting: any of its venues or units inside the subtree.
    pub fn reads_meeting(&self, place: &MeetingPlace) -> bool {
        self.reads_among(&place.reach())
    }

    /// Like [`reads_meeting`](Self::reads_meeting), with the reach a meeting stored.
    pub fn reads_among(&self, reach: &[Uuid]) -> bool {
        self.scope().is_none_or(|s| reach.contains(&s))
    }

    pub fn ensure_reads_among(&self, reach: &[Uuid]) -> Result<(), Problem> {
        if self.reads_among(reach) {
            Ok(())
        } else {
            Err(Problem::forbidden("this meeting is outside your region"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCE: u128 = 1;
    const DISTRICT: u128 = 2;
    const COMMUNE_A: u128 = 3;
    const COMMUNE_B: u128 = 4;

    fn path(ids: &[u128]) -> Vec<Uuid> {
        ids.iter().map(|n| Uuid::from_u128(*n)).collect()
    }

    fn caller(role: Role, region: &[u128]) -> Caller {
        Caller {
            id: Uuid::nil(),
            name: "t".to_owned(),
            role,
            region_id: region.last().map(|n| Uuid::from_u128(*n)),
            region_path: path(region),
        }
    }

    fn place(venues: &[&[u128]], units: &[&[u128]]) -> MeetingPlace {
        MeetingPlace {
            venue_paths: venues.iter().map(|p| path(p)).collect(),
            unit_paths: units.iter().map(|p| path(p)).collect(),
        }
    }

    #[test]
    fn a_commune_organizer_plans_for_higher_units_at_home_only() {
        let a = caller(Role::Organizer, &[PROVINCE, DISTRICT, COMMUNE_A]);
        let national_unit: &[u128] = &[PROVINCE];
        let at_home = place(&[&[PROVINCE, DISTRICT, COMMUNE_A]], &[national_unit]);
        assert!(a.ensure_acts_on(&at_home).is_ok());
        let elsewhere = place(&[&[PROVINCE, DISTRICT, COMMUNE_B]], &[national_unit]);
        assert!(a.ensure_acts_on(&elsewhere).is_err());
        assert!(a.reads_unit(&path(national_unit)));
        assert!(!a.reads_unit(&path(&[PROVINCE, DISTRICT, COMMUNE_B])));
    }

    #[test]
    fn a_mixed_meeting_is_acted_on_only_by_whoever_holds_both_sides() {
        let unit_a: &[u128] = &[PROVINCE, DISTRICT, COMMUNE_A];
        let venue_b: &[u128] = &[PROVINCE, DISTRICT, COMMUNE_B];
        let mixed = place(&[venue_b], &[unit_a]);
        let a = caller(Role::Organizer, unit_a);
        let b = caller(Role::Organizer, venue_b);
        let district = caller(Role::Organizer, &[PROVINCE, DISTRICT]);
        assert!(a.ensure_acts_on(&mixed).is_err());
        assert!(b.ensure_acts_on(&mixed).is_err());
        assert!(district.ensure_acts_on(&mixed).is_ok());
        assert!(a.reads_meeting(&mixed) && b.reads_meeting(&mixed));
        let other = caller(Role::Organizer, &[PROVINCE, 9]);
        assert!(!other.reads_meeting(&mixed));
    }

    #[test]
    fn an_online_meeting_sits_at_its_deepest_unit() {
        let a = caller(Role::Organizer, &[PROVINCE, DISTRICT, COMMUNE_A]);
        let national_only = place(&[], &[&[PROVINCE]]);
        assert!(a.ensure_acts_on(&national_only).is_err());
        let own = place(&[], &[&[PROVINCE, DISTRICT, COMMUNE_A]]);
        assert!(a.ensure_acts_on(&own).is_ok());
        let siblings = place(
            &[],
            &[
                &[PROVINCE, DISTRICT, COMMUNE_A],
                &[PROVINCE, DISTRICT, COMMUNE_B],
            ],
        );
        assert_eq!(siblings.actors(), path(&[PROVINCE, DISTRICT]));
    }

    #[test]
    fn actors_and_readers_of_a_mixed_meeting() {
        let mixed = place(
            &[&[PROVINCE, DISTRICT, COMMUNE_B]],
            &[&[PROVINCE, DISTRICT, COMMUNE_A], &[PROVINCE]],
        );
        assert_eq!(mixed.actors(), path(&[PROVINCE, DISTRICT]));
        assert_eq!(
            mixed.reach(),
            path(&[PROVINCE, DISTRICT, COMMUNE_A, COMMUNE_B])
        );
    }

    #[test]
    fn observers_read_and_never_act_admins_do_everything() {
        let observer = caller(Role::Observer, &[PROVINCE]);
        let here = place(&[&[PROVINCE, DISTRICT]], &[&[PROVINCE]]);
        assert!(observer.reads_meeting(&here));
        assert!(observer.ensure_acts_on(&here).is_err());
        let admin = caller(Role::Admin, &[]);
        assert!(admin.ensure_acts_on(&here).is_ok());
        assert!(admin.reaches(&path(&[7, 8])));
    }
}
