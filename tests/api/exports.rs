//! SPEC §4 and issue 9.10: no CSV or XLSX export carries a cell a spreadsheet would run — a
//! cell that begins with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`.
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::json;

use crate::helpers::{from_now, spawn_app, TestApp};

const RISKY: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

async fn download(app: &TestApp, query: &str) -> Vec<u8> {
    let resp = app
        .client
        .get(app.url(query))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200, "{query}");
    resp.bytes().await.expect("body").to_vec()
}

/// Every text cell of a CSV or an XLSX file.
fn cells(bytes: &[u8], xlsx: bool) -> Vec<String> {
    if xlsx {
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX file");
        let names = book.sheet_names();
        names
            .iter()
            .flat_map(|n| {
                let range = book.worksheet_range(n).expect("sheet");
                range
                    .rows()
                    .flat_map(|r| {
                        r.iter().filter_map(|c| match c {
                            Data::String(s) => Some(s.clone()),
                            _ => None,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        reader
            .records()
            .flat_map(|r| {
                r.expect("record")
                    .iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

#[actix_web::test]
async fn names_that_look_like_formulas_are_exported_inert_in_every_csv_and_xlsx() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let province = app
        .region(
            "=HYPERLINK(\"http://evil.example/x\",\"Bấm vào đây\")",
            "province",
            None,
        )
        .await;
    let district = app.region("+Huyện 1", "district", Some(province)).await;
    let commune = app.region("-Xã 2", "commune", Some(district)).await;
    for name in ["\tXã 3", "\rXã 4"] {
        // Names cannot hold a tab or CR at all (SPEC §2), so none reaches an export.
        let refused = app
            .post(
                "/regions",
                &app.admin,
                json!({"name": format!("x{name}"), "level": "commune", "parent_id": district}),
            )
            .await;
        assert_eq!(refused.invalid_fields(), vec!["name"]);
    }
    let unit = app
        .unit(election, province, "national_assembly", "@SUM(A1)")
        .await;
    app.candidate(unit, "=1+1", "a@example.vn").await;
    let hall = app.venue(commune, "-Hội trường", 100, None, "indoor").await;
    let held = app
        .post(
            "/meetings",
            &app.admin,
            json!({"election_id": election, "electoral_unit_ids": [unit], "format": "in_person",
                   "title": "=cmd|' /C calc'!A0", "starts_at": from_now(-3 * 24 * 60),
                   "ends_at": from_now(-3 * 24 * 60 + 60),
                   "sites": [{"venue_id": hall, "expected_attendees": 10}]}),
        )
        .await;
    held.ok(201);
    let mut queries = Vec::new();
    for group in ["region", "electoral_unit", "candidate", "day"] {
        queries.push(format!(
            "/reports/attendance?election_id={election}&group_by={group}"
        ));
    }
    queries.push(format!("/reports/fairness?election_id={election}"));
    queries.push(format!("/reports/fairness?electoral_unit_id={unit}"));
    queries.push(format!("/reports/overdue?election_id={election}"));
    let mut wrong = Vec::new();
    for q in &queries {
        for format in ["csv", "xlsx"] {
            for lang in ["vi", "en"] {
                let query = format!("{q}&format={format}&lang={lang}");
                let bytes = download(&app, &query).await;
                let cells = cells(&bytes, format == "xlsx");
                let live: Vec<&String> = cells.iter().filter(|c| c.starts_with(RISKY)).collect();
                let inert = cells.iter().filter(|c| c.starts_with('\'')).count();
                // Days are the only rows without a name in them.
                if !live.is_empty() || (inert == 0 && !q.contains("group_by=day")) {
                    wrong.push(format!("{query}: live {live:?}, {inert} neutralised"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
