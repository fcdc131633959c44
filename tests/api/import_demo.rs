//! The demo province loaded by importing files instead of the demo code path (issue 13): the
//! demo (60 meetings) is loaded into one database; its regions, venues, candidates and meetings
//! are written out as spreadsheets in the import format by plain SQL; a second database gets
//! the same election and electoral units through the API (imports do not create those) and
//! then imports the four files through `POST /imports/{kind}`.
//!
//! What is compared is what imports carry: the regions, venues and active candidates, and the
//! meetings that were not cancelled, each with its title, times, format, chair, units, venue
//! and expected attendees, and the candidates it was planned for; and the attendance report's
//! meeting counts (meetings, in person, online). Imports plan meetings: check-ins, reports,
//! cancellations and health rules are not theirs, so attendance figures are not compared, and
//! a meeting with several sites (or online with connection points) is not one row of the
//! meetings sheet (one venue per row) and is left out, on both sides, and counted.
use serde_json::{json, Value};

use crate::helpers::{app, spawn_app_with, TestApp};

async fn quiet_app() -> TestApp {
    let app = spawn_app_with(|s| s.outbox.enabled = false).await;
    app.expect_pending_mail();
    app
}

/// The rows of `sql`, which selects one `json_build_array(…)::text AS row` per row.
fn rows(app: &TestApp, sql: &str) -> Vec<Vec<String>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let found: Vec<Row> = diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut app.conn())
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    found
        .into_iter()
        .map(|r| {
            let cells: Vec<Value> = serde_json::from_str(&r.row).expect("a JSON array");
            cells
                .into_iter()
                .map(|c| match c {
                    Value::Null => String::new(),
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A sheet as Excel saves CSV: a byte-order mark, CRLF.
fn sheet(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    w.write_record(header).expect("header");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.into_inner().expect("csv")
}

/// A region's names from its province down, e.g. `Tỉnh Hà Tĩnh / Huyện Kỳ Anh`: the same
/// region in both databases.
const PATH: &str =
    "array_to_string(ARRAY(SELECT p.name FROM unnest(r.path) WITH ORDINALITY u(id, o)
                      JOIN regions p ON p.province_id = r.province_id AND p.id = u.id ORDER BY u.o), ' / ')";

/// The meetings a meetings sheet can carry: not cancelled, in person at one venue or online
/// without connection points.
fn one_row_meetings(election: &str) -> String {
    format!(
        "m.election_id = '{election}' AND m.status <> 'cancelled'
         AND ((m.format = 'in_person' AND (SELECT count(*) FROM meeting_sites s WHERE s.province_id = m.province_id AND s.meeting_id = m.id) = 1)
           OR (m.format = 'online' AND NOT EXISTS (SELECT 1 FROM meeting_sites s WHERE s.province_id = m.province_id AND s.meeting_id = m.id)))"
    )
}

/// Every meeting of `filter` as a comparable line.
fn meetings_of(app: &TestApp, filter: &str) -> Vec<String> {
    let mut lines: Vec<String> = rows(
        app,
        &format!(
            "SELECT json_build_array(m.title, m.format, m.starts_at, m.ends_at, m.chair_name, m.chair_role,
                    m.online_platform, m.online_join_url, m.online_max_participants, m.online_expected_attendees,
                    (SELECT string_agg(u.name, ';' ORDER BY u.name) FROM meeting_units mu
                       JOIN electoral_units u ON u.province_id = mu.province_id AND u.id = mu.electoral_unit_id WHERE mu.province_id = m.province_id AND mu.meeting_id = m.id),
                    (SELECT string_agg(v.name || ' ' || s.expected_attendees, ';' ORDER BY v.name) FROM meeting_sites s
                       JOIN venues v ON v.province_id = s.province_id AND v.id = s.venue_id WHERE s.province_id = m.province_id AND s.meeting_id = m.id),
                    (SELECT string_agg(c.full_name, ';' ORDER BY c.full_name) FROM meeting_candidates mc
                       JOIN candidates c ON c.province_id = mc.province_id AND c.id = mc.candidate_id WHERE mc.province_id = m.province_id AND mc.meeting_id = m.id AND mc.active)
                    )::text AS row
               FROM meetings m WHERE {filter}"
        ),
    )
    .into_iter()
    .map(|r| r.join(" | "))
    .collect();
    lines.sort();
    lines
}

fn sorted(mut v: Vec<Vec<String>>) -> Vec<Vec<String>> {
    v.sort();
    v
}

async fn imported(b: &TestApp, kind: &str, query: &str, body: Vec<u8>, rows: usize) {
    let answer = b
        .post_raw(
            &format!("/imports/{kind}{query}"),
            &b.admin,
            "text/csv",
            body,
        )
        .await;
    assert_eq!(
        answer.ok(200)["created"].as_u64(),
        Some(rows as u64),
        "{kind}: {}",
        answer.text
    );
}

async fn report(app: &TestApp, election: &str) -> Value {
    let path = format!("/reports/attendance?election_id={election}");
    app.get(&path, &app.admin).await.ok(200)["totals"].clone()
}

fn figure(totals: &Value, field: &str) -> i64 {
    totals[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {totals}"))
}

#[actix_web::test]
async fn the_demo_province_loaded_by_importing_files_reports_the_same_meetings() {
    let a = quiet_app().await;
    let settings = a.settings.clone();
    let summary = tokio::task::spawn_blocking(move || app::load_demo(&settings, 60, false, false))
        .await
        .expect("the demo ran")
        .expect("the demo loads");
    let election_a = summary.loaded.election_id.to_string();

    // The four sheets, from the demo's rows.
    let regions = rows(
        &a,
        "SELECT json_build_array(r.name, r.level, p.name, r.code, r.contact_email)::text AS row
           FROM regions r LEFT JOIN regions p ON p.province_id = r.province_id AND p.id = r.parent_id
          ORDER BY array_length(r.path, 1), r.name",
    );
    let venues = rows(
        &a,
        "SELECT json_build_array(v.name, v.address, v.capacity, v.area_m2, v.setting,
                CASE WHEN r.level = 'commune' THEN r.name END,
                CASE WHEN r.level = 'commune' THEN p.name ELSE r.name END)::text AS row
           FROM venues v JOIN regions r ON r.province_id = v.province_id AND r.id = v.region_id LEFT JOIN regions p ON p.province_id = r.province_id AND p.id = r.parent_id
          ORDER BY v.name",
    );
    let candidates = rows(
        &a,
        &format!(
            "SELECT json_build_array(c.full_name, c.email, u.name, c.locale)::text AS row
               FROM candidates c JOIN electoral_units u ON u.province_id = c.province_id AND u.id = c.electoral_unit_id
              WHERE u.election_id = '{election_a}' AND c.status = 'active' ORDER BY c.full_name"
        ),
    );
    let in_a = one_row_meetings(&election_a);
    let meetings = rows(
        &a,
        &format!(
            "SELECT json_build_array(m.title,
                    (SELECT string_agg(u.name, ';') FROM meeting_units mu
                       JOIN electoral_units u ON u.province_id = mu.province_id AND u.id = mu.electoral_unit_id WHERE mu.province_id = m.province_id AND mu.meeting_id = m.id),
                    m.format, m.starts_at, m.ends_at, v.name, r.name,
                    coalesce(s.expected_attendees, m.online_expected_attendees),
                    m.online_platform, m.online_join_url, m.online_max_participants,
                    m.chair_name, m.chair_role)::text AS row
               FROM meetings m
               LEFT JOIN meeting_sites s ON s.province_id = m.province_id AND s.meeting_id = m.id
               LEFT JOIN venues v ON v.province_id = s.province_id AND v.id = s.venue_id LEFT JOIN regions r ON r.province_id = v.province_id AND r.id = v.region_id
              WHERE {in_a} ORDER BY m.starts_at, m.title"
        ),
    );
    let left_out = a.count(&format!(
        "SELECT count(*) AS n FROM meetings m
          WHERE m.election_id = '{election_a}' AND m.status <> 'cancelled' AND NOT ({in_a})"
    ));
    assert!(
        meetings.len() as i64 > 2 * left_out,
        "most of the demo's meetings are one row each: {} rows, {left_out} left out",
        meetings.len()
    );

    // The same election and units in the second database, through the API.
    let b = quiet_app().await;
    let shown = a.get(&format!("/elections/{election_a}"), &a.admin).await;
    let e = shown.ok(200);
    let election_b = b
        .post(
            "/elections",
            &b.admin,
            json!({
                "name": e["name"], "campaign_starts_at": e["campaign_starts_at"],
                "polling_starts_at": e["polling_starts_at"], "timezone": e["timezone"],
                "report_deadline_hours": e["report_deadline_hours"],
                "min_meetings_per_candidate": e["min_meetings_per_candidate"],
            }),
        )
        .await
        .id()
        .to_string();
    imported(
        &b,
        "regions",
        "",
        sheet(
            &[
                "Tên đơn vị hành chính",
                "Cấp",
                "Đơn vị cấp trên",
                "Mã",
                "Email liên hệ",
            ],
            &regions,
        ),
        regions.len(),
    )
    .await;
    let units = rows(
        &a,
        &format!(
            "SELECT json_build_array(u.name, u.body, u.seats, {PATH})::text AS row
               FROM electoral_units u JOIN regions r ON r.province_id = u.province_id AND r.id = u.region_id
              WHERE u.election_id = '{election_a}' ORDER BY u.name"
        ),
    );
    for u in &units {
        let region = rows(
            &b,
            &format!(
                "SELECT json_build_array(r.id)::text AS row FROM regions r WHERE {PATH} = '{}'",
                u[3].replace('\'', "''")
            ),
        );
        assert_eq!(
            region.len(),
            1,
            "the region {} in the second database",
            u[3]
        );
        let seats: i64 = u[2].parse().expect("seats");
        b.post(
            &format!("/elections/{election_b}/electoral-units"),
            &b.admin,
            json!({ "name": u[0], "body": u[1], "region_id": region[0][0], "seats": seats }),
        )
        .await
        .ok(201);
    }
    imported(
        &b,
        "venues",
        "",
        sheet(
            &[
                "Tên địa điểm",
                "Địa chỉ",
                "Sức chứa",
                "Diện tích (m²)",
                "Loại",
                "Xã/Phường",
                "Huyện",
            ],
            &venues,
        ),
        venues.len(),
    )
    .await;
    let of_election = format!("?election_id={election_b}");
    imported(
        &b,
        "candidates",
        &of_election,
        sheet(
            &["Họ và tên", "Email", "Đơn vị bầu cử", "Ngôn ngữ"],
            &candidates,
        ),
        candidates.len(),
    )
    .await;
    imported(
        &b,
        "meetings",
        &of_election,
        sheet(
            &[
                "Tên hội nghị",
                "Đơn vị bầu cử",
                "Hình thức",
                "Bắt đầu",
                "Kết thúc",
                "Địa điểm",
                "Xã/Phường",
                "Số người dự kiến",
                "Nền tảng",
                "Đường dẫn",
                "Số người tối đa",
                "Chủ trì",
                "Chức vụ chủ trì",
            ],
            &meetings,
        ),
        meetings.len(),
    )
    .await;

    // The same records on both sides.
    let regions_of = |app: &TestApp| {
        sorted(rows(
            app,
            &format!("SELECT json_build_array({PATH}, r.level, r.code, r.contact_email)::text AS row FROM regions r"),
        ))
    };
    assert_eq!(regions_of(&b), regions_of(&a));
    let venues_of = |app: &TestApp| {
        sorted(rows(
            app,
            &format!(
                "SELECT json_build_array(v.name, v.address, v.capacity, v.area_m2, v.setting, {PATH})::text AS row
                   FROM venues v JOIN regions r ON r.province_id = v.province_id AND r.id = v.region_id"
            ),
        ))
    };
    assert_eq!(venues_of(&b), venues_of(&a));
    let candidates_of = |app: &TestApp, election: &str| {
        sorted(rows(
            app,
            &format!(
                "SELECT json_build_array(c.full_name, c.email, c.locale, c.status, u.name)::text AS row
                   FROM candidates c JOIN electoral_units u ON u.province_id = c.province_id AND u.id = c.electoral_unit_id
                  WHERE u.election_id = '{election}' AND c.status = 'active'"
            ),
        ))
    };
    assert_eq!(
        candidates_of(&b, &election_b),
        candidates_of(&a, &election_a)
    );
    let meetings_b = meetings_of(&b, &format!("m.election_id = '{election_b}'"));
    assert_eq!(meetings_b.len(), meetings.len());
    assert_eq!(meetings_b, meetings_of(&a, &in_a));

    // The attendance report counts the same meetings: the demo's, less those left out.
    let totals_a = report(&a, &election_a).await;
    let totals_b = report(&b, &election_b).await;
    let left_out_as = |format: &str| {
        a.count(&format!(
            "SELECT count(*) AS n FROM meetings m WHERE m.election_id = '{election_a}'
                AND m.status <> 'cancelled' AND m.format = '{format}' AND NOT ({in_a})"
        ))
    };
    for (field, left) in [
        ("meetings", left_out),
        ("in_person", left_out_as("in_person")),
        ("online", left_out_as("online")),
    ] {
        assert_eq!(
            figure(&totals_b, field),
            figure(&totals_a, field) - left,
            "{field}: {totals_a} / {totals_b}"
        );
    }
}
