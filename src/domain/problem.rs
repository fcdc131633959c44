//! What a client is told when a request cannot be done: one stable code per situation
//! (SPEC §4, §3), its HTTP status, and the fields it names. Every code is a variant of
//! [`Code`], so the README table and the OpenAPI document list them from here.
use serde::Serialize;
use serde_json::{Map, Value};
use strum::{EnumIter, IntoEnumIterator, IntoStaticStr};

/// Every problem code the service answers with: stable, snake_case, named in SPEC; clients
/// branch on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, Serialize, utoipa::ToSchema,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Code {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    AlreadyExists,
    PayloadTooLarge,
    UriTooLong,
    UnsupportedMediaType,
    ValidationFailed,
    IdempotencyKeyReused,
    ImportFailed,
    PreconditionRequired,
    VersionConflict,
    RateLimited,
    HeadersTooLarge,
    Unavailable,
    ConnectionLost,
    Retry,
    Timeout,
    InternalError,
    OutsideCampaignWindow,
    CandidateConflict,
    VenueConflict,
    CapacityExceeded,
    InPersonNotAllowed,
    CapacityReached,
    OutsideCheckinWindow,
    MeetingNotEnded,
    AttendanceExceedsCapacity,
    ReportExists,
    MeetingCancelled,
    MeetingNotPlanned,
    MeetingEnded,
    CandidateWithdrawn,
    ScheduleEmailTooSoon,
    EmailNotFailed,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn all() -> impl Iterator<Item = Code> {
        Code::iter()
    }

    /// The HTTP status this code is always answered with.
    pub fn status(self) -> u16 {
        use Code::*;
        match self {
            BadRequest => 400,
            Unauthorized => 401,
            Forbidden => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            RequestTimeout => 408,
            AlreadyExists | CandidateConflict | VenueConflict | CapacityReached | ReportExists
            | MeetingCancelled | MeetingNotPlanned | EmailNotFailed => 409,
            PayloadTooLarge => 413,
            UriTooLong => 414,
            UnsupportedMediaType => 415,
            ValidationFailed
            | IdempotencyKeyReused
            | ImportFailed
            | OutsideCampaignWindow
            | CapacityExceeded
            | InPersonNotAllowed
            | OutsideCheckinWindow
            | MeetingNotEnded
            | AttendanceExceedsCapacity
            | MeetingEnded
            | CandidateWithdrawn => 422,
            PreconditionRequired => 428,
            VersionConflict => 412,
            RateLimited | ScheduleEmailTooSoon => 429,
            HeadersTooLarge => 431,
            Unavailable | ConnectionLost | Retry | Timeout => 503,
            InternalError => 500,
        }
    }

    /// When a client meets this code: the README's error table and the OpenAPI document.
    pub fn meaning(self) -> &'static str {
        use Code::*;
        match self {
            BadRequest => "body not JSON, unknown field, wrong type, malformed header or query string",
            Unauthorized => "no, malformed, unknown or revoked bearer token (with `WWW-Authenticate: Bearer`)",
            Forbidden => "outside the token's region, an observer changing something, not an admin",
            NotFound => "no such record (also a path id that is not a UUID), no such route",
            MethodNotAllowed => "a route that exists, with another method (with `Allow`)",
            RequestTimeout => "the request's headers or body did not arrive in time",
            AlreadyExists => "a unique name, code or email taken (compared case-insensitively after NFC)",
            PayloadTooLarge => "body above the route's limit",
            UriTooLong => "request target too long",
            UnsupportedMediaType => "body not sent with a content type the route reads",
            ValidationFailed => "fields individually invalid, or a referenced record missing; `errors` names each",
            IdempotencyKeyReused => "the same `Idempotency-Key` with another request",
            ImportFailed => "an import with bad rows; `errors` names every row, field and reason",
            PreconditionRequired => "a change that needs `If-Match` sent without it",
            VersionConflict => "`If-Match` names another version than the current one",
            RateLimited => "the token spent its request budget (with `Retry-After`)",
            HeadersTooLarge => "too many or too large request headers",
            Unavailable => "no database connection right now; retry shortly",
            ConnectionLost => "the database connection dropped mid-request; nothing was committed, retry",
            Retry => "a serialization failure or deadlock; nothing was committed, retry",
            Timeout => "a database statement ran past its time limit; nothing was committed",
            InternalError => "a bug; the cause is logged, never shown",
            OutsideCampaignWindow => "a meeting not entirely inside its election's campaign window (rule 1)",
            CandidateConflict => "a candidate already in an overlapping meeting, travel buffer included; `conflicting_meeting_id` (rule 2)",
            VenueConflict => "the venue already hosts an overlapping meeting; `conflicting_meeting_id` (rule 3)",
            CapacityExceeded => "a site expects more than its effective capacity, or online more than `max_participants`; `problems` (rule 4)",
            InPersonNotAllowed => "an in-person site while a rule in force bans gatherings; `problems` (rule 5)",
            CapacityReached => "a check-in that would put `present` above capacity (rule 6)",
            OutsideCheckinWindow => "a check-in before one hour ahead of the start, or after the end (rule 6)",
            MeetingNotEnded => "an attendance report before the meeting's end (rule 7)",
            AttendanceExceedsCapacity => "a reported site above its effective capacity, online above `max_participants` (rule 7)",
            ReportExists => "a second report without `correction_reason` (rule 7)",
            MeetingCancelled => "an attendance report for a cancelled meeting (rule 7)",
            MeetingNotPlanned => "changing, cancelling or checking in to a meeting that is cancelled or held",
            MeetingEnded => "cancelling or rescheduling a meeting that has ended, by anyone but an admin (rule 15)",
            CandidateWithdrawn => "a schedule email or calendar link for a withdrawn candidate",
            ScheduleEmailTooSoon => "a schedule email for a candidate who was sent one less than an hour ago; only an admin may send another (with `Retry-After`)",
            EmailNotFailed => "retrying an email that is not `failed` (`status` says what it is)",
        }
    }

    /// A short human title: the code in words.
    pub fn title(self) -> String {
        let mut t = self.as_str().replace('_', " ");
        if let Some(first) = t.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        t
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    #[schema(examples("ends_at", "sites[0].expected_attendees"))]
    pub field: String,
    pub message: String,
}

/// A request that cannot be done, as the client is told: a code, a detail, the fields at
/// fault and any extra members (e.g. the meeting a booking clashed with).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: Code,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub extra: Map<String, Value>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for Problem {}

impl Problem {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Problem {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Adds members to the problem object (an object value; anything else is ignored).
    pub fn with(mut self, more: Value) -> Self {
        if let Value::Object(more) = more {
            self.extra.extend(more);
        }
        self
    }

    /// A 422 `validation_failed` naming one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A 422 `validation_failed` naming every field at once.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!(
            "{} field(s) are invalid: {}",
            errors.len(),
            names.join(", ")
        );
        Problem {
            errors,
            ..Self::new(Code::ValidationFailed, detail)
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("no such {what}"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(Code::BadRequest, detail)
    }
}

/// Collects every invalid field of a request, so the client learns them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Keeps the value of a parse, or records its error under `field`.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else the 422 carrying every field.
    pub fn finish(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid(self.0))
        }
    }

    /// Like [`finish`](Self::finish), handing back a value every `take` vouched for: when no
    /// field failed, `value` is `Some`; `None` here would be a bug, reported, never a panic.
    pub fn done<T>(self, value: Option<T>) -> Result<T, Problem> {
        self.finish()?;
        value.ok_or_else(|| Problem::new(Code::InternalError, "a validated field went missing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_status_a_meaning_and_a_snake_case_name() {
        for code in Code::all() {
            let name = code.as_str();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!((400..600).contains(&code.status()), "{name}");
            assert!(!code.meaning().is_empty(), "{name}");
        }
        assert_eq!(Code::CandidateConflict.as_str(), "candidate_conflict");
        assert_eq!(Code::CandidateConflict.status(), 409);
        assert_eq!(Code::MeetingEnded.status(), 422);
    }

    #[test]
    fn field_errors_report_every_field_at_once() {
        let mut e = FieldErrors::new();
        e.add("name", "must not be empty");
        e.add("capacity", "must be between 1 and 100000");
        let p = e.finish().expect_err("two fields");
        assert_eq!(p.code, Code::ValidationFailed);
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.detail, "2 field(s) are invalid: name, capacity");
    }

    #[test]
    fn done_hands_back_the_vouched_value() {
        let mut e = FieldErrors::new();
        let n = e.take("n", Ok::<_, String>(3));
        assert_eq!(FieldErrors::new().done(n), Ok(3));
        let mut bad = FieldErrors::new();
        let none: Option<i32> = bad.take("n", Err("no".to_owned()));
        assert_eq!(
            bad.done(none).map_err(|p| p.code),
            Err(Code::ValidationFailed)
        );
    }
}
