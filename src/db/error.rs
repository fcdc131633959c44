//! What can go wrong in the database, in the database's own terms: a constraint refused a
//! row, the server is unreachable or went away, a transaction must be retried, a statement
//! ran too long. The use cases decide what each means to a client.
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use strum::EnumString;

/// The constraints of the schema the code reacts to by name. A constraint raised on a Citus
/// worker is named after its shard (`meeting_sites_no_overlap_102247`); [`Constraint::parse`]
/// strips that suffix so one server and a cluster give the same answer.
#[derive(Debug, Clone, PartialEq, Eq, EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Constraint {
    /// Rule 2, `domain::booking`.
    MeetingCandidatesNoOverlap,
    /// Rule 3, `domain::booking`.
    MeetingSitesNoOverlap,
    RegionsCodeUnique,
    ProvincesCodeUnique,
    RegionsNameUnique,
    ProvincesNameUnique,
    ElectoralUnitsNameUnique,
    ElectoralUnitsFoldedNameUnique,
    CandidatesEmailUnique,
    CandidatesFoldedEmailUnique,
    VenuesNameUnique,
    VenuesFoldedNameUnique,
    AttendanceReportsRevisionUnique,
    /// Any other constraint, by its name.
    #[strum(default)]
    Other(String),
}

impl Constraint {
    /// The constraint a server message or error field names, without a shard suffix.
    pub fn parse(name: &str) -> Constraint {
        let known = |n: &str| {
            n.parse::<Constraint>()
                .ok()
                .filter(|c| !matches!(c, Constraint::Other(_)))
        };
        if let Some(c) = known(name) {
            return c;
        }
        let unsharded = name.trim_end_matches(|c: char| c.is_ascii_digit());
        unsharded
            .strip_suffix('_')
            .and_then(known)
            .unwrap_or_else(|| Constraint::Other(name.to_owned()))
    }

    /// The constraint named in a message such as `… violates exclusion constraint "x_102247"`.
    fn from_message(message: &str) -> Option<Constraint> {
        let start = message.find("constraint \"")? + "constraint \"".len();
        let len = message[start..].find('"')?;
        Some(Constraint::parse(&message[start..start + len]))
    }
}

/// The kinds of constraint violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    Unique,
    Exclusion,
    ForeignKey,
    Check,
    NotNull,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A constraint refused the change; nothing of the transaction remains.
    #[error("{violation:?} violation of {constraint:?}")]
    Violated {
        violation: Violation,
        constraint: Constraint,
    },
    /// No connection could be had (server down, pool exhausted).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The connection broke during the work; nothing was committed.
    #[error("the database connection was lost: {0}")]
    ConnectionLost(String),
    /// A serialization failure or deadlock: rolled back, safe to retry.
    #[error("the transaction collided with another: {0}")]
    Retry(String),
    /// A statement ran past `database_statement_timeout_ms`.
    #[error("a statement ran past its time limit")]
    Timeout,
    /// Anything else: a bug or an unexpected state, logged, never shown.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type DbResult<T> = Result<T, DbError>;

impl DbError {
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, DbError::ConnectionLost(_))
    }

    /// Whether this is a violation of `constraint`.
    pub fn violates(&self, constraint: &Constraint) -> bool {
        matches!(self, DbError::Violated { constraint: c, .. } if c == constraint)
    }
}

/// Messages of a server that is going away or gone (SQLSTATE class 57P and 08, which diesel
/// reports only as text).
const LOST: [&str; 6] = [
    "terminating connection",
    "server closed the connection",
    "connection to server",
    "no connection to the server",
    "the database system is shutting down",
    "could not receive data from server",
];

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        let DieselError::DatabaseError(kind, info) = &e else {
            return DbError::Other(e.into());
        };
        let message = info.message();
        let constraint = || {
            info.constraint_name()
                .map(Constraint::parse)
                .or_else(|| Constraint::from_message(message))
                .unwrap_or_else(|| Constraint::Other(String::new()))
        };
        let violated = |violation| DbError::Violated {
            violation,
            constraint: constraint(),
        };
        match kind {
            DatabaseErrorKind::UniqueViolation => violated(Violation::Unique),
            DatabaseErrorKind::ExclusionViolation => violated(Violation::Exclusion),
            DatabaseErrorKind::ForeignKeyViolation => violated(Violation::ForeignKey),
            DatabaseErrorKind::CheckViolation => violated(Violation::Check),
            DatabaseErrorKind::NotNullViolation => violated(Violation::NotNull),
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                DbError::ConnectionLost(message.to_owned())
            }
            DatabaseErrorKind::SerializationFailure => DbError::Retry(message.to_owned()),
            _ if message.starts_with("deadlock detected") => DbError::Retry(message.to_owned()),
            _ if message.contains("statement timeout") => DbError::Timeout,
            _ if LOST.iter().any(|m| message.contains(m)) => {
                DbError::ConnectionLost(message.to_owned())
            }
            _ => DbError::Other(e.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_suffixes_are_stripped_from_known_constraints_only() {
        assert_eq!(
            Constraint::parse("meeting_candidates_no_overlap"),
            Constraint::MeetingCandidatesNoOverlap
        );
        assert_eq!(
            Constraint::parse("meeting_sites_no_overlap_102247"),
            Constraint::MeetingSitesNoOverlap
        );
        assert_eq!(
            Constraint::parse("something_else_12"),
            Constraint::Other("something_else_12".to_owned())
        );
    }

    #[test]
    fn a_constraint_is_found_in_the_message_when_the_field_is_missing() {
        let m = "conflicting key value violates exclusion constraint \"meeting_candidates_no_overlap_102008\"";
        assert_eq!(
            Constraint::from_message(m),
            Some(Constraint::MeetingCandidatesNoOverlap)
        );
        assert_eq!(Constraint::from_message("no name here"), None);
    }
}
