//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, generated once from the
//! code — each handler's `#[utoipa::path]`, the `ToSchema` of the request and response types
//! — and finished by the modifiers below with what utoipa cannot say on its own: the shared
//! parameters and headers, every operation's problem codes, the links from each creating
//! operation. Like every endpoint but the health checks (SPEC §4) it needs a token — any role.
pub mod inputs;
pub mod problems;
pub mod rows;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, Parameter, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Ref, RefOr, Schema, Type};
use utoipa::{IntoParams, Modify, OpenApi};

use self::inputs::{IdempotencyKey, IfMatch, Paging};
use self::problems::Problems;

/// The document as JSON, built at its first use; `semantics` reads its routes.
pub static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes to JSON")
});

/// The document as sent.
static BODY: LazyLock<String> = LazyLock::new(|| DOCUMENT.to_string());

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").get(document));
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "health",
    summary = "This document (any valid token; SPEC §4: only health checks are open)",
    responses(
        (status = 200, description = "The OpenAPI document.", body = Object),
    ),
)]
async fn document(_who: super::auth::Caller) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(BODY.as_str())
}

const DESCRIPTION: &str = "Plan voter-contact meetings (hội nghị tiếp xúc cử tri) inside the \
capacity that public-health rules allow, count attendance, report it, and email each candidate \
their schedule.\n\nConventions: JSON bodies; timestamps RFC 3339 with offset; ids are UUIDs; \
errors are `application/problem+json` with a stable `code`. Lists are paginated with `?limit=` \
(default 50, max 500) and `?cursor=`, answering `{items, next_cursor}`. Every operation needs \
`Authorization: Bearer <token>` except /healthz, /readyz and a calendar subscription.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "voter-meetings",
        description = DESCRIPTION,
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((
        url = "/",
        description = "This service; the API lives under /api/v1, health checks and metrics at the root.",
    )),
    security(("bearerAuth" = [])),
    tags(
        (name = "health"),
        (name = "tokens"),
        (name = "regions"),
        (name = "elections"),
        (name = "venues"),
        (name = "health-rules"),
        (name = "meetings"),
        (name = "attendance"),
        (name = "reports"),
        (name = "email"),
        (name = "audit"),
        (name = "imports"),
    ),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::metrics::scrape,
        document,
        super::me::me,
        super::me::create_token,
        super::me::list_tokens,
        super::me::revoke_token,
        super::regions::create,
        super::regions::list,
        super::regions::get,
        super::regions::patch,
        super::elections::create_election,
        super::elections::list_elections,
        super::elections::get_election,
        super::elections::patch_election,
        super::elections::create_unit,
        super::elections::list_units,
        super::elections::get_unit,
        super::elections::patch_unit,
        super::elections::create_candidate,
        super::elections::list_candidates,
        super::elections::get_candidate,
        super::elections::patch_candidate,
        super::venues::create,
        super::venues::list,
        super::venues::get,
        super::venues::patch,
        super::venues::capacity,
        super::health_rules::create,
        super::health_rules::list,
        super::health_rules::get,
        super::health_rules::patch,
        super::meetings::create,
        super::meetings::list,
        super::meetings::get,
        super::meetings::patch,
        super::meetings::cancel,
        super::attendance::check_in,
        super::attendance::file_report,
        super::attendance::read_report,
        super::reports::attendance,
        super::reports::overdue,
        super::reports::fairness,
        super::schedules::queue_one,
        super::schedules::queue_all,
        super::schedules::calendar,
        super::schedules::calendar_link,
        super::calendars::feed,
        super::outbox::list,
        super::outbox::get,
        super::outbox::retry,
        super::audit::list,
        super::imports::import,
    ),
    components(schemas(
        super::problem::ProblemSchema,
        super::outbox::Order,
        super::reports::ReportFormat,
        super::spreadsheets::Lang,
    )),
    modifiers(&Bearer, &Shared, &Problems, &Links, &Pages, &Distinct),
)]
struct ApiDoc;

/// The bearer tokens of `voter-meetings token create` and `POST /tokens`, which every
/// operation needs but those marked `security(())`: utoipa writes that `[{}]` (a token or
/// none), the document `[]` (none).
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("vm_<64 hex digits>")
            .description(Some(
                "An API token from `voter-meetings token create` or POST /api/v1/tokens. \
                 Organizer and observer tokens reach their region subtree; observers cannot \
                 change anything.",
            ))
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearerAuth", SecurityScheme::Http(scheme));
        for (_, _, op) in operations_mut(&mut doc.paths.paths) {
            let open = |s: &Vec<SecurityRequirement>| s.iter().all(|r| r == &Default::default());
            if op.security.as_ref().is_some_and(open) {
                op.security = Some(Vec::new());
            }
        }
    }
}

/// The response headers several operations send: `(name, component, header)`.
fn shared_headers() -> Vec<(&'static str, &'static str, Header)> {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    vec![
        (
            "ETag",
            "ETag",
            HeaderBuilder::new()
                .schema(Some(string()))
                .description(Some(
                    "The version of what was answered, quoted (`\"3\"`): a meeting's version, \
                     a report's revision, a calendar's digest.",
                ))
                .build(),
        ),
        (
            "Location",
            "Location",
            HeaderBuilder::new()
                .schema(Some(string().format(Some(
                    utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::UriReference,
                    ),
                ))))
                .description(Some("The URL of the created resource."))
                .build(),
        ),
        (
            "Idempotent-Replayed",
            "IdempotentReplayed",
            HeaderBuilder::new()
                .schema(Some(string().enum_values(Some(["true"]))))
                .description(Some(
                    "`true` when this is the stored answer to an earlier request with the same \
                     Idempotency-Key.",
                ))
                .build(),
        ),
        (
            "WWW-Authenticate",
            "WWWAuthenticate",
            HeaderBuilder::new()
                .schema(Some(string().enum_values(Some(["Bearer"]))))
                .build(),
        ),
        (
            "Retry-After",
            "RetryAfter",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("Seconds to wait before trying again."))
                .build(),
        ),
    ]
}

/// The parameters several operations take, from their `IntoParams`: `(component, parameter)`.
fn shared_parameters() -> Vec<(String, Parameter)> {
    let mut out = Vec::new();
    for params in [
        inputs::Id::into_params(|| None),
        Paging::into_params(|| None),
        IdempotencyKey::into_params(|| None),
        IfMatch::into_params(|| None),
    ] {
        for p in params {
            let name: String = p
                .name
                .split(['-', '_'])
                .map(|w| {
                    let mut w = w.to_owned();
                    if let Some(first) = w.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    w
                })
                .collect();
            out.push((name, p));
        }
    }
    out
}

/// Every operation of the document, with its method and path.
pub(crate) fn operations_mut(
    paths: &mut BTreeMap<String, PathItem>,
) -> impl Iterator<Item = (&'static str, &String, &mut Operation)> {
    paths.iter_mut().flat_map(|(path, item)| {
        [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ]
        .into_iter()
        .filter_map(move |(method, op)| op.as_mut().map(|op| (method, path, op)))
    })
}

/// Shared parameters and headers become components, and the operations refer to them.
struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let parameters = shared_parameters();
        let headers = shared_headers();
        for (_, _, op) in operations_mut(&mut doc.paths.paths) {
            for p in op.parameters.iter_mut().flatten() {
                let RefOr::T(inline) = p else { continue };
                let shared = parameters.iter().find(|(_, s)| s == inline);
                if let Some((component, _)) = shared {
                    *p = RefOr::Ref(Ref::new(format!("#/components/parameters/{component}")));
                }
            }
            for response in op.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                for (name, header) in response.headers.iter_mut() {
                    if let Some((_, component, _)) = headers.iter().find(|(n, _, _)| n == name) {
                        *header = RefOr::Ref(Ref::new(format!("#/components/headers/{component}")));
                    }
                }
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        for (component, p) in parameters {
            components.parameters.insert(component, RefOr::T(p));
        }
        for (_, component, h) in headers {
            components.headers.insert(component.to_owned(), RefOr::T(h));
        }
    }
}

/// Each `201` of a `POST /…/things` links to every operation on `/…/things/{id}` and below,
/// with the created `id` as their `{id}`.
struct Links;

impl Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut on_item: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        for (method, path, op) in operations_mut(&mut doc.paths.paths) {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            if let Some((item, _)) = path.split_once("/{id}") {
                let created = item.rsplit('/').next().unwrap_or_default().to_owned();
                on_item
                    .entry(created)
                    .or_default()
                    .push((id, method.to_owned(), path.clone()));
            }
        }
        for (method, path, op) in operations_mut(&mut doc.paths.paths) {
            if method != "POST" {
                continue;
            }
            let Some(RefOr::T(created)) = op.responses.responses.get_mut("201") else {
                continue;
            };
            let things = path.rsplit('/').next().unwrap_or_default();
            for (id, method, target) in on_item.get(things).into_iter().flatten() {
                let link = LinkBuilder::new()
                    .operation_id(id)
                    .parameter("path.id", "$response.body#/id")
                    .description(format!(
                        "The `id` of the created resource as `{{id}}` of {method} {target}."
                    ))
                    .build();
                created.links.insert(id.clone(), RefOr::T(link));
            }
        }
    }
}

/// utoipa names a `Page<Meeting>` `Page_Meeting` and copies `Meeting` into it; the document
/// calls it `MeetingPage`, its items refer to `Meeting`.
struct Pages;

impl Modify for Pages {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let generic: Vec<String> = components
            .schemas
            .keys()
            .filter(|name| name.starts_with("Page_"))
            .cloned()
            .collect();
        let mut renamed = BTreeMap::new();
        for old in generic {
            let item = old.trim_start_matches("Page_").to_owned();
            let Some(RefOr::T(Schema::Object(mut page))) = components.schemas.remove(&old) else {
                continue;
            };
            page.description = Some(format!("One page of {item} records."));
            let items = ArrayBuilder::new()
                .items(Ref::from_schema_name(&item))
                .build();
            page.properties.insert("items".into(), items.into());
            let new = format!("{item}Page");
            components
                .schemas
                .insert(new.clone(), RefOr::T(Schema::Object(page)));
            renamed.insert(
                format!("#/components/schemas/{old}"),
                format!("#/components/schemas/{new}"),
            );
        }
        for (_, _, op) in operations_mut(&mut doc.paths.paths) {
            for response in op.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                for content in response.content.values_mut() {
                    let RefOr::T(content) = content else { continue };
                    if let Some(RefOr::Ref(at)) = &mut content.schema {
                        if let Some(new) = renamed.get(&at.ref_location) {
                            at.ref_location.clone_from(new);
                        }
                    }
                }
            }
        }
    }
}

/// Arrays whose items must differ, which `#[schema]` cannot say: `(schema, property)`.
/// `electoral_unit_ids`: `app::meetings` refuses a unit listed twice.
const DISTINCT: [(&str, &str); 1] = [("NewMeeting", "electoral_unit_ids")];

struct Distinct;

impl Modify for Distinct {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (schema, property) in DISTINCT {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
                continue;
            };
            if let Some(RefOr::T(Schema::Array(array))) = object.properties.get_mut(property) {
                array.unique_items = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::DOCUMENT;
    use crate::app::elections::{minimums, MinimumMeetings};
    use crate::domain::kinds::{self, Body};
    use crate::domain::problem::{Code, FieldError, Problem};
    use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};

    fn schema(name: &str) -> &'static Value {
        &DOCUMENT["components"]["schemas"][name]
    }

    fn properties(name: &str) -> BTreeSet<String> {
        schema(name)["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_document_is_openapi_3_1_with_paths() {
        assert_eq!(DOCUMENT["openapi"], "3.1.0");
        assert!(DOCUMENT["paths"].as_object().is_some_and(|p| p.len() > 30));
    }

    #[test]
    fn the_limit_parameter_states_the_bounds_pagination_checks() {
        let limit = &DOCUMENT["components"]["parameters"]["Limit"]["schema"];
        assert_eq!(limit["default"], DEFAULT_LIMIT);
        assert_eq!(limit["maximum"], MAX_LIMIT);
        assert_eq!(limit["minimum"], 1);
    }

    #[test]
    fn a_new_health_rule_has_the_fields_a_patch_has() {
        assert_eq!(properties("NewHealthRule"), properties("HealthRulePatch"));
        let required = &schema("NewHealthRule")["required"];
        assert_eq!(required, &json!(["region_id", "effective_from"]));
    }

    #[test]
    fn minimum_meetings_name_every_body_with_the_bounds_the_election_checks() {
        let bodies: BTreeSet<String> = kinds::names::<Body>()
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(properties("MinimumMeetings"), bodies);
        for body in &bodies {
            let bounds = &schema("MinimumMeetings")["properties"][body];
            let (min, max) = (bounds["minimum"].as_i64(), bounds["maximum"].as_i64());
            let (min, max) = (min.expect("minimum"), max.expect("maximum"));
            assert!(minimums(&json!({ body: min })).is_ok(), "{body} {min}");
            assert!(minimums(&json!({ body: max })).is_ok(), "{body} {max}");
            assert!(minimums(&json!({ body: min - 1 })).is_err(), "{body} below");
            assert!(minimums(&json!({ body: max + 1 })).is_err(), "{body} above");
            let parsed: Result<MinimumMeetings, _> = serde_json::from_value(json!({ body: max }));
            assert!(parsed.is_ok(), "{body}");
        }
        assert!(minimums(&json!({"senate": 1})).is_err());
        assert!(serde_json::from_value::<MinimumMeetings>(json!({"senate": 1})).is_err());
    }

    #[test]
    fn the_problem_schema_lists_what_a_problem_body_holds() {
        let mut problem = Problem::new(Code::ValidationFailed, "bad fields");
        problem.errors.push(FieldError {
            field: "ends_at".into(),
            message: "must be after starts_at".into(),
        });
        let body = crate::http::problem::body(&problem);
        let sent: BTreeSet<String> = body.as_object().expect("object").keys().cloned().collect();
        assert_eq!(sent, properties("Problem"));
        let codes: Vec<&str> = Code::all().map(Code::as_str).collect();
        assert_eq!(
            schema("Problem")["properties"]["code"]["enum"],
            json!(codes)
        );
    }

    #[test]
    fn every_operation_taking_an_idempotency_key_documents_its_refusals() {
        let key = json!({"$ref": "#/components/parameters/IdempotencyKey"});
        let mut taking = Vec::new();
        for (path, item) in DOCUMENT["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                if !params.contains(&key) {
                    continue;
                }
                taking.push(format!("{method} {path}"));
                let responses = &op["responses"];
                assert!(responses["400"].is_object(), "{method} {path}: no 400");
                assert!(
                    responses["422"]
                        .to_string()
                        .contains("\"idempotency_key_reused\""),
                    "{method} {path}: 422 lacks idempotency_key_reused"
                );
            }
        }
        assert!(
            taking.contains(&"post /api/v1/tokens".to_owned()),
            "{taking:?}"
        );
        assert!(
            taking.contains(&"post /api/v1/candidates/{id}/calendar-link".to_owned()),
            "{taking:?}"
        );
    }

    #[test]
    fn the_idempotency_key_parameter_states_what_key_of_accepts() {
        let key = &DOCUMENT["components"]["parameters"]["IdempotencyKey"]["schema"];
        assert_eq!(
            (&key["minLength"], &key["maxLength"]),
            (&json!(1), &json!(255))
        );
        assert_eq!(key["pattern"], "^[!-~]{1,255}$");
        let accepted = |key: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header(("Idempotency-Key", key))
                .to_http_request();
            crate::http::idempotency::key_of(&req).is_ok()
        };
        assert!(accepted(&"k".repeat(255)) && accepted("!~"));
        assert!(!accepted(&"k".repeat(256)) && !accepted("two words") && !accepted("ké"));
    }
}
