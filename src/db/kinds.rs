//! The domain's closed sets (`domain::kinds`) as `text` columns.
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::kinds::{
    AppliesTo, AttemptOutcome, Body, CandidateStatus, Combine, Format, IcsMethod, Level, Locale,
    MeetingStatus, OutboxKind, OutboxStatus, Role, Setting,
};

macro_rules! text_column {
    ($($t:ty),+ $(,)?) => {$(
        impl ToSql<Text, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<Text, Pg> for $t {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let s = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                s.parse::<$t>().map_err(|_| {
                    format!("unknown {} {s:?} stored", stringify!($t)).into()
                })
            }
        }
    )+};
}

text_column!(
    AppliesTo,
    AttemptOutcome,
    Body,
    CandidateStatus,
    Combine,
    Format,
    IcsMethod,
    Level,
    Locale,
    MeetingStatus,
    OutboxKind,
    OutboxStatus,
    Role,
    Setting,
);
