//! `GET /api/v1/openapi.json`: the document is OpenAPI 3, every operation it lists is routed,
//! and every route the service serves is in it.
use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::app::Code;
use crate::helpers::fixtures::Reports;
use crate::helpers::{from_now, spawn_app, Answer, Role, TestApp};

/// The modules `http::configure` mounts at the root; every other one sits under `/api/v1`.
const ROOT_MODULES: [&str; 3] = ["health.rs", "metrics.rs", "calendars.rs"];
/// Modules that serve pages for people, not API operations (`/api/docs`).
const PAGE_MODULES: [&str; 1] = ["docs.rs"];

/// Every route the source registers, read off the `configure` functions of `src/http/*.rs`:
/// each `web::resource("PATH")` with the `.get(`/`.post(`/… that follow it, and each
/// `.route("PATH", web::get()…)`. A route added there without a `#[utoipa::path]` on its
/// handler (listed in `http::openapi`'s `paths`) fails
/// `every_served_route_is_documented_and_nothing_else`.
fn served() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("src/http") {
        let path = entry.expect("entry").path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        if !file.ends_with(".rs") || PAGE_MODULES.contains(&file) {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source");
        let prefix = if ROOT_MODULES.contains(&file) {
            ""
        } else {
            "/api/v1"
        };
        for (pattern, methods) in registrations(&source) {
            for method in methods {
                out.insert((method, format!("{prefix}{pattern}")));
            }
        }
    }
    out
}

/// `(path, methods)` of each registration in one file's source.
fn registrations(source: &str) -> Vec<(String, Vec<String>)> {
    const VERBS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let mut out = Vec::new();
    for (marker, chained) in [("web::resource(\"", true), (".route(\"", false)] {
        let mut rest = source;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let Some(close) = rest.find('"') else { break };
            let pattern = rest[..close].to_owned();
            let after = &rest[close..];
            // A resource's methods follow it up to the next registration or the statement's end.
            let stop = ["web::resource(", ".route(\"", ";"]
                .iter()
                .filter_map(|m| after.find(m))
                .min()
                .unwrap_or(after.len());
            let chain = &after[..stop];
            let methods: Vec<String> = VERBS
                .iter()
                .filter(|v| {
                    let dotted = format!(".{v}(");
                    let routed = format!("web::{v}()");
                    (chained && chain.contains(&dotted)) || chain.contains(&routed)
                })
                .map(|v| v.to_uppercase())
                .collect();
            out.push((pattern, methods));
        }
    }
    out
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(app: &TestApp) -> Value {
    app.get("/openapi.json", &app.admin).await.ok(200).clone()
}

/// `(METHOD, path)` of every operation the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// A documented path as `TestApp::request` takes it: `/api/v1` off (it adds it back),
/// every `{param}` a fresh UUID.
fn concrete(path: &str) -> String {
    let relative = path.strip_prefix("/api/v1").unwrap_or(path);
    relative
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                Uuid::new_v4().to_string()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The router's own answers for a request no route takes: the default service's 404, or
/// 405 from a resource that exists but not for this method.
fn is_unrouted(answer: &Answer) -> bool {
    let no_route = answer.status == 404
        && answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("no route for"));
    no_route || answer.status == 405
}

#[actix_web::test]
async fn the_document_is_openapi_3_and_served_to_any_token() {
    let app = spawn_app().await;
    app.request(Method::GET, "/openapi.json", None, None, &[])
        .await
        .problem(401, "unauthorized");
    let observer = app.token(Role::Observer, None);
    let answer = app.get("/openapi.json", &observer).await;
    let doc = answer.ok(200);
    assert!(answer.content_type().starts_with("application/json"));
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert_eq!(doc["info"]["title"], "voter-meetings");
    assert!(doc["info"]["version"].is_string());
    let bearer = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(
        (&bearer["type"], &bearer["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    assert_eq!(doc["security"], json!([{"bearerAuth": []}]));
    let problem = &doc["components"]["schemas"]["Problem"];
    for member in ["type", "title", "status", "detail", "code", "errors"] {
        assert!(
            problem["properties"][member].is_object(),
            "Problem.{member}"
        );
    }
    // The open endpoints say so; the rest inherit the bearer requirement.
    for (path, open) in [
        ("/healthz", true),
        ("/readyz", true),
        ("/api/v1/openapi.json", false),
        ("/metrics", false),
        ("/api/v1/meetings", false),
    ] {
        assert_eq!(
            doc["paths"][path]["get"]["security"] == json!([]),
            open,
            "{path}"
        );
    }
}

#[actix_web::test]
async fn the_unrouted_detector_tells_the_routers_answers_from_the_handlers() {
    let app = spawn_app().await;
    let missing = app.get("/no-such-route", &app.admin).await;
    assert!(is_unrouted(&missing), "{}", missing.text);
    let wrong_method = app
        .request(Method::DELETE, "/regions", Some(&app.admin), None, &[])
        .await;
    assert!(is_unrouted(&wrong_method), "{}", wrong_method.text);
    let no_such_region = app
        .get(&format!("/regions/{}", Uuid::new_v4()), &app.admin)
        .await;
    no_such_region.problem(404, "not_found");
    assert!(!is_unrouted(&no_such_region), "{}", no_such_region.text);
}

#[actix_web::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut unrouted = Vec::new();
    for (method, path) in operations(&doc) {
        let has_body = doc["paths"][&path][method.to_lowercase()]["requestBody"].is_object();
        let answer = app
            .request(
                Method::from_bytes(method.as_bytes()).expect("method"),
                &concrete(&path),
                Some(&app.admin),
                has_body.then(|| json!({})),
                &[],
            )
            .await;
        if is_unrouted(&answer) {
            unrouted.push(format!(
                "{method} {path}: {} {}",
                answer.status, answer.text
            ));
        }
    }
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:#?}"
    );
}

#[actix_web::test]
async fn every_served_route_is_documented_and_nothing_else() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let served = served();
    assert!(
        served.len() > 40,
        "the source scan found the routes: {served:?}"
    );
    let documented = operations(&doc);
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

/// Every `$ref` in the document, with where it sits.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(target) = child.as_str() {
                        out.push((at.to_owned(), target.to_owned()));
                    }
                } else {
                    refs(child, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[actix_web::test]
async fn every_reference_resolves_and_every_operation_answers_something() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 100, "the document uses components");
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .collect();
    assert!(dangling.is_empty(), "unresolved $ref: {dangling:?}");
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        if op["security"] != json!([]) {
            assert!(
                responses.contains_key("401"),
                "{method} {path} needs a token but documents no 401"
            );
        }
    }
}

#[actix_web::test]
async fn each_creating_operation_links_to_every_operation_on_what_it_created() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let ids: BTreeSet<String> = operations(&doc)
        .iter()
        .filter_map(|(m, p)| doc["paths"][p][m.to_lowercase()]["operationId"].as_str())
        .map(str::to_owned)
        .collect();
    let mut creators = 0;
    for (method, path) in operations(&doc) {
        let created = &doc["paths"][&path][method.to_lowercase()]["responses"]["201"];
        if method != "POST" || !created.is_object() {
            continue;
        }
        creators += 1;
        let item = format!("/api/v1/{}/{{id}}", path.rsplit('/').next().unwrap_or(""));
        let using: BTreeSet<String> = operations(&doc)
            .iter()
            .filter(|(_, p)| *p == item || p.starts_with(&format!("{item}/")))
            .filter_map(|(m, p)| doc["paths"][p][m.to_lowercase()]["operationId"].as_str())
            .map(str::to_owned)
            .collect();
        let links = created["links"].as_object().cloned().unwrap_or_default();
        if using.is_empty() {
            // What it creates has no operations of its own (a calendar link is a URL).
            assert!(links.is_empty(), "{path} links to {links:?}");
            continue;
        }
        for id in &using {
            let link = &links[id];
            assert_eq!(link["operationId"], json!(id), "{path} → {id}");
            assert_eq!(link["parameters"]["path.id"], "$response.body#/id");
        }
        assert!(links.keys().all(|k| ids.contains(k)), "{path}: {links:?}");
    }
    assert!(
        creators >= 8,
        "the creating operations were found: {creators}"
    );
}

/// `(status, code)` of every row of the README's error tables (`| 409 | `code` | … |`).
fn readme_codes() -> BTreeSet<(u16, String)> {
    let readme = include_str!("../../README.md");
    readme
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let status = cells.next()?.parse::<u16>().ok()?;
            let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            Some((status, code.to_owned()))
        })
        .collect()
}

#[actix_web::test]
async fn every_problem_code_is_in_the_readme_and_the_document_with_its_status() {
    let codes: BTreeSet<(u16, String)> = Code::all()
        .map(|c| (c.status(), c.as_str().to_owned()))
        .collect();
    let readme = readme_codes();
    let undocumented: Vec<_> = codes.difference(&readme).collect();
    let stale: Vec<_> = readme.difference(&codes).collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from the README tables: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "README rows that are no code (or the wrong status): {stale:?}"
    );

    let app = spawn_app().await;
    let doc = document(&app).await;
    let listed: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["code"]
        ["enum"]
        .as_array()
        .expect("Problem.code has an enum")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    let names: BTreeSet<String> = codes.into_iter().map(|(_, c)| c).collect();
    assert_eq!(listed, names, "Problem.code's enum is the list of codes");
}

/// `doc`'s object at `pointer` (`#/components/…`), or the value itself when it is no `$ref`.
fn resolved<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(target) => resolved(doc, doc.pointer(&target[1..]).unwrap_or(&Value::Null)),
        None => v,
    }
}

#[actix_web::test]
async fn the_served_document_is_structurally_valid_openapi_3_1() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, t)| t.strip_prefix('#').is_none_or(|p| doc.pointer(p).is_none()))
        .collect();
    assert!(dangling.is_empty(), "unresolved $ref: {dangling:?}");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let at = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{at}: operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        for tag in op["tags"].as_array().expect("tags") {
            assert!(tags.contains(tag.as_str().unwrap_or("")), "{at}: tag {tag}");
        }
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| resolved(&doc, p)).collect())
            .unwrap_or_default();
        let mut declared = BTreeSet::new();
        for p in &params {
            let (name, place) = (p["name"].as_str(), p["in"].as_str());
            let (name, place) = (name.expect("name"), place.expect("in"));
            assert!(
                ["path", "query", "header", "cookie"].contains(&place),
                "{at}: {name} in {place}"
            );
            assert!(p["schema"].is_object(), "{at}: {name} has a schema");
            assert!(declared.insert((place, name)), "{at}: {name} twice");
        }
        let in_template: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split('}').next())
            .collect();
        let in_path: BTreeSet<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .inspect(|p| assert_eq!(p["required"], true, "{at}: {} required", p["name"]))
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(in_template, in_path, "{at}: path parameters");
        for (status, response) in op["responses"].as_object().expect("responses") {
            let response = resolved(&doc, response);
            assert!(
                response["description"].is_string(),
                "{at} {status}: description"
            );
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                assert!(
                    content["schema"].is_object(),
                    "{at} {status} {media}: schema"
                );
            }
        }
    }
    // An `allOf` part that is a bare `{"type": "object"}` beside a string enum would make the
    // schema unsatisfiable.
    let mut bare = Vec::new();
    fn bare_objects(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                let parts = map.get("allOf").and_then(Value::as_array);
                let is_bare = |p: &Value| p["type"] == "object" && p.get("properties").is_none();
                if parts.is_some_and(|ps| ps.iter().any(is_bare)) {
                    out.push(at.to_owned());
                }
                for (k, child) in map {
                    bare_objects(child, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    bare_objects(child, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    bare_objects(&doc, "", &mut bare);
    assert!(bare.is_empty(), "unsatisfiable allOf at {bare:?}");
}

/// The members an object schema lists, through `$ref` and `allOf`; `None` when it takes any
/// (a problem, whose codes add their own members).
fn members(doc: &Value, schema: &Value) -> Option<BTreeSet<String>> {
    if let Some(target) = schema["$ref"].as_str() {
        if target.ends_with("/Problem") {
            return None;
        }
        return members(doc, doc.pointer(&target[1..]).unwrap_or(&Value::Null));
    }
    let mut out: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(members(doc, part)?);
    }
    Some(out)
}

/// Where `value` breaks `schema` (JSON Schema as the document uses it: `$ref`, `allOf`,
/// `oneOf`, `type` with `null`, `enum`, `required`, `properties`, `items`). An object may hold
/// no member its schema does not list, but for a problem, whose codes add their own.
fn misfits(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        let target_schema = doc.pointer(&target[1..]).unwrap_or(&Value::Null);
        return misfits(doc, target_schema, value, at, out);
    }
    if let (Value::Object(sent), Some(listed)) = (value, members(doc, schema)) {
        let has_members = schema["properties"].is_object() || schema["allOf"].is_array();
        for name in sent.keys().filter(|n| has_members && !listed.contains(*n)) {
            out.push(format!("{at}: {name} is not in the schema"));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let mut found = Vec::new();
        misfits(doc, part, value, at, &mut found);
        out.extend(
            found
                .into_iter()
                .filter(|m| !m.ends_with("is not in the schema")),
        );
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fitting = options
            .iter()
            .filter(|o| {
                let mut found = Vec::new();
                misfits(doc, o, value, at, &mut found);
                found.is_empty()
            })
            .count();
        if fitting != 1 {
            out.push(format!("{at}: fits {fitting} of oneOf"));
        }
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = |t: &&str| *t == kind || (*t == "number" && kind == "integer");
    if !types.is_empty() && !types.iter().any(fits) {
        out.push(format!("{at}: {kind}, not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            out.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Value::Array(items), true) = (value, schema["items"].is_object()) {
        for (i, item) in items.iter().enumerate() {
            misfits(doc, &schema["items"], item, &format!("{at}[{i}]"), out);
        }
    }
    if let (Value::Object(sent), Some(declared)) = (value, schema["properties"].as_object()) {
        for name in schema["required"].as_array().into_iter().flatten() {
            if !sent.contains_key(name.as_str().unwrap_or("")) {
                out.push(format!("{at}: no {name}"));
            }
        }
        for (name, member) in sent {
            if let Some(s) = declared.get(name) {
                misfits(doc, s, member, &format!("{at}.{name}"), out);
            }
        }
    }
}

/// The JSON schema `doc` gives the answer of `operation` with `status`.
fn answer_schema<'a>(doc: &'a Value, operation: &str, status: u16) -> &'a Value {
    let op = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .flat_map(|item| METHODS.iter().filter_map(|m| item.get(*m)))
        .find(|op| op["operationId"] == operation)
        .unwrap_or_else(|| panic!("no operation {operation}"));
    let response = resolved(doc, &op["responses"][status.to_string()]);
    let content = &response["content"];
    let media = if content["application/json"].is_object() {
        "application/json"
    } else {
        "application/problem+json"
    };
    &content[media]["schema"]
}

/// Every answer below fits the schema the document gives its operation and status: the
/// mirrors in `http/openapi/rows.rs` are checked against the database rows they stand for,
/// every member a row sends being declared and every required one sent.
#[actix_web::test]
async fn every_answer_fits_the_schema_the_document_gives_it() {
    let (app, f) = Reports::spawn().await;
    app.expect_pending_mail();
    let doc = document(&app).await;
    let mut wrong = Vec::new();
    let mut check = |operation: &str, answer: &Answer| {
        let schema = answer_schema(&doc, operation, answer.status.as_u16());
        assert!(
            schema.is_object(),
            "{operation} {}: {}",
            answer.status,
            answer.text
        );
        misfits(&doc, schema, &answer.body, operation, &mut wrong);
    };
    let admin = &app.admin;
    let first = |page: &Answer| page.body["items"][0]["id"].clone();

    check("getMe", &app.get("/me", admin).await);
    let token = app
        .post("/tokens", admin, json!({"name": "fit", "role": "observer"}))
        .await;
    check("createToken", &token);
    check("listTokens", &app.get("/tokens", admin).await);
    let regions = app.get("/regions", admin).await;
    check("listRegions", &regions);
    check(
        "getRegion",
        &app.get(&format!("/regions/{}", f.c1), admin).await,
    );
    check("listElections", &app.get("/elections", admin).await);
    check(
        "getElection",
        &app.get(&format!("/elections/{}", f.election), admin).await,
    );
    let units = format!("/elections/{}/electoral-units", f.election);
    check("listElectoralUnits", &app.get(&units, admin).await);
    check(
        "getElectoralUnit",
        &app.get(&format!("/electoral-units/{}", f.na), admin).await,
    );
    let candidates = format!("/electoral-units/{}/candidates", f.na);
    check("listCandidates", &app.get(&candidates, admin).await);
    let candidate = f.na_candidates[0];
    check(
        "getCandidate",
        &app.get(&format!("/candidates/{candidate}"), admin).await,
    );
    let venues = app.get("/venues", admin).await;
    check("listVenues", &venues);
    let venue = first(&venues);
    let venue = venue.as_str().expect("a venue");
    check(
        "getVenue",
        &app.get(&format!("/venues/{venue}"), admin).await,
    );
    let rule = app
        .post(
            "/health-rules",
            admin,
            json!({"region_id": f.p, "effective_from": from_now(-60), "max_attendees": 10,
                   "reference": "CT-15"}),
        )
        .await;
    check("createHealthRule", &rule);
    check("listHealthRules", &app.get("/health-rules", admin).await);
    let rule_id = rule.body["rule"]["id"].as_str().expect("a rule");
    check(
        "getHealthRule",
        &app.get(&format!("/health-rules/{rule_id}"), admin).await,
    );
    let period = format!(
        "/venues/{venue}/capacity?starts_at={}&ends_at={}",
        urlencode(&from_now(60)),
        urlencode(&from_now(120))
    );
    check("getVenueCapacity", &app.get(&period, admin).await);
    let meetings = app.get("/meetings?limit=500", admin).await;
    check("listMeetings", &meetings);
    for meeting in meetings.body["items"].as_array().expect("meetings") {
        let id = meeting["id"].as_str().expect("id");
        check(
            "getMeeting",
            &app.get(&format!("/meetings/{id}"), admin).await,
        );
        let report = app
            .get(&format!("/meetings/{id}/attendance-report"), admin)
            .await;
        if report.status == 200 {
            check("getAttendanceReport", &report);
        }
    }
    let planned = meetings.body["items"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["status"] == "planned"))
        .expect("a planned meeting");
    let too_early = app.check_in(planned, 1).await;
    check("checkIn", &too_early);
    for by in ["region", "electoral_unit", "candidate", "day"] {
        let path = format!(
            "/reports/attendance?election_id={}&group_by={by}",
            f.election
        );
        check("attendanceReport", &app.get(&path, admin).await);
    }
    let overdue = format!("/reports/overdue?election_id={}", f.election);
    check("overdueReport", &app.get(&overdue, admin).await);
    let fairness = format!("/reports/fairness?election_id={}", f.election);
    check("fairnessReport", &app.get(&fairness, admin).await);
    let queued = app
        .post(
            &format!("/candidates/{candidate}/schedule-email"),
            admin,
            json!({}),
        )
        .await;
    check("queueScheduleEmail", &queued);
    let link = app
        .post(
            &format!("/candidates/{candidate}/calendar-link"),
            admin,
            json!({}),
        )
        .await;
    check("rotateCalendarLink", &link);
    let outbox = app.get("/outbox", admin).await;
    check("listOutbox", &outbox);
    let email = first(&outbox);
    let email = email.as_str().expect("an email");
    check(
        "getOutboxEmail",
        &app.get(&format!("/outbox/{email}"), admin).await,
    );
    check("listAudit", &app.get("/audit", admin).await);
    check(
        "getRegion",
        &app.get(&format!("/regions/{}", Uuid::new_v4()), admin)
            .await,
    );
    let invalid = app
        .post("/regions", admin, json!({"name": "", "level": "x"}))
        .await;
    check("createRegion", &invalid);
    assert!(
        wrong.is_empty(),
        "answers that break their schema: {wrong:#?}"
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
