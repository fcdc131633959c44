//! The harness keeps its own promises: a test that leaves email pending fails at teardown,
//! unless it says it expects to.
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::json;

use crate::helpers::mail::Outage;
use crate::helpers::{eventually, spawn_app_with, uuid_of, TestApp};

/// An app whose SMTP server is down, with one schedule email queued and tried once.
async fn app_with_refused_mail(outage: &Outage) -> TestApp {
    let url = outage.url();
    let app = spawn_app_with(|s| s.smtp_url = Some(url.into())).await;
    let tree = app.tree().await;
    let election = app.current_election().await;
    let unit = app
        .unit(election, tree.commune, "commune_council", "Đơn vị số 1")
        .await;
    let candidate = app.candidate(unit, "Lê Văn Hùng", "hung@example.vn").await;
    let queued = app
        .post(
            &format!("/candidates/{candidate}/schedule-email"),
            &app.admin,
            json!(null),
        )
        .await;
    let id = uuid_of(&queued.ok(202)["outbox_id"]);
    eventually("the first attempt is recorded", || async {
        let row = app.get(&format!("/outbox/{id}"), &app.admin).await;
        match row.ok(200)["attempts"].as_i64() {
            Some(n) if n >= 1 => Ok(()),
            other => Err(other),
        }
    })
    .await;
    app
}

#[actix_web::test]
async fn a_test_that_leaves_email_pending_fails_when_it_ends() {
    let outage = Outage::start();
    let app = app_with_refused_mail(&outage).await;
    let database = app.db_name.clone();
    let teardown = catch_unwind(AssertUnwindSafe(|| drop(app)));
    let message = teardown
        .expect_err("the teardown fails")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.contains("left 1 email(s) pending") && message.contains("hung@example.vn"),
        "{message}"
    );
    let mut admin = crate::helpers::database::admin();
    assert!(
        !crate::helpers::database::exists(&mut admin, &database),
        "the database is dropped before the teardown fails"
    );
}

#[actix_web::test]
async fn a_test_that_expects_pending_email_says_so_and_passes() {
    let outage = Outage::start();
    let app = app_with_refused_mail(&outage).await;
    app.expect_pending_mail();
}
