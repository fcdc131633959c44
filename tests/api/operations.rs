//! Everyday operations (issue 11): correcting regions, elections and units; listing and
//! revoking tokens; finding a meeting by words typed without diacritics.
use std::time::{Duration, Instant};

use crate::helpers::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

/// A province, district and commune, a 2031 election (so its meetings are still to come), a
/// provincial unit with one candidate, and a hall in the commune.
struct Scene {
    app: TestApp,
    province: Uuid,
    election: Uuid,
    unit: Uuid,
    hall: Uuid,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let election = app.future_election().await;
    let unit = app
        .unit(election, tree.province, "province_council", "Đơn vị số 1")
        .await;
    app.candidate(unit, "Nguyễn Thị Lan", "lan@example.vn")
        .await;
    let hall = app
        .venue(tree.commune, "Nhà văn hóa xã Kỳ Đồng", 100, None, "indoor")
        .await;
    Scene {
        province: tree.province,
        app,
        election,
        unit,
        hall,
    }
}

impl Scene {
    async fn meeting(&self, title: &str, starts_at: &str, ends_at: &str) -> Uuid {
        self.app
            .post(
                "/meetings",
                &self.app.admin,
                json!({
                    "election_id": self.election, "electoral_unit_ids": [self.unit],
                    "format": "in_person", "title": title,
                    "starts_at": starts_at, "ends_at": ends_at,
                    "sites": [{"venue_id": self.hall, "expected_attendees": 50}]
                }),
            )
            .await
            .id()
    }

    fn audit_actions(&self, entity: Uuid) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            action: String,
        }
        let rows: Vec<Row> = diesel::RunQueryDsl::load(
            diesel::sql_query(format!(
                "SELECT action FROM audit_log WHERE entity_id = '{entity}' ORDER BY id"
            )),
            &mut self.app.conn(),
        )
        .expect("audit");
        rows.into_iter().map(|r| r.action).collect()
    }
}

#[actix_web::test]
async fn a_committees_address_is_corrected_validated_and_audited() {
    let s = scene().await;
    let path = format!("/regions/{}", s.province);
    let organizer = s.app.token(Role::Organizer, Some(s.province));
    s.app
        .patch(
            &path,
            &organizer,
            json!({"contact_email": "mttq@hatinh.gov.vn"}),
        )
        .await
        .problem(403, "forbidden");
    let bad = s
        .app
        .patch(
            &path,
            &s.app.admin,
            json!({"contact_email": "mttq@hatinh", "name": " "}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), vec!["contact_email", "name"]);
    let fixed = s
        .app
        .patch(
            &path,
            &s.app.admin,
            json!({"contact_email": "mttq@hatinh.gov.vn", "code": null}),
        )
        .await;
    assert_eq!(fixed.ok(200)["contact_email"], "mttq@hatinh.gov.vn");
    assert_eq!(fixed.body["code"], Value::Null);
    assert_eq!(fixed.body["name"], "Tỉnh Hà Tĩnh", "fields not sent stay");
    assert_eq!(s.audit_actions(s.province), vec!["create", "update"]);
}

#[actix_web::test]
async fn a_units_seats_are_corrected_within_the_law() {
    let s = scene().await;
    let path = format!("/electoral-units/{}", s.unit);
    let too_many = s.app.patch(&path, &s.app.admin, json!({"seats": 6})).await;
    assert_eq!(too_many.invalid_fields(), vec!["seats"]);
    let fixed = s
        .app
        .patch(
            &path,
            &s.app.admin,
            json!({"seats": 5, "name": "Đơn vị bầu cử số 1"}),
        )
        .await;
    assert_eq!(fixed.ok(200)["seats"], 5);
    assert_eq!(fixed.body["name"], "Đơn vị bầu cử số 1");
    assert_eq!(s.audit_actions(s.unit), vec!["create", "update"]);
}

/// Rule 13: a shorter campaign window flags the planned meetings it no longer holds and tells
/// their organizers; nothing is cancelled, and meetings still inside are left alone.
#[actix_web::test]
async fn a_shorter_campaign_flags_the_meetings_it_leaves_out() {
    let s = scene().await;
    let early = s
        .meeting(
            "Đầu chiến dịch",
            "2031-04-28T08:00:00+07:00",
            "2031-04-28T10:00:00+07:00",
        )
        .await;
    let late = s
        .meeting(
            "Cuối chiến dịch",
            "2031-05-20T08:00:00+07:00",
            "2031-05-20T10:00:00+07:00",
        )
        .await;
    let path = format!("/elections/{}", s.election);
    let bad = s
        .app
        .patch(
            &path,
            &s.app.admin,
            json!({"polling_starts_at": "2031-04-20T07:00:00+07:00"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), vec!["campaign_starts_at"]);
    let moved = s
        .app
        .patch(
            &path,
            &s.app.admin,
            json!({"polling_starts_at": "2031-05-16T07:00:00+07:00"}),
        )
        .await;
    assert_eq!(moved.ok(200)["campaign_ends_at"], "2031-05-15T00:00:00Z");
    let late_now = s.app.get(&format!("/meetings/{late}"), &s.app.admin).await;
    assert_eq!(late_now.ok(200)["needs_attention"], true);
    assert_eq!(late_now.body["status"], "planned", "nothing is cancelled");
    assert_eq!(
        late_now.body["attention"][0]["code"], "outside_campaign_window",
        "{}",
        late_now.text
    );
    let early_now = s.app.get(&format!("/meetings/{early}"), &s.app.admin).await;
    assert_eq!(early_now.ok(200)["needs_attention"], false);
    let notices = s
        .app
        .get("/outbox?recipient=commune@mttq.example.vn", &s.app.admin)
        .await;
    let kinds: Vec<&str> = notices.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["rule_attention"], "the committee is told once");
    assert_eq!(s.audit_actions(s.election), vec!["create", "update"]);
}

#[actix_web::test]
async fn tokens_are_listed_without_secrets_and_revoked_everywhere_within_seconds() {
    let s = scene().await;
    let organizer = s.app.token(Role::Organizer, Some(s.province));
    s.app.get("/me", &organizer).await.ok(200);
    s.app
        .get("/tokens", &organizer)
        .await
        .problem(403, "forbidden");
    let listed = s.app.get("/tokens", &s.app.admin).await;
    let items = listed.ok(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    assert!(
        !listed.text.contains(&organizer) && !listed.text.contains("token_hash"),
        "never a secret: {}",
        listed.text
    );
    let used = items
        .iter()
        .find(|t| t["role"] == "organizer")
        .expect("the organizer token");
    assert!(used["last_used_at"].is_string(), "{used}");
    let id = used["id"].as_str().expect("id").to_owned();
    let revoked = s
        .app
        .request(
            reqwest::Method::DELETE,
            &format!("/tokens/{id}"),
            Some(&s.app.admin),
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let started = Instant::now();
    loop {
        let answer = s.app.get("/me", &organizer).await;
        if answer.status == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "a revoked token still works after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let again = s.app.get("/tokens", &s.app.admin).await;
    let row = again.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .cloned()
        .expect("still listed");
    assert!(row["revoked_at"].is_string());
}

#[actix_web::test]
async fn meetings_are_found_by_words_typed_without_diacritics() {
    let s = scene().await;
    let found = s
        .meeting(
            "Tiếp xúc cử tri",
            "2031-05-02T08:00:00+07:00",
            "2031-05-02T10:00:00+07:00",
        )
        .await;
    let other_hall = s
        .app
        .venue(s.province, "Hội trường tỉnh", 300, None, "indoor")
        .await;
    s.app
        .post(
            "/meetings",
            &s.app.admin,
            json!({
                "election_id": s.election, "electoral_unit_ids": [s.unit],
                "format": "in_person", "title": "Hội nghị tỉnh",
                "starts_at": "2031-05-03T08:00:00+07:00", "ends_at": "2031-05-03T10:00:00+07:00",
                "sites": [{"venue_id": other_hall, "expected_attendees": 50}]
            }),
        )
        .await
        .ok(201);
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_owned())
            .collect()
    };
    for words in ["ky dong", "KỲ ĐỒNG", "van hoa", "xa ky"] {
        let answer = s
            .app
            .get(&format!("/meetings?q={}", urlencode(words)), &s.app.admin)
            .await;
        assert_eq!(ids(answer.ok(200)), vec![found.to_string()], "{words}");
    }
    let by_candidate = s.app.get("/meetings?q=lan%20nguyen", &s.app.admin).await;
    assert_eq!(
        ids(by_candidate.ok(200)).len(),
        2,
        "both meetings have Nguyễn Thị Lan"
    );
    let none = s.app.get("/meetings?q=100%25", &s.app.admin).await;
    assert!(
        ids(none.ok(200)).is_empty(),
        "a % is a character, not a wildcard"
    );
    s.app
        .patch(
            &format!("/venues/{}", s.hall),
            &s.app.admin,
            json!({"name": "Hội trường thôn Đông Hải"}),
        )
        .await
        .ok(200);
    let renamed = s.app.get("/meetings?q=dong%20hai", &s.app.admin).await;
    assert_eq!(
        ids(renamed.ok(200)),
        vec![found.to_string()],
        "a renamed venue is found by its new name"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
