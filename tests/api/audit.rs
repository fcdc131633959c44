//! `/audit` (SPEC §3 rule 10): every mutation is recorded with who made it and the record
//! before and after; check-ins are the one exception. Only admins read it.
use std::collections::BTreeSet;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{from_now, spawn_app, uuid_of, Role, TestApp};

/// Every route that changes something, as `(METHOD, path)` of the OpenAPI document; the
/// walk below takes each of them once.
const MUTATIONS: &[(&str, &str)] = &[
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/regions"),
    ("POST", "/api/v1/elections"),
    ("POST", "/api/v1/elections/{id}/electoral-units"),
    ("POST", "/api/v1/electoral-units/{id}/candidates"),
    ("PATCH", "/api/v1/candidates/{id}"),
    ("POST", "/api/v1/venues"),
    ("PATCH", "/api/v1/venues/{id}"),
    ("POST", "/api/v1/health-rules"),
    ("PATCH", "/api/v1/health-rules/{id}"),
    ("POST", "/api/v1/meetings"),
    ("PATCH", "/api/v1/meetings/{id}"),
    ("POST", "/api/v1/meetings/{id}/cancel"),
    ("POST", "/api/v1/meetings/{id}/checkins"),
    ("PUT", "/api/v1/meetings/{id}/attendance-report"),
    ("POST", "/api/v1/candidates/{id}/schedule-email"),
    ("POST", "/api/v1/elections/{id}/schedule-emails"),
    ("POST", "/api/v1/candidates/{id}/calendar-link"),
    ("POST", "/api/v1/outbox/{id}/retry"),
    ("PATCH", "/api/v1/regions/{id}"),
    ("PATCH", "/api/v1/elections/{id}"),
    ("PATCH", "/api/v1/electoral-units/{id}"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("POST", "/api/v1/imports/{kind}"),
];

/// Audits the walk: each entry it expects, checked as it comes.
struct Trail<'a> {
    app: &'a TestApp,
    actor: Value,
    walked: BTreeSet<(&'static str, &'static str)>,
}

impl Trail<'_> {
    /// The newest entry about `entity` must be `action` on `entity_type` by the admin, at
    /// a time; a creation has no `before`, a change has both sides and they differ.
    async fn expect(
        &mut self,
        route: (&'static str, &'static str),
        entity: Uuid,
        entity_type: &str,
        action: &str,
    ) -> Value {
        self.walked.insert(route);
        let audit = self
            .app
            .get(
                &format!("/audit?entity_id={entity}&limit=500"),
                &self.app.admin,
            )
            .await;
        let entries = audit.ok(200)["items"].as_array().expect("items").clone();
        let entry = entries
            .last()
            .unwrap_or_else(|| panic!("{route:?}: no audit entry for {entity}"))
            .clone();
        let what = format!("{route:?}: {entry}");
        assert_eq!(entry["action"], action, "{what}");
        assert_eq!(entry["entity_type"], entity_type, "{what}");
        assert_eq!(entry["actor_id"], self.actor, "{what}");
        assert_eq!(entry["actor_name"], "test admin", "{what}");
        assert!(entry["at"].is_string(), "{what}");
        assert!(entry["after"].is_object(), "{what}");
        if matches!(action, "update" | "cancel" | "retry_email" | "revoke") {
            assert!(entry["before"].is_object(), "{what}");
            assert_ne!(entry["before"], entry["after"], "{what}");
        } else {
            assert!(entry["before"].is_null(), "{what}");
        }
        if action == "create" {
            assert_eq!(entry["after"]["id"], entity.to_string(), "{what}");
        }
        entry
    }
}

#[actix_web::test]
async fn every_mutating_route_is_audited_with_its_actor_and_both_sides() {
    let app = spawn_app().await;
    let me = app.get("/me", &app.admin).await;
    let mut trail = Trail {
        app: &app,
        actor: me.ok(200)["id"].clone(),
        walked: BTreeSet::new(),
    };
    let admin = app.admin.clone();

    let province = app.region("Tỉnh Hà Tĩnh", "province", None).await;
    trail
        .expect(MUTATIONS[1], province, "region", "create")
        .await;
    let commune = {
        let district = app.region("Huyện Kỳ Anh", "district", Some(province)).await;
        app.region("Xã Kỳ Đồng", "commune", Some(district)).await
    };
    let token = app
        .post(
            "/tokens",
            &admin,
            json!({"name": "Tổ chức xã", "role": "organizer", "region_id": commune}),
        )
        .await;
    let entry = trail
        .expect(MUTATIONS[0], token.id(), "token", "create")
        .await;
    let secret = token.body["token"].as_str().expect("token");
    assert!(!entry.to_string().contains(&secret[3..]), "{entry}");

    let election = app.current_election().await;
    trail
        .expect(MUTATIONS[2], election, "election", "create")
        .await;
    let unit = app
        .unit(election, commune, "commune_council", "Đơn vị số 1")
        .await;
    trail
        .expect(MUTATIONS[3], unit, "electoral_unit", "create")
        .await;
    let an = app.candidate(unit, "Nguyễn Văn An", "an@example.vn").await;
    let binh = app
        .candidate(unit, "Trần Thị Bình", "binh@example.vn")
        .await;
    trail
        .expect(MUTATIONS[4], binh, "candidate", "create")
        .await;
    app.patch(
        &format!("/candidates/{binh}"),
        &admin,
        json!({"locale": "en"}),
    )
    .await
    .ok(200);
    let entry = trail
        .expect(MUTATIONS[5], binh, "candidate", "update")
        .await;
    assert_eq!(
        (&entry["before"]["locale"], &entry["after"]["locale"]),
        (&json!("vi"), &json!("en"))
    );

    let hall = app
        .venue(commune, "Hội trường xã", 100, None, "indoor")
        .await;
    trail.expect(MUTATIONS[6], hall, "venue", "create").await;
    app.patch(&format!("/venues/{hall}"), &admin, json!({"capacity": 90}))
        .await
        .ok(200);
    trail.expect(MUTATIONS[7], hall, "venue", "update").await;
    let rule = app
        .post(
            "/health-rules",
            &admin,
            json!({"region_id": province, "effective_from": from_now(-60), "max_attendees": 500}),
        )
        .await;
    let rule = uuid_of(&rule.ok(201)["rule"]["id"]);
    trail
        .expect(MUTATIONS[8], rule, "health_rule", "create")
        .await;
    app.patch(
        &format!("/health-rules/{rule}"),
        &admin,
        json!({"max_attendees": 400}),
    )
    .await
    .ok(200);
    trail
        .expect(MUTATIONS[9], rule, "health_rule", "update")
        .await;

    let plan = |start: i64, end: i64| {
        json!({"election_id": election, "electoral_unit_ids": [unit], "format": "in_person",
               "starts_at": from_now(start), "ends_at": from_now(end),
               "sites": [{"venue_id": hall, "expected_attendees": 50}]})
    };
    let now_on = app.post("/meetings", &admin, plan(-10, 120)).await;
    let now_on = now_on.ok(201).clone();
    let meeting = uuid_of(&now_on["id"]);
    trail
        .expect(MUTATIONS[10], meeting, "meeting", "create")
        .await;
    app.request(
        reqwest::Method::PATCH,
        &format!("/meetings/{meeting}"),
        Some(&admin),
        Some(json!({"title": "Hội nghị tiếp xúc cử tri xã Kỳ Đồng"})),
        &[("If-Match", "*")],
    )
    .await
    .ok(200);
    trail
        .expect(MUTATIONS[11], meeting, "meeting", "update")
        .await;
    // Check-ins are counters, not audited one by one.
    let before = app
        .get(&format!("/audit?entity_id={meeting}&limit=500"), &admin)
        .await;
    app.check_in(&now_on, 3).await.ok(200);
    trail.walked.insert(MUTATIONS[13]);
    let after = app
        .get(&format!("/audit?entity_id={meeting}&limit=500"), &admin)
        .await;
    assert_eq!(after.ok(200)["items"], before.ok(200)["items"]);
    app.post(
        &format!("/meetings/{meeting}/cancel"),
        &admin,
        json!({"reason": "Mưa bão"}),
    )
    .await
    .ok(200);
    trail
        .expect(MUTATIONS[12], meeting, "meeting", "cancel")
        .await;

    let held = app.post("/meetings", &admin, plan(-300, -240)).await;
    let held = held.ok(201).clone();
    let site = held["sites"][0]["id"].clone();
    app.put_report(
        &held,
        json!({"attendees": 40, "sites": [{"site_id": site, "attendees": 40}]}),
    )
    .await
    .ok(201);
    trail
        .expect(
            MUTATIONS[14],
            uuid_of(&held["id"]),
            "attendance_report",
            "file_report",
        )
        .await;

    let email = app
        .post(
            &format!("/candidates/{an}/schedule-email"),
            &admin,
            json!(null),
        )
        .await;
    let email = uuid_of(&email.ok(202)["outbox_id"]);
    trail
        .expect(MUTATIONS[15], an, "candidate", "queue_schedule_email")
        .await;
    app.post(
        &format!("/elections/{election}/schedule-emails"),
        &admin,
        json!(null),
    )
    .await
    .ok(202);
    trail
        .expect(MUTATIONS[16], election, "election", "queue_schedule_emails")
        .await;
    app.post(
        &format!("/candidates/{an}/calendar-link"),
        &admin,
        json!(null),
    )
    .await
    .ok(201);
    trail
        .expect(MUTATIONS[17], an, "candidate", "rotate_calendar_link")
        .await;
    app.outbox_drained().await;
    app.count(&format!(
        "WITH failed AS (UPDATE outbox SET status = 'failed' WHERE id = '{email}' RETURNING 1)
         SELECT count(*) AS n FROM failed"
    ));
    app.post(&format!("/outbox/{email}/retry"), &admin, json!(null))
        .await
        .ok(200);
    trail
        .expect(MUTATIONS[18], email, "outbox", "retry_email")
        .await;
    // The worker sends it again.
    app.outbox_drained().await;

    app.patch(
        &format!("/regions/{province}"),
        &admin,
        json!({"contact_email": "mttq@hatinh.gov.vn"}),
    )
    .await
    .ok(200);
    trail
        .expect(MUTATIONS[19], province, "region", "update")
        .await;
    app.patch(
        &format!("/elections/{election}"),
        &admin,
        json!({"name": "Bầu cử đại biểu HĐND các cấp"}),
    )
    .await
    .ok(200);
    trail
        .expect(MUTATIONS[20], election, "election", "update")
        .await;
    app.patch(
        &format!("/electoral-units/{unit}"),
        &admin,
        json!({"name": "Đơn vị bầu cử số 1"}),
    )
    .await
    .ok(200);
    trail
        .expect(MUTATIONS[21], unit, "electoral_unit", "update")
        .await;
    let organizer_token = token.id();
    let revoked = app
        .request(
            reqwest::Method::DELETE,
            &format!("/tokens/{organizer_token}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    trail
        .expect(MUTATIONS[22], organizer_token, "token", "revoke")
        .await;
    let csv = "name,level,parent\nXã Kỳ Hoa,commune,Huyện Kỳ Anh\n";
    let imported = app
        .post_raw(
            "/imports/regions",
            &admin,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    let created = uuid_of(&imported.ok(200)["rows"][0]["id"]);
    trail
        .expect(MUTATIONS[23], created, "region", "create")
        .await;

    let walked: BTreeSet<_> = trail.walked.iter().copied().collect();
    let listed: BTreeSet<_> = MUTATIONS.iter().copied().collect();
    assert_eq!(walked, listed, "every listed route was walked");
    // And the list is every route that is not a read: the served document says which.
    let doc = app.get("/openapi.json", &admin).await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc.ok(200)["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let listed: BTreeSet<(String, String)> = MUTATIONS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed, documented);
}

#[actix_web::test]
async fn only_admins_read_the_audit_log() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let observer = app.token(Role::Observer, None);
    let organizer = app.token(Role::Organizer, Some(tree.province));
    app.get("/audit", &observer).await.problem(403, "forbidden");
    app.get("/audit", &organizer)
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn audit_entries_have_uuid_ids_and_page_oldest_first_without_a_gap_or_a_repeat() {
    let app = spawn_app().await;
    let province = app.region("Tỉnh Hà Tĩnh", "province", None).await;
    for name in [
        "Huyện Kỳ Anh",
        "Huyện Cẩm Xuyên",
        "Huyện Thạch Hà",
        "Huyện Hương Khê",
    ] {
        app.region(name, "district", Some(province)).await;
    }
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut path = "/audit?entity_type=region&limit=2".to_owned();
    loop {
        let page = app.get(&path, &app.admin).await;
        let body = page.ok(200).clone();
        for entry in body["items"].as_array().expect("items") {
            let id = entry["id"].as_str().expect("an id is a string");
            ids.push(Uuid::parse_str(id).expect("an audit entry's id is a UUID"));
            times.push(entry["at"].as_str().expect("at").to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/audit?entity_type=region&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), 5, "one entry per region made: {ids:?}");
    let distinct: BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 5);
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    app.get("/audit?cursor=not-a-cursor", &app.admin)
        .await
        .problem(422, "validation_failed");
}
