//! `voter-meetings demo`: a province loaded through the domain functions, whose attendance
//! report shows what the tables hold, counted here by plain SQL of our own; a second load
//! refuses, `--reset` replaces.
use std::process::Command;

use serde_json::Value;
use uuid::Uuid;

use crate::helpers::fixtures::demo;
use crate::helpers::{app, database, TestApp};

/// The report's figures for one election, counted from the rows (not from the columns the
/// service keeps for its roll-ups): the current revision's attendees, lateness from the
/// first filing's time, overdue from the deadline.
fn counted(app: &TestApp, election: Uuid) -> Vec<(&'static str, i64)> {
    let of = format!("m.election_id = '{election}'");
    let report_of = "EXISTS (SELECT 1 FROM attendance_reports r WHERE r.meeting_id = m.id)";
    [
        (
            "meetings",
            format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status <> 'cancelled'"),
        ),
        (
            "in_person",
            format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status <> 'cancelled' AND m.format = 'in_person'"),
        ),
        (
            "online",
            format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status <> 'cancelled' AND m.format = 'online'"),
        ),
        (
            "cancelled",
            format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND m.status = 'cancelled'"),
        ),
        (
            "attendees",
            format!(
                "SELECT coalesce(sum(r.attendees), 0)::bigint AS n
                   FROM attendance_reports r JOIN meetings m ON m.id = r.meeting_id
                  WHERE {of} AND m.status <> 'cancelled'
                    AND r.revision = (SELECT max(x.revision) FROM attendance_reports x
                                       WHERE x.meeting_id = r.meeting_id)"
            ),
        ),
        (
            "reports_filed",
            format!("SELECT count(*) AS n FROM meetings m WHERE {of} AND {report_of}"),
        ),
        (
            "reports_late",
            format!(
                "SELECT count(*) AS n
                   FROM attendance_reports r JOIN meetings m ON m.id = r.meeting_id
                   JOIN elections e ON e.id = m.election_id
                  WHERE {of} AND r.revision = 1
                    AND r.filed_at > m.ends_at + e.report_deadline_hours * interval '1 hour'"
            ),
        ),
        (
            "reports_overdue",
            format!(
                "SELECT count(*) AS n FROM meetings m JOIN elections e ON e.id = m.election_id
                  WHERE {of} AND m.status <> 'cancelled' AND NOT {report_of}
                    AND m.ends_at + e.report_deadline_hours * interval '1 hour' < now()"
            ),
        ),
    ]
    .map(|(field, sql)| (field, app.count(&sql)))
    .to_vec()
}

fn shown(row: &Value, field: &str) -> i64 {
    row[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {row}"))
}

#[actix_web::test]
async fn the_province_report_shows_what_the_tables_hold_and_what_the_demo_printed() {
    let (app, loaded) = demo().await;
    let counted = counted(&app, loaded.election_id);
    let figure = |field: &str| {
        counted
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, n)| *n)
            .expect("a counted figure")
    };
    // The demo is worth checking only if every kind of meeting is in it.
    for field in counted.iter().map(|(f, _)| *f) {
        assert!(figure(field) > 0, "the demo has no {field}: {counted:?}");
    }
    assert!(loaded.candidates > 300 && loaded.venues > 200);

    let report = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=region",
                loaded.election_id
            ),
            &loaded.observer,
        )
        .await;
    let body = report.ok(200);
    let province = body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == loaded.province_id.to_string())
        .expect("a row for the province");
    for (field, n) in &counted {
        assert_eq!(shown(province, field), *n, "{field}");
        assert_eq!(shown(&body["totals"], field), *n, "totals.{field}");
    }
    // What the demo printed when it loaded, but overdue: that one moves with the clock.
    for (field, printed) in &loaded.printed {
        if field != "reports_overdue" {
            assert_eq!(*printed, figure(field), "printed {field}");
        }
    }

    let flagged_rows = app.count(&format!(
        "SELECT count(*) AS n FROM meetings WHERE election_id = '{}' AND needs_attention",
        loaded.election_id
    ));
    assert!(flagged_rows > 0);
    assert_eq!(loaded.needs_attention as i64, flagged_rows);
    let flagged = app
        .get(
            &format!(
                "/meetings?election_id={}&needs_attention=true&limit=500",
                loaded.election_id
            ),
            &loaded.observer,
        )
        .await;
    let flagged = flagged.ok(200)["items"].as_array().expect("items").len();
    assert_eq!(flagged as i64, flagged_rows);

    let me = app.get("/me", &loaded.organizer).await;
    assert_eq!(me.ok(200)["role"], "organizer");
    let admin = app
        .get(&format!("/elections/{}", loaded.election_id), &loaded.admin)
        .await;
    assert_eq!(admin.ok(200)["report_deadline_hours"], 24);

    let url = app.database_url.clone();
    let again = tokio::task::spawn_blocking(move || {
        app::load_demo(&mut database::connect(&url), 10).map(|_| ())
    })
    .await
    .expect("the second load ran");
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
    let (app, earlier) = demo().await;
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
    let election = printed(&stdout, "election id").to_owned();
    assert_ne!(election, earlier.election_id.to_string());
    let new_admin = printed(&stdout, "admin").to_owned();
    let observer = printed(&stdout, "observer (province)").to_owned();
    assert!(stdout.contains(&format!(
        "GET /api/v1/reports/attendance?election_id={election}&group_by=region"
    )));
    let meetings: i64 = printed(&stdout, "meetings (planned+held)")
        .parse()
        .expect("a number");
    let election = Uuid::parse_str(&election).expect("an election id");
    let rows = counted(&app, election);
    assert_eq!(rows[0], ("meetings", meetings));
    let report = app
        .get(
            &format!("/reports/attendance?election_id={election}"),
            &observer,
        )
        .await;
    let totals = &report.ok(200)["totals"];
    for (field, n) in &rows {
        assert_eq!(shown(totals, field), *n, "totals.{field}");
    }

    app.get(&format!("/elections/{}", earlier.election_id), &new_admin)
        .await
        .problem(404, "not_found");
    // The earlier demo's tokens went with its data (never used over HTTP, so not cached).
    app.get("/me", &earlier.admin)
        .await
        .problem(401, "unauthorized");
    app.get("/me", &earlier.organizer)
        .await
        .problem(401, "unauthorized");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM meetings WHERE election_id = '{}'",
            earlier.election_id
        )),
        0
    );
}
