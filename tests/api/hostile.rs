//! Hostile text (SPEC §2 Text, issue 9.1 and 9.2): every text field of every POST, PUT and
//! PATCH refuses NUL and other controls with a 422 naming the field, names refuse line breaks,
//! and arbitrary Unicode never gets a 5xx.
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::fixtures::Setup;
use crate::helpers::{from_now, spawn_app, Answer, TestApp};

/// What a field holds: a one-line name, free text (line breaks and tabs allowed), or a value
/// of its own syntax (an email, a time, an enum) that no control character can be part of.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Name,
    Free,
    Syntax,
}

/// One text field of one route: how to build a body holding `value` in it.
struct Field {
    method: Method,
    path: String,
    /// The field as the problem names it.
    name: &'static str,
    kind: Kind,
    body: Box<dyn Fn(&str) -> Value + Send + Sync>,
}

/// The objects the routes act on.
struct World {
    s: Setup,
    region: uuid::Uuid,
    rule: uuid::Uuid,
    meeting: String,
    ended: String,
    ended_site: Value,
}

async fn world(app: &TestApp) -> World {
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let region = app.region("Tỉnh Quảng Bình", "province", None).await;
    let rule = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": s.tree.province, "effective_from": from_now(-60 * 24),
                   "max_attendees": 5000, "reference": "CT 15/CT-TTg"}),
        )
        .await
        .ok(201)["rule"]["id"]
        .as_str()
        .expect("rule id")
        .parse()
        .expect("uuid");
    let meeting = app
        .meeting_from_now(&s, s.hall, 60 * 24, 60 * 24 + 120, 50)
        .await;
    let ended = app
        .meeting_from_now(&s, s.hall, -60 * 24, -60 * 24 + 60, 50)
        .await;
    World {
        region,
        rule,
        meeting: meeting["id"].as_str().expect("id").to_owned(),
        ended: ended["id"].as_str().expect("id").to_owned(),
        ended_site: ended["sites"][0]["id"].clone(),
        s,
    }
}

fn field(
    method: Method,
    path: impl Into<String>,
    name: &'static str,
    kind: Kind,
    body: impl Fn(&str) -> Value + Send + Sync + 'static,
) -> Field {
    Field {
        method,
        path: path.into(),
        name,
        kind,
        body: Box::new(body),
    }
}

/// Every text field of every route that takes a JSON body.
fn fields(w: &World) -> Vec<Field> {
    use Kind::{Free, Name, Syntax};
    let (post, patch, put) = (Method::POST, Method::PATCH, Method::PUT);
    let (election, unit, province) = (w.s.election, w.s.unit, w.s.tree.province);
    let (commune, hall, candidate) = (w.s.tree.commune, w.s.hall, w.s.candidates[0]);
    let (region, rule) = (w.region, w.rule);
    let meeting = w.meeting.clone();
    let site = w.ended_site.clone();
    let election_body = move |name: &str, tz: &str, start: &str, key: &str| {
        json!({"name": name, "timezone": tz,
               "campaign_starts_at": start, "polling_starts_at": "2031-05-23T07:00:00+07:00",
               "min_meetings_per_candidate": {key: 3}})
    };
    let meeting_body = move |title: &str, chair: &str, role: &str, starts: &str| {
        json!({"election_id": election, "electoral_unit_ids": [unit], "format": "online",
               "title": title, "chair": {"name": chair, "role": role},
               "starts_at": starts, "ends_at": from_now(60 * 24 * 3 + 60),
               "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/1",
                          "max_participants": 100, "expected_attendees": 10}})
    };
    let online_body = move |platform: &str, url: &str| {
        json!({"election_id": election, "electoral_unit_ids": [unit], "format": "online",
               "starts_at": from_now(60 * 24 * 4), "ends_at": from_now(60 * 24 * 4 + 60),
               "online": {"platform": platform, "join_url": url,
                          "max_participants": 100, "expected_attendees": 10}})
    };
    let report = move |notes: &str, topic: &str, text: &str, reason: &str| {
        json!({"attendees": 10, "sites": [{"site_id": site, "attendees": 10}],
               "opinions_count": 1, "opinions": [{"topic": topic, "text": text}],
               "notes": notes, "correction_reason": reason})
    };
    let m = |p: &str| format!("/meetings/{meeting}{p}");
    let ended = format!("/meetings/{}/attendance-report", w.ended);
    let rule_body = move |reference: &str, applies: &str, combine: &str, from: &str| {
        json!({"region_id": province, "effective_from": from, "max_attendees": 4000,
               "applies_to": applies, "combine": combine, "reference": reference})
    };
    let st = "2031-04-28T00:00:00+07:00";
    let now = from_now(60 * 24 * 3);
    let (n2, n3, n4) = (now.clone(), now.clone(), now.clone());
    vec![
        field(
            post.clone(),
            "/tokens",
            "name",
            Name,
            |v| json!({"name": v, "role": "observer"}),
        ),
        field(
            post.clone(),
            "/tokens",
            "role",
            Syntax,
            |v| json!({"name": "t", "role": v}),
        ),
        field(
            post.clone(),
            "/regions",
            "name",
            Name,
            |v| json!({"name": v, "level": "province"}),
        ),
        field(
            post.clone(),
            "/regions",
            "code",
            Name,
            |v| json!({"name": "Tỉnh X", "level": "province", "code": v}),
        ),
        field(
            post.clone(),
            "/regions",
            "level",
            Syntax,
            |v| json!({"name": "Tỉnh Y", "level": v}),
        ),
        field(
            post.clone(),
            "/regions",
            "contact_email",
            Syntax,
            |v| json!({"name": "Tỉnh Z", "level": "province", "contact_email": v}),
        ),
        field(
            patch.clone(),
            format!("/regions/{region}"),
            "name",
            Name,
            |v| json!({"name": v}),
        ),
        field(
            patch.clone(),
            format!("/regions/{region}"),
            "code",
            Name,
            |v| json!({"code": v}),
        ),
        field(
            patch.clone(),
            format!("/regions/{region}"),
            "contact_email",
            Syntax,
            |v| json!({"contact_email": v}),
        ),
        field(post.clone(), "/elections", "name", Name, move |v| {
            election_body(v, "Asia/Ho_Chi_Minh", st, "national_assembly")
        }),
        field(post.clone(), "/elections", "timezone", Syntax, move |v| {
            election_body("E", v, st, "national_assembly")
        }),
        field(
            post.clone(),
            "/elections",
            "campaign_starts_at",
            Syntax,
            move |v| election_body("E", "Asia/Ho_Chi_Minh", v, "national_assembly"),
        ),
        field(
            post.clone(),
            "/elections",
            "min_meetings_per_candidate",
            Syntax,
            move |v| election_body("E", "Asia/Ho_Chi_Minh", st, v),
        ),
        field(
            patch.clone(),
            format!("/elections/{election}"),
            "name",
            Name,
            |v| json!({"name": v}),
        ),
        field(
            patch.clone(),
            format!("/elections/{election}"),
            "timezone",
            Syntax,
            |v| json!({"timezone": v}),
        ),
        field(
            patch.clone(),
            format!("/elections/{election}"),
            "min_meetings_per_candidate",
            Syntax,
            |v| json!({"min_meetings_per_candidate": {v: 1}}),
        ),
        field(
            post.clone(),
            format!("/elections/{election}/electoral-units"),
            "name",
            Name,
            move |v| json!({"name": v, "body": "province_council", "region_id": province, "seats": 2}),
        ),
        field(
            post.clone(),
            format!("/elections/{election}/electoral-units"),
            "body",
            Syntax,
            move |v| json!({"name": "Đơn vị số 9", "body": v, "region_id": province, "seats": 2}),
        ),
        field(
            patch.clone(),
            format!("/electoral-units/{unit}"),
            "name",
            Name,
            |v| json!({"name": v}),
        ),
        field(
            post.clone(),
            format!("/electoral-units/{unit}/candidates"),
            "full_name",
            Name,
            |v| json!({"full_name": v, "email": "x@example.vn"}),
        ),
        field(
            post.clone(),
            format!("/electoral-units/{unit}/candidates"),
            "email",
            Syntax,
            |v| json!({"full_name": "Ngô Văn Dũng", "email": v}),
        ),
        field(
            post.clone(),
            format!("/electoral-units/{unit}/candidates"),
            "locale",
            Syntax,
            |v| json!({"full_name": "Ngô Văn Dũng", "email": "d@example.vn", "locale": v}),
        ),
        field(
            patch.clone(),
            format!("/candidates/{candidate}"),
            "full_name",
            Name,
            |v| json!({"full_name": v}),
        ),
        field(
            patch.clone(),
            format!("/candidates/{candidate}"),
            "email",
            Syntax,
            |v| json!({"email": v}),
        ),
        field(
            patch.clone(),
            format!("/candidates/{candidate}"),
            "locale",
            Syntax,
            |v| json!({"locale": v}),
        ),
        field(
            patch.clone(),
            format!("/candidates/{candidate}"),
            "status",
            Syntax,
            |v| json!({"status": v}),
        ),
        field(
            post.clone(),
            "/venues",
            "name",
            Name,
            move |v| json!({"name": v, "region_id": commune, "address": "Thôn 1", "capacity": 10, "setting": "indoor"}),
        ),
        field(
            post.clone(),
            "/venues",
            "address",
            Free,
            move |v| json!({"name": "Nhà văn hóa thôn 2", "region_id": commune, "address": v, "capacity": 10, "setting": "indoor"}),
        ),
        field(
            post.clone(),
            "/venues",
            "setting",
            Syntax,
            move |v| json!({"name": "Nhà văn hóa thôn 3", "region_id": commune, "address": "Thôn 3", "capacity": 10, "setting": v}),
        ),
        field(
            patch.clone(),
            format!("/venues/{hall}"),
            "name",
            Name,
            |v| json!({"name": v}),
        ),
        field(
            patch.clone(),
            format!("/venues/{hall}"),
            "address",
            Free,
            |v| json!({"address": v}),
        ),
        field(
            patch.clone(),
            format!("/venues/{hall}"),
            "setting",
            Syntax,
            |v| json!({"setting": v}),
        ),
        field(post.clone(), "/health-rules", "reference", Name, move |v| {
            rule_body(v, "any", "min", st)
        }),
        field(
            post.clone(),
            "/health-rules",
            "applies_to",
            Syntax,
            move |v| rule_body("R", v, "min", st),
        ),
        field(post.clone(), "/health-rules", "combine", Syntax, move |v| {
            rule_body("R", "any", v, st)
        }),
        field(
            post.clone(),
            "/health-rules",
            "effective_from",
            Syntax,
            move |v| rule_body("R", "any", "min", v),
        ),
        field(
            patch.clone(),
            format!("/health-rules/{rule}"),
            "reference",
            Name,
            |v| json!({"reference": v}),
        ),
        field(
            patch.clone(),
            format!("/health-rules/{rule}"),
            "effective_until",
            Syntax,
            |v| json!({"effective_until": v}),
        ),
        field(post.clone(), "/meetings", "title", Name, move |v| {
            meeting_body(v, "Chủ tọa", "Vai trò", &now)
        }),
        field(post.clone(), "/meetings", "chair.name", Name, move |v| {
            meeting_body("T", v, "Vai trò", &n2)
        }),
        field(post.clone(), "/meetings", "chair.role", Name, move |v| {
            meeting_body("T", "Chủ tọa", v, &n3)
        }),
        field(post.clone(), "/meetings", "starts_at", Syntax, move |v| {
            meeting_body("T", "Chủ tọa", "Vai trò", v)
        }),
        field(post.clone(), "/meetings", "format", Syntax, move |v| {
            let mut b = meeting_body("T", "Chủ tọa", "Vai trò", &n4);
            b["format"] = json!(v);
            b
        }),
        field(
            post.clone(),
            "/meetings",
            "online.platform",
            Name,
            move |v| online_body(v, "https://zoom.us/j/2"),
        ),
        field(
            post.clone(),
            "/meetings",
            "online.join_url",
            Syntax,
            move |v| online_body("Zoom", v),
        ),
        field(patch.clone(), m(""), "title", Name, |v| json!({"title": v})),
        field(
            patch.clone(),
            m(""),
            "chair.name",
            Name,
            |v| json!({"chair": {"name": v}}),
        ),
        field(
            patch.clone(),
            m(""),
            "chair.role",
            Name,
            |v| json!({"chair": {"name": "Chủ tọa", "role": v}}),
        ),
        field(
            patch.clone(),
            m(""),
            "ends_at",
            Syntax,
            |v| json!({"ends_at": v}),
        ),
        field(
            patch.clone(),
            m(""),
            "format",
            Syntax,
            |v| json!({"format": v}),
        ),
        field(
            post.clone(),
            m("/cancel"),
            "reason",
            Free,
            |v| json!({"reason": v}),
        ),
        field(put.clone(), ended.clone(), "notes", Free, {
            let r = report.clone();
            move |v| r(v, "Giao thông", "Đường xấu", "Sửa số liệu")
        }),
        field(put.clone(), ended.clone(), "opinions[0].topic", Name, {
            let r = report.clone();
            move |v| r("Ghi chú", v, "Đường xấu", "Sửa số liệu")
        }),
        field(put.clone(), ended.clone(), "opinions[0].text", Free, {
            let r = report.clone();
            move |v| r("Ghi chú", "Giao thông", v, "Sửa số liệu")
        }),
        field(put, ended, "correction_reason", Free, move |v| {
            report("Ghi chú", "Giao thông", "Đường xấu", v)
        }),
    ]
}

impl Field {
    async fn send(&self, app: &TestApp, value: &str) -> Answer {
        let etag = if self.method == Method::PATCH && self.path.starts_with("/meetings/") {
            app.get(&self.path, &app.admin)
                .await
                .headers
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        } else {
            None
        };
        let headers: Vec<(&str, &str)> = etag
            .as_deref()
            .map(|e| ("If-Match", e))
            .into_iter()
            .collect();
        app.request(
            self.method.clone(),
            &self.path,
            Some(&app.admin),
            Some((self.body)(value)),
            &headers,
        )
        .await
    }
}

#[actix_web::test]
async fn control_characters_in_any_text_field_are_a_422_naming_it() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut wrong = Vec::new();
    for f in fields(&w) {
        let mut bad = vec![
            "Kỳ\u{0}Đồng",
            "a\u{1b}[31mb",
            "x\u{7f}",
            "x\u{85}y",
            "\u{202e}gnp.exe",
            "iso\u{2066}late",
        ];
        if f.kind != Kind::Free {
            bad.extend(["Evil\r\nBcc: x@y.vn", "tab\there", "line\nbreak"]);
        }
        for value in bad {
            let a = f.send(&app, value).await;
            let named = a.status == 422
                && a.body["code"] == "validation_failed"
                && a.body["errors"]
                    .as_array()
                    .is_some_and(|errors| errors.iter().any(|e| e["field"] == f.name));
            if !named {
                wrong.push(format!(
                    "{} {} {} = {value:?}: {} {}",
                    f.method, f.path, f.name, a.status, a.text
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} refused badly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[actix_web::test]
async fn free_text_keeps_its_line_breaks_and_names_are_stored_composed() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let venue = app
        .patch(
            &format!("/venues/{}", w.s.hall),
            &app.admin,
            json!({"name": "  Nha\u{300} va\u{306}n ho\u{301}a  ", "address": "Thôn 1\r\nxã Kỳ Đồng"}),
        )
        .await;
    assert_eq!(venue.ok(200)["name"], "Nhà văn hóa");
    assert_eq!(venue.body["address"], "Thôn 1\r\nxã Kỳ Đồng");
}

/// Arbitrary Unicode, controls and unassigned code points included.
fn hostile_text() -> impl Strategy<Value = String> {
    let any = prop_oneof![
        4 => any::<char>(),
        2 => prop::char::range('\u{0}', '\u{9f}'),
        1 => prop::char::range('\u{2000}', '\u{206f}'),
        1 => Just('\u{feff}'),
    ];
    prop::collection::vec(any, 0..40).prop_map(|cs| cs.into_iter().collect())
}

#[test]
fn arbitrary_unicode_in_any_text_field_never_gets_a_5xx() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = rt.block_on(spawn_app());
    let w = rt.block_on(world(&app));
    let fields = fields(&w);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..fields.len(), hostile_text());
    let result = runner.run(&strategy, |(i, value)| {
        let f = &fields[i];
        let a = rt.block_on(f.send(&app, &value));
        prop_assert!(
            a.status.as_u16() < 500,
            "{} {} {} = {value:?}: {} {}",
            f.method,
            f.path,
            f.name,
            a.status,
            a.text
        );
        Ok(())
    });
    let every_field = rt.block_on(async {
        let mut failures = Vec::new();
        for f in &fields {
            let a = f.send(&app, "\u{0}\u{1}\u{ffff}\u{10ffff}\u{d7ff}").await;
            if a.status.as_u16() >= 500 {
                failures.push(format!("{} {} {}: {}", f.method, f.path, f.name, a.text));
            }
        }
        failures
    });
    drop(rt);
    drop(app);
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(every_field.is_empty(), "{every_field:#?}");
}

#[actix_web::test]
async fn an_import_with_control_characters_names_every_bad_row() {
    let app = spawn_app().await;
    let mut csv = String::from("Tên đơn vị hành chính,Cấp,Đơn vị cấp trên,Mã,Email liên hệ\n");
    for (i, name) in [
        "Tỉnh A\u{0}",
        "Tỉnh\u{1b}[31m B",
        "\u{202e}Tỉnh C",
        "Tỉnh \u{85}D",
    ]
    .iter()
    .enumerate()
    {
        csv.push_str(&format!("{name},Tỉnh,,{i},\n"));
    }
    let a = app
        .post_raw("/imports/regions", &app.admin, "text/csv", csv.into_bytes())
        .await;
    let body = a.problem(422, "import_failed");
    let rows: Vec<i64> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["row"].as_i64())
        .collect();
    assert_eq!(rows.len(), 4, "{body}");
}
