//! The closed sets of values the service stores as text: one enum each, so parsing a request,
//! reading a row and writing a row can never disagree (the database side is in `db::kinds`).
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

/// Parses `raw` as one of `T`'s variants, or says which ones there are.
pub fn parse<T>(raw: &str) -> Result<T, String>
where
    T: FromStr + IntoEnumIterator + Into<&'static str>,
{
    raw.trim().parse::<T>().map_err(|_| {
        let names: Vec<&'static str> = T::iter().map(Into::into).collect();
        format!("must be one of {}, not {raw:?}", names.join(", "))
    })
}

/// The names of `T`'s variants, for documents and forms.
pub fn names<T>() -> Vec<&'static str>
where
    T: IntoEnumIterator + Into<&'static str>,
{
    T::iter().map(Into::into).collect()
}

macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, EnumIter, EnumString, IntoStaticStr,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum!(
    /// What a token may do (SPEC §1).
    Role { Admin, Organizer, Observer }
);

stored_enum!(
    /// A level of the administrative tree.
    Level { Province, District, Commune }
);

impl Level {
    /// The level a parent of this level must have.
    pub fn parent_level(self) -> Option<Level> {
        match self {
            Level::Province => None,
            Level::District => Some(Level::Province),
            Level::Commune => Some(Level::District),
        }
    }
}

stored_enum!(
    /// The elected body an electoral unit elects deputies to.
    Body { NationalAssembly, ProvinceCouncil, DistrictCouncil, CommuneCouncil }
);

impl Body {
    /// Election law, Art. 10(4): at most 3 deputies per National Assembly unit, 5 per council unit.
    pub fn max_seats(self) -> i32 {
        match self {
            Body::NationalAssembly => 3,
            _ => 5,
        }
    }

    /// The region levels a unit of this body can cover.
    pub fn allowed_levels(self) -> &'static [Level] {
        match self {
            Body::NationalAssembly | Body::ProvinceCouncil => {
                &[Level::Province, Level::District, Level::Commune]
            }
            Body::DistrictCouncil => &[Level::District, Level::Commune],
            Body::CommuneCouncil => &[Level::Commune],
        }
    }
}

stored_enum!(
    /// A candidate's language for email.
    #[derive(Default)]
    Locale {
        #[default]
        Vi,
        En
    }
);

stored_enum!(
    /// Whether a candidate still stands.
    CandidateStatus { Active, Withdrawn }
);

stored_enum!(
    /// Whether a venue is a room or open air.
    Setting { Indoor, Outdoor }
);

stored_enum!(
    /// Which venues a health rule covers.
    AppliesTo { Indoor, Outdoor, Any }
);

impl AppliesTo {
    pub fn matches(self, setting: Setting) -> bool {
        match self {
            AppliesTo::Any => true,
            AppliesTo::Indoor => setting == Setting::Indoor,
            AppliesTo::Outdoor => setting == Setting::Outdoor,
        }
    }
}

stored_enum!(
    /// How a rule's own terms combine: `min` ("whichever is lower", the usual reading) or
    /// `max` ("whichever is greater", as some jurisdictions wrote it).
    #[derive(Default)]
    Combine {
        #[default]
        Min,
        Max
    }
);

stored_enum!(
    /// How voters attend a meeting.
    Format { InPerson, Online }
);

stored_enum!(
    /// Where a meeting stands.
    MeetingStatus { Planned, Cancelled, Held }
);

stored_enum!(
    /// Why an email was written.
    OutboxKind { Schedule, MeetingChange, RuleAttention, EmailChanged }
);

stored_enum!(
    /// The iTIP method of a calendar attachment (RFC 5546): a schedule is published, a new or
    /// changed meeting is a request, a cancelled one a cancellation.
    IcsMethod { Publish, Request, Cancel }
);

impl IcsMethod {
    /// As iCalendar and the attachment's Content-Type write it.
    pub fn itip(self) -> &'static str {
        match self {
            IcsMethod::Publish => "PUBLISH",
            IcsMethod::Request => "REQUEST",
            IcsMethod::Cancel => "CANCEL",
        }
    }
}

stored_enum!(
    /// An email's delivery state.
    OutboxStatus { Pending, Sent, Failed }
);

stored_enum!(
    /// What one delivery attempt came to.
    AttemptOutcome { Sent, Retry, Failed }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_its_stored_name() {
        fn check<T>()
        where
            T: FromStr + IntoEnumIterator + Into<&'static str> + PartialEq + std::fmt::Debug + Copy,
        {
            for v in T::iter() {
                let name: &'static str = v.into();
                assert_eq!(parse::<T>(name), Ok(v));
            }
        }
        check::<Role>();
        check::<Level>();
        check::<Body>();
        check::<Locale>();
        check::<CandidateStatus>();
        check::<Setting>();
        check::<AppliesTo>();
        check::<Combine>();
        check::<Format>();
        check::<MeetingStatus>();
        check::<OutboxKind>();
        check::<IcsMethod>();
        check::<OutboxStatus>();
        check::<AttemptOutcome>();
    }

    #[test]
    fn names_are_snake_case_and_unknown_ones_say_what_is_allowed() {
        assert_eq!(Body::NationalAssembly.as_str(), "national_assembly");
        assert_eq!(Format::InPerson.to_string(), "in_person");
        assert_eq!(
            parse::<Setting>("Indoor"),
            Err(r#"must be one of indoor, outdoor, not "Indoor""#.to_owned())
        );
        assert_eq!(names::<Combine>(), vec!["min", "max"]);
    }

    #[test]
    fn a_rule_for_any_setting_covers_both() {
        assert!(AppliesTo::Any.matches(Setting::Indoor));
        assert!(AppliesTo::Indoor.matches(Setting::Indoor));
        assert!(!AppliesTo::Indoor.matches(Setting::Outdoor));
    }
}
