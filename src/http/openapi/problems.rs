//! Which problems each operation answers, as [`Code`]s: the document's error responses are
//! built from this table, one per status, with the codes of that status as the enum of the
//! problem's `code`.
use std::collections::BTreeMap;

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{AllOfBuilder, ContentBuilder, ObjectBuilder, Ref, RefOr, Type};
use utoipa::Modify;

use crate::domain::problem::Code::{self, *};

/// Any request with a token: it may be unknown, or over its budget.
const TOKEN: &[Code] = &[Unauthorized, RateLimited];
/// Any request that reads or writes the database.
const DATABASE: &[Code] = &[Unavailable, ConnectionLost, Retry, Timeout];
/// A JSON body.
const BODY: &[Code] = &[
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
];
/// A query string.
const QUERY: &[Code] = &[BadRequest, ValidationFailed];
/// An `Idempotency-Key`.
const ONCE: &[Code] = &[IdempotencyKeyReused];

/// The problems of each operation, by `operationId`.
pub const PROBLEMS: [(&str, &[&[Code]]); 54] = [
    ("healthz", &[]),
    ("readyz", &[DATABASE]),
    ("metrics", &[TOKEN, DATABASE, &[Forbidden]]),
    ("openapi", &[TOKEN]),
    ("getMe", &[TOKEN, DATABASE]),
    ("createToken", &[TOKEN, DATABASE, BODY, ONCE, &[Forbidden]]),
    ("listTokens", &[TOKEN, DATABASE, QUERY, &[Forbidden]]),
    (
        "createRegion",
        &[TOKEN, DATABASE, BODY, ONCE, &[Forbidden, AlreadyExists]],
    ),
    ("listRegions", &[TOKEN, DATABASE, QUERY]),
    ("getRegion", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    (
        "updateRegion",
        &[TOKEN, DATABASE, BODY, &[Forbidden, NotFound, AlreadyExists]],
    ),
    (
        "createElection",
        &[TOKEN, DATABASE, BODY, ONCE, &[Forbidden]],
    ),
    ("listElections", &[TOKEN, DATABASE, QUERY]),
    ("getElection", &[TOKEN, DATABASE, &[NotFound]]),
    (
        "updateElection",
        &[TOKEN, DATABASE, BODY, &[Forbidden, NotFound]],
    ),
    (
        "createElectoralUnit",
        &[
            TOKEN,
            DATABASE,
            BODY,
            ONCE,
            &[Forbidden, NotFound, AlreadyExists],
        ],
    ),
    ("listElectoralUnits", &[TOKEN, DATABASE, QUERY, &[NotFound]]),
    (
        "getElectoralUnit",
        &[TOKEN, DATABASE, &[Forbidden, NotFound]],
    ),
    (
        "updateElectoralUnit",
        &[TOKEN, DATABASE, BODY, &[Forbidden, NotFound, AlreadyExists]],
    ),
    (
        "createCandidate",
        &[
            TOKEN,
            DATABASE,
            BODY,
            ONCE,
            &[Forbidden, NotFound, AlreadyExists],
        ],
    ),
    (
        "listCandidates",
        &[TOKEN, DATABASE, QUERY, &[Forbidden, NotFound]],
    ),
    ("getCandidate", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    (
        "updateCandidate",
        &[TOKEN, DATABASE, BODY, &[Forbidden, NotFound, AlreadyExists]],
    ),
    (
        "createVenue",
        &[TOKEN, DATABASE, BODY, ONCE, &[Forbidden, AlreadyExists]],
    ),
    ("listVenues", &[TOKEN, DATABASE, QUERY]),
    ("getVenue", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    (
        "updateVenue",
        &[TOKEN, DATABASE, BODY, &[Forbidden, NotFound, AlreadyExists]],
    ),
    (
        "getVenueCapacity",
        &[TOKEN, DATABASE, QUERY, &[Forbidden, NotFound]],
    ),
    (
        "createHealthRule",
        &[TOKEN, DATABASE, BODY, ONCE, &[Forbidden]],
    ),
    ("listHealthRules", &[TOKEN, DATABASE, QUERY]),
    ("getHealthRule", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    (
        "updateHealthRule",
        &[TOKEN, DATABASE, BODY, &[Forbidden, NotFound]],
    ),
    (
        "createMeeting",
        &[
            TOKEN,
            DATABASE,
            BODY,
            ONCE,
            &[
                Forbidden,
                CandidateConflict,
                VenueConflict,
                OutsideCampaignWindow,
                CapacityExceeded,
                InPersonNotAllowed,
            ],
        ],
    ),
    ("listMeetings", &[TOKEN, DATABASE, QUERY]),
    ("getMeeting", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    (
        "updateMeeting",
        &[
            TOKEN,
            DATABASE,
            BODY,
            &[
                Forbidden,
                NotFound,
                MeetingNotPlanned,
                CandidateConflict,
                VenueConflict,
                VersionConflict,
                OutsideCampaignWindow,
                CapacityExceeded,
                InPersonNotAllowed,
                MeetingEnded,
                PreconditionRequired,
            ],
        ],
    ),
    (
        "cancelMeeting",
        &[
            TOKEN,
            DATABASE,
            BODY,
            &[Forbidden, NotFound, MeetingNotPlanned, MeetingEnded],
        ],
    ),
    (
        "checkIn",
        &[
            TOKEN,
            DATABASE,
            BODY,
            ONCE,
            &[
                Forbidden,
                NotFound,
                CapacityReached,
                MeetingNotPlanned,
                OutsideCheckinWindow,
            ],
        ],
    ),
    (
        "fileAttendanceReport",
        &[
            TOKEN,
            DATABASE,
            BODY,
            &[
                Forbidden,
                NotFound,
                ReportExists,
                MeetingCancelled,
                VersionConflict,
                MeetingNotEnded,
                AttendanceExceedsCapacity,
            ],
        ],
    ),
    (
        "getAttendanceReport",
        &[TOKEN, DATABASE, &[Forbidden, NotFound]],
    ),
    (
        "attendanceReport",
        &[TOKEN, DATABASE, QUERY, &[Forbidden, NotFound]],
    ),
    (
        "overdueReport",
        &[TOKEN, DATABASE, QUERY, &[Forbidden, NotFound]],
    ),
    (
        "fairnessReport",
        &[TOKEN, DATABASE, QUERY, &[Forbidden, NotFound]],
    ),
    (
        "queueScheduleEmail",
        &[
            TOKEN,
            DATABASE,
            ONCE,
            &[
                BadRequest,
                Forbidden,
                NotFound,
                CandidateWithdrawn,
                ScheduleEmailTooSoon,
            ],
        ],
    ),
    (
        "queueScheduleEmails",
        &[TOKEN, DATABASE, QUERY, ONCE, &[Forbidden, NotFound]],
    ),
    (
        "candidateCalendar",
        &[TOKEN, DATABASE, &[Forbidden, NotFound]],
    ),
    ("listOutbox", &[TOKEN, DATABASE, QUERY, &[Forbidden]]),
    ("getOutboxEmail", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    ("listAudit", &[TOKEN, DATABASE, QUERY, &[Forbidden]]),
    (
        "rotateCalendarLink",
        &[
            TOKEN,
            DATABASE,
            ONCE,
            &[BadRequest, Forbidden, NotFound, CandidateWithdrawn],
        ],
    ),
    (
        "retryOutboxEmail",
        &[TOKEN, DATABASE, &[Forbidden, NotFound, EmailNotFailed]],
    ),
    ("subscribedCalendar", &[DATABASE, &[NotFound]]),
    ("revokeToken", &[TOKEN, DATABASE, &[Forbidden, NotFound]]),
    (
        "importRows",
        &[
            TOKEN,
            DATABASE,
            BODY,
            ONCE,
            &[Forbidden, NotFound, AlreadyExists, ImportFailed],
        ],
    ),
];

/// Responses kept once under `components/responses`, for the operations whose problems of
/// that status are exactly these.
const SHARED: [(&str, &[Code]); 9] = [
    ("BadRequest", &[BadRequest]),
    ("Unauthorized", &[Unauthorized]),
    ("Forbidden", &[Forbidden]),
    ("NotFound", &[NotFound]),
    ("ValidationFailed", &[ValidationFailed]),
    ("PayloadTooLarge", &[PayloadTooLarge]),
    ("UnsupportedMediaType", &[UnsupportedMediaType]),
    (
        "Unavailable",
        &[Unavailable, ConnectionLost, Retry, Timeout],
    ),
    ("RateLimited", &[RateLimited]),
];

/// The codes of `operation`, by status.
pub fn by_status(operation: &str) -> BTreeMap<u16, Vec<Code>> {
    let mut out: BTreeMap<u16, Vec<Code>> = BTreeMap::new();
    let groups = PROBLEMS
        .iter()
        .filter(|(id, _)| *id == operation)
        .flat_map(|(_, groups)| groups.iter());
    for code in groups.flat_map(|g| g.iter()) {
        let codes = out.entry(code.status()).or_default();
        if !codes.contains(code) {
            codes.push(*code);
        }
    }
    out
}

fn same(a: &[Code], b: &[Code]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

/// "`code`: when a client meets it" for each code, as the README's tables say it.
fn describe(codes: &[Code]) -> String {
    codes
        .iter()
        .map(|c| format!("`{}`: {}", c.as_str(), c.meaning()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A problem+json response whose `code` is one of `codes`, with the headers `problem::render`
/// sends at their status.
fn response(description: String, codes: &[Code]) -> Response {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.as_str())));
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("code", code),
        );
    let answer = ResponseBuilder::new().description(description).content(
        super::super::problem::PROBLEM_JSON,
        ContentBuilder::new().schema(Some(schema)).build(),
    );
    let mut answer = answer.build();
    let statuses: Vec<u16> = codes.iter().map(|c| c.status()).collect();
    let mut header = |name: &str, component: &str| {
        let at = Ref::new(format!("#/components/headers/{component}"));
        answer.headers.insert(name.to_owned(), RefOr::Ref(at));
    };
    if statuses.contains(&401) {
        header("WWW-Authenticate", "WWWAuthenticate");
    }
    if statuses.iter().any(|s| *s == 429 || *s == 503) {
        header("Retry-After", "RetryAfter");
    }
    answer
}

/// Fills every operation's error responses from [`PROBLEMS`]. A response the operation's
/// `#[utoipa::path]` already declares keeps its description, which says more than the codes'.
pub struct Problems;

impl Modify for Problems {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (_, _, op) in super::operations_mut(&mut doc.paths.paths) {
            let id = op.operation_id.clone().unwrap_or_default();
            for (status, codes) in by_status(&id) {
                let key = status.to_string();
                let described = match op.responses.responses.get(&key) {
                    Some(RefOr::T(declared)) => Some(declared.description.clone()),
                    _ => None,
                };
                let shared = SHARED.iter().find(|(_, c)| same(c, &codes));
                let answer = match (shared, described) {
                    (Some((name, _)), None) => {
                        RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
                    }
                    (_, described) => RefOr::T(response(
                        described.unwrap_or_else(|| describe(&codes)),
                        &codes,
                    )),
                };
                op.responses.responses.insert(key, answer);
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, codes) in SHARED {
            components
                .responses
                .insert(name.to_owned(), RefOr::T(response(describe(codes), codes)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{by_status, PROBLEMS};
    use crate::http::openapi::DOCUMENT;

    #[test]
    fn every_operation_has_its_problems_and_every_row_names_an_operation() {
        let operations: BTreeSet<&str> = DOCUMENT["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let listed: BTreeSet<&str> = PROBLEMS.iter().map(|(id, _)| *id).collect();
        assert_eq!(operations, listed);
        assert_eq!(listed.len(), PROBLEMS.len(), "an operation listed twice");
    }

    #[test]
    fn every_error_response_says_which_problems_it_answers() {
        let paths = DOCUMENT["paths"].as_object().expect("paths");
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("path item") {
                let responses = op["responses"].as_object().expect("responses");
                for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
                    let has_codes = response["$ref"].is_string()
                        || response["content"]["application/problem+json"].is_object();
                    assert!(has_codes, "{method} {path} {status} names no problem code");
                }
            }
        }
    }

    #[test]
    fn an_error_response_lists_the_codes_of_its_status_and_a_shared_one_is_referred_to() {
        assert_eq!(by_status("createMeeting").len(), 9);
        let created = &DOCUMENT["paths"]["/api/v1/meetings"]["post"]["responses"]["409"];
        let schema = &created["content"]["application/problem+json"]["schema"];
        assert_eq!(
            schema["allOf"][1]["properties"]["code"]["enum"],
            serde_json::json!(["candidate_conflict", "venue_conflict"])
        );
        let unavailable = &DOCUMENT["paths"]["/api/v1/meetings"]["post"]["responses"]["503"];
        assert_eq!(unavailable["$ref"], "#/components/responses/Unavailable");
    }
}
