//! `voter-meetings demo`: a province loaded through the domain functions, whose attendance
//! report shows exactly the figures the demo printed; a second load refuses, `--reset` replaces.
use std::process::Command;

use diesel::{Connection, PgConnection};
use serde_json::Value;
use voter_meetings::demo::{self, DemoOptions, DemoSummary};

use crate::helpers::spawn_app;

/// Loads the demo with `meetings` meetings into the app's database, off the async runtime.
async fn load(database_url: &str, meetings: u32) -> anyhow::Result<DemoSummary> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url)?;
        demo::load(
            &mut conn,
            DemoOptions {
                meetings,
                ..DemoOptions::default()
            },
        )
    })
    .await?
}

#[actix_web::test]
async fn the_province_report_shows_exactly_what_the_demo_printed() {
    let app = spawn_app().await;
    let summary = load(&app.database_url, 150).await.expect("demo loads");

    let f = &summary.figures;
    assert!(f.meetings >= 140, "{f:?}");
    assert!(f.in_person > 0 && f.cancelled <= 10, "{f:?}");
    assert!(f.reports_filed > 100 && f.attendees > 5_000, "{f:?}");
    assert!(summary.candidates > 300 && summary.venues > 200);

    let report = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=region",
                summary.election.id
            ),
            &summary.tokens.observer,
        )
        .await;
    let body = report.ok(200);
    let province = body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == summary.province_id.to_string())
        .expect("a row for the province");
    let shown = |row: &Value, field: &str| row[field].as_i64().expect(field);
    for (field, printed) in [
        ("meetings", f.meetings),
        ("in_person", f.in_person),
        ("online", f.online),
        ("cancelled", f.cancelled),
        ("attendees", f.attendees),
        ("reports_filed", f.reports_filed),
        ("reports_late", f.reports_late),
        ("reports_overdue", f.reports_overdue),
    ] {
        assert_eq!(shown(province, field), printed, "{field}");
        assert_eq!(shown(&body["totals"], field), printed, "totals.{field}");
    }

    assert!(summary.needs_attention > 0);
    let flagged = app
        .get(
            &format!(
                "/meetings?election_id={}&needs_attention=true&limit=500",
                summary.election.id
            ),
            &summary.tokens.observer,
        )
        .await;
    let flagged = flagged.ok(200)["items"].as_array().expect("items").len();
    assert_eq!(flagged, summary.needs_attention);

    let me = app.get("/me", &summary.tokens.organizer).await;
    assert_eq!(me.ok(200)["role"], "organizer");
    let admin = app
        .get(
            &format!("/elections/{}", summary.election.id),
            &summary.tokens.admin,
        )
        .await;
    assert_eq!(admin.ok(200)["report_deadline_hours"], 24);

    let again = load(&app.database_url, 10).await;
    let refusal = again.expect_err("a second load refuses").to_string();
    assert!(
        refusal.contains("already") && refusal.contains("--reset"),
        "{refusal}"
    );
}

fn binary(database_url: &str, args: &[&str]) -> std::process::Output {
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

#[actix_web::test]
async fn the_command_refuses_to_load_twice_and_reset_replaces_the_province() {
    let app = spawn_app().await;
    let first = binary(&app.database_url, &["--meetings", "20"]);
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let election = printed(&stdout, "election id").to_owned();
    let admin = printed(&stdout, "admin").to_owned();
    let organizer = printed(&stdout, "organizer (province)").to_owned();
    let observer = printed(&stdout, "observer (province)").to_owned();
    assert!(stdout.contains(&format!(
        "GET /api/v1/reports/attendance?election_id={election}&group_by=region"
    )));
    let meetings: i64 = printed(&stdout, "meetings (planned+held)")
        .parse()
        .expect("a number");
    let report = app
        .get(
            &format!("/reports/attendance?election_id={election}"),
            &observer,
        )
        .await;
    assert_eq!(report.ok(200)["totals"]["meetings"], meetings);

    let again = binary(&app.database_url, &["--meetings", "20"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--reset"));

    let reset = binary(&app.database_url, &["--meetings", "20", "--reset"]);
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let stdout = String::from_utf8_lossy(&reset.stdout).into_owned();
    let new_admin = printed(&stdout, "admin").to_owned();
    assert_ne!(printed(&stdout, "election id"), election);
    app.get(&format!("/elections/{election}"), &new_admin)
        .await
        .problem(404, "not_found");
    // The earlier demo's tokens went with its data (not used over HTTP yet, so not cached).
    app.get("/me", &admin).await.problem(401, "unauthorized");
    app.get("/me", &organizer)
        .await
        .problem(401, "unauthorized");
}
