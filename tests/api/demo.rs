//! `voter-meetings demo`: the finished campaign reproduces the reference province (SPEC §1,
//! §6) in its attendance report and in its units' seats; the campaign in progress reports
//! what the demo says it loaded and what the tables hold, counted here by plain SQL of our
//! own (not the report's query); a second load refuses, `--reset` replaces.
use std::process::Command;

use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{app, spawn_app_with, TestApp};

/// An app without a delivery worker: the demo queues thousands of notices to candidates,
/// which these tests leave pending.
async fn quiet_app() -> TestApp {
    let app = spawn_app_with(|s| s.outbox.enabled = false).await;
    app.expect_pending_mail();
    app
}

fn demo(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_voter-meetings"))
        .arg("demo")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run binary")
}

/// The value printed after `label` on its line of the summary.
fn printed<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} line in {stdout}"))
}

fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn figure(totals: &Value, field: &str) -> i64 {
    totals[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {totals}"))
}

async fn totals(app: &TestApp, election: &str, token: &str) -> Value {
    let report = app
        .get(
            &format!("/reports/attendance?election_id={election}"),
            token,
        )
        .await;
    report.ok(200)["totals"].clone()
}

/// The figures of an election counted from the rows: meetings by status and format, and
/// the attendances of each held meeting's latest report revision.
fn counted(app: &TestApp, election: &str) -> [(&'static str, i64); 5] {
    let of = format!("m.election_id = '{election}'");
    [
        ("held", format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status = 'held'")),
        ("planned", format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status = 'planned'")),
        ("cancelled", format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status = 'cancelled'")),
        (
            "online",
            format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status <> 'cancelled' AND m.format = 'online'"),
        ),
        (
            "attendances",
            format!(
                "SELECT coalesce(sum(r.attendees), 0)::bigint AS n
                   FROM attendance_reports r JOIN meetings m ON m.province_id = r.province_id AND m.id = r.meeting_id
                  WHERE {of} AND m.status = 'held'
                    AND r.revision = (SELECT max(x.revision) FROM attendance_reports x
                                       WHERE x.province_id = r.province_id AND x.meeting_id = r.meeting_id)"
            ),
        ),
    ]
    .map(|(field, sql)| (field, app.count(&sql)))
}

fn of(counted: &[(&'static str, i64)], field: &str) -> i64 {
    counted
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, n)| *n)
        .unwrap_or_else(|| panic!("no {field}"))
}

#[actix_web::test]
async fn the_finished_campaign_reproduces_the_reference_province() {
    let app = quiet_app().await;
    let stdout = succeeded(&demo(&app.database_url, &["--finished"]));
    let election = printed(&stdout, "election id").to_owned();
    let province = printed(&stdout, "province id").to_owned();
    let observer = printed(&stdout, "observer (province)").to_owned();

    let totals = totals(&app, &election, &observer).await;
    assert_eq!(figure(&totals, "meetings"), 1_893, "{totals}");
    assert_eq!(figure(&totals, "in_person"), 1_872, "{totals}");
    assert_eq!(figure(&totals, "online"), 21, "{totals}");
    assert_eq!(figure(&totals, "attendees"), 130_735, "{totals}");
    assert_eq!(figure(&totals, "reports_filed"), 1_893, "{totals}");
    assert_eq!(figure(&totals, "reports_overdue"), 0, "{totals}");

    // Every meeting held or cancelled, as the rows say.
    let rows = counted(&app, &election);
    assert_eq!(of(&rows, "held"), 1_893);
    assert_eq!(of(&rows, "planned"), 0);
    assert_eq!(of(&rows, "online"), 21);
    assert_eq!(of(&rows, "attendances"), 130_735);
    assert!(of(&rows, "cancelled") > 0);

    let seats = |body: &str| {
        app.count(&format!(
            "SELECT coalesce(sum(seats), 0)::bigint AS n FROM electoral_units
              WHERE election_id = '{election}' AND body = '{body}'"
        ))
    };
    assert_eq!(seats("national_assembly"), 7);
    assert_eq!(seats("province_council"), 66);
    assert_eq!(seats("district_council"), 319);
    assert_eq!(seats("commune_council"), 4_073);
    let districts = app.count(&format!(
        "SELECT count(*) AS n FROM regions WHERE parent_id = '{province}' AND level = 'district'"
    ));
    assert_eq!(districts, 9);
    let name = app.count(&format!(
        "SELECT count(*) AS n FROM regions WHERE id = '{province}' AND name = 'Tỉnh Thái Nguyên'"
    ));
    assert_eq!(name, 1);
}

#[actix_web::test]
async fn the_campaign_in_progress_reports_what_the_demo_loaded_and_the_rows_hold() {
    let app = quiet_app().await;
    let settings = app.settings.clone();
    let summary = tokio::task::spawn_blocking(move || app::load_demo(&settings, 60, false, false))
        .await
        .expect("the demo ran")
        .expect("the demo loads");
    let loaded = &summary.loaded;
    let c = &loaded.counted;
    let election = loaded.election_id.to_string();
    // The demo is worth checking only if it has every kind of meeting.
    for (what, n) in [
        ("held", c.held),
        ("not held", c.not_held),
        ("cancelled", c.cancelled),
        ("online", c.online),
        ("late", c.reports_late),
    ] {
        assert!(n > 0, "the demo has no {what} meeting: {c:?}");
    }

    let totals = totals(&app, &election, &loaded.tokens.observer).await;
    assert_eq!(figure(&totals, "reports_filed"), c.held as i64, "{totals}");
    assert_eq!(
        figure(&totals, "meetings"),
        (c.held + c.not_held) as i64,
        "{totals}"
    );
    assert_eq!(figure(&totals, "in_person"), c.in_person as i64);
    assert_eq!(figure(&totals, "online"), c.online as i64);
    assert_eq!(figure(&totals, "cancelled"), c.cancelled as i64);
    assert_eq!(figure(&totals, "attendees"), c.attendances);
    assert_eq!(figure(&totals, "reports_late"), c.reports_late as i64);

    let rows = counted(&app, &election);
    assert_eq!(of(&rows, "held"), c.held as i64);
    assert_eq!(of(&rows, "planned"), c.not_held as i64);
    assert_eq!(of(&rows, "cancelled"), c.cancelled as i64);
    assert_eq!(of(&rows, "online"), c.online as i64);
    assert_eq!(of(&rows, "attendances"), c.attendances);
    assert_eq!(
        (c.held + c.not_held + c.cancelled) as i64,
        app.count(&format!(
            "SELECT count(*) AS n FROM meetings WHERE election_id = '{election}'"
        ))
    );

    // Every change was audited, as the service itself.
    let audited = app.count(&format!(
        "SELECT count(*) AS n FROM audit_log a JOIN meetings m ON m.province_id = a.province_id AND m.id = a.entity_id
          WHERE m.election_id = '{election}' AND a.entity_type = 'meeting'
            AND a.action = 'create' AND a.actor_name = 'demo'"
    ));
    assert_eq!(audited, (c.held + c.not_held + c.cancelled) as i64);

    let me = app.get("/me", &loaded.tokens.organizer).await;
    assert_eq!(me.ok(200)["role"], "organizer");
    let admin = app
        .get(&format!("/elections/{election}"), &loaded.tokens.admin)
        .await;
    assert_eq!(admin.ok(200)["report_deadline_hours"], 24);
}

#[actix_web::test]
async fn a_second_load_refuses_and_reset_replaces_the_province() {
    let app = quiet_app().await;
    let first = succeeded(&demo(&app.database_url, &["--meetings", "20"]));
    let earlier = printed(&first, "election id").to_owned();
    let earlier_admin = printed(&first, "admin").to_owned();

    let again = demo(&app.database_url, &["--meetings", "20"]);
    assert!(!again.status.success());
    let refusal = String::from_utf8_lossy(&again.stderr);
    assert!(
        refusal.contains("already exists") && refusal.contains("--reset"),
        "{refusal}"
    );
    let province = |stdout: &str| Uuid::parse_str(printed(stdout, "province id")).expect("an id");
    let provinces = "SELECT count(*) AS n FROM regions WHERE level = 'province' AND code = '42'";
    assert_eq!(app.count(provinces), 1);

    let reset = succeeded(&demo(&app.database_url, &["--meetings", "20", "--reset"]));
    let election = printed(&reset, "election id").to_owned();
    assert_ne!(election, earlier);
    assert_ne!(province(&reset), province(&first));
    assert_eq!(app.count(provinces), 1);
    let admin = printed(&reset, "admin").to_owned();
    app.get(&format!("/elections/{earlier}"), &admin)
        .await
        .problem(404, "not_found");
    app.get("/me", &earlier_admin)
        .await
        .problem(401, "unauthorized");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM meetings WHERE election_id = '{earlier}'"
        )),
        0
    );
    let rows = counted(&app, &election);
    let shown = totals(&app, &election, &admin).await;
    assert_eq!(
        figure(&shown, "reports_filed"),
        of(&rows, "held"),
        "{shown}"
    );
    assert_eq!(
        printed(&reset, "meetings held"),
        of(&rows, "held").to_string()
    );
}
