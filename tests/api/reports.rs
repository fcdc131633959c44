//! `/reports/*`: roll-ups equal hand-computed figures for a multi-level fixture.
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::fixtures::Reports;
use crate::helpers::Role;

/// `[meetings, in_person, online, cancelled, attendees, reports_filed, reports_late, reports_overdue]`
fn figures(v: &Value) -> [i64; 8] {
    [
        "meetings",
        "in_person",
        "online",
        "cancelled",
        "attendees",
        "reports_filed",
        "reports_late",
        "reports_overdue",
    ]
    .map(|k| {
        v[k].as_i64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"))
    })
}

fn row<'a>(report: &'a Value, key: &Uuid) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key.to_string())
        .unwrap_or_else(|| panic!("no row {key} in {report}"))
}

#[actix_web::test]
async fn the_region_roll_up_counts_each_meeting_under_its_region_and_every_region_above() {
    let (app, f) = Reports::spawn().await;
    let r = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=region",
                f.election
            ),
            &app.admin,
        )
        .await;
    let report = r.ok(200);
    assert_eq!(figures(row(report, &f.p)), [5, 4, 1, 1, 130, 3, 1, 1]);
    assert_eq!(figures(row(report, &f.d1)), [3, 3, 0, 0, 80, 2, 1, 0]);
    assert_eq!(figures(row(report, &f.c1)), [3, 3, 0, 0, 80, 2, 1, 0]);
    // The joint meeting at Kỳ Đồng also serves Cẩm Xuyên's council unit, and the online
    // meeting has its connection point in Cẩm Thạch: a meeting counts under every region on
    // the path of one of its venues or units (SPEC §3 rule 11).
    assert_eq!(figures(row(report, &f.d2)), [3, 2, 1, 1, 100, 2, 0, 1]);
    assert_eq!(figures(row(report, &f.c2)), [2, 1, 1, 1, 50, 1, 0, 1]);
    assert_eq!(figures(&report["totals"]), [5, 4, 1, 1, 130, 3, 1, 1]);
    assert_eq!(row(report, &f.c1)["label"], "Xã Kỳ Đồng");
    let keys: Vec<&str> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    let expected = [f.p, f.d1, f.c1, f.d2, f.c2].map(|id| id.to_string());
    assert_eq!(
        keys,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn joint_meetings_count_once_in_totals_and_once_under_each_unit_and_body() {
    let (app, f) = Reports::spawn().await;
    let r = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=electoral_unit",
                f.election
            ),
            &app.admin,
        )
        .await;
    let report = r.ok(200);
    // NA: M1, M2, M5, M6; council: M1, M4 (+ M3 cancelled)
    assert_eq!(figures(row(report, &f.na)), [4, 4, 0, 0, 80, 2, 1, 1]);
    assert_eq!(figures(row(report, &f.council)), [2, 1, 1, 1, 100, 2, 0, 0]);
    assert_eq!(figures(&report["totals"]), [5, 4, 1, 1, 130, 3, 1, 1]);
    let bodies = report["by_body"].as_array().expect("by_body");
    let na = bodies
        .iter()
        .find(|b| b["key"] == "national_assembly")
        .expect("na");
    assert_eq!(figures(na), [4, 4, 0, 0, 80, 2, 1, 1]);
    let council = bodies
        .iter()
        .find(|b| b["key"] == "province_council")
        .expect("council");
    assert_eq!(figures(council), [2, 1, 1, 1, 100, 2, 0, 0]);
}

#[actix_web::test]
async fn candidates_and_days_group_the_same_meetings() {
    let (app, f) = Reports::spawn().await;
    let by_candidate = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=candidate",
                f.election
            ),
            &app.admin,
        )
        .await;
    let report = by_candidate.ok(200);
    assert_eq!(
        figures(row(report, &f.na_candidates[0])),
        [4, 4, 0, 0, 80, 2, 1, 1]
    );
    let by_day = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=day",
                f.election
            ),
            &app.admin,
        )
        .await;
    let days = by_day.ok(200)["rows"].as_array().expect("rows");
    let summed: i64 = days
        .iter()
        .map(|d| d["meetings"].as_i64().expect("n"))
        .sum();
    assert_eq!(summed, 5);
    let attendees: i64 = days
        .iter()
        .map(|d| d["attendees"].as_i64().expect("n"))
        .sum();
    assert_eq!(attendees, 130);
    assert!(days
        .iter()
        .all(|d| d["key"].as_str().expect("day").len() == 10));
}

#[actix_web::test]
async fn the_csv_opens_in_excel_with_vietnamese_intact_and_the_same_totals() {
    let (app, f) = Reports::spawn().await;
    let r = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=region&format=csv",
                f.election
            ),
            &app.admin,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/csv; charset=utf-8");
    assert!(r.text.starts_with('\u{feff}'), "no byte-order mark");
    assert!(r.text.contains("\r\n"));
    let mut reader = csv::Reader::from_reader(r.text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    // SPEC §4: headers and body names in Vietnamese unless `lang=en`, each region row's level.
    assert_eq!(header[..5], ["Mã", "Tên", "Cấp", "Thuộc", "Số hội nghị"]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    let labels: Vec<&str> = records.iter().map(|r| &r[1]).collect();
    assert!(labels.contains(&"Xã Kỳ Đồng") && labels.contains(&"Huyện Cẩm Xuyên"));
    let commune = records
        .iter()
        .find(|r| &r[1] == "Xã Kỳ Đồng")
        .expect("commune row");
    assert_eq!((&commune[2], &commune[3]), ("Xã", "Huyện Kỳ Anh"));
    let total = records.last().expect("totals row");
    assert_eq!(&total[0], "Tổng cộng");
    let numbers: Vec<i64> = (4..12).map(|i| total[i].parse().expect("number")).collect();
    assert_eq!(numbers, vec![5, 4, 1, 1, 130, 3, 1, 1]);
}

#[actix_web::test]
async fn observers_see_their_subtree_only() {
    let (app, f) = Reports::spawn().await;
    let observer = app.token(Role::Observer, Some(f.d1));
    let r = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&group_by=region",
                f.election
            ),
            &observer,
        )
        .await;
    let report = r.ok(200);
    assert_eq!(report["rows"].as_array().map(Vec::len), Some(2));
    assert_eq!(figures(&report["totals"]), [3, 3, 0, 0, 80, 2, 1, 0]);
    app.get(
        &format!(
            "/reports/attendance?election_id={}&region_id={}",
            f.election, f.d2
        ),
        &observer,
    )
    .await
    .problem(403, "forbidden");
    let d2 = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&region_id={}",
                f.election, f.d2
            ),
            &app.admin,
        )
        .await;
    // The joint meeting at Kỳ Đồng serves Cẩm Xuyên's council unit too (see above).
    assert_eq!(figures(&d2.ok(200)["totals"]), [3, 2, 1, 1, 100, 2, 0, 1]);
    app.get(
        &format!(
            "/reports/attendance?election_id={}&group_by=week",
            f.election
        ),
        &app.admin,
    )
    .await
    .problem(422, "validation_failed");
}

#[actix_web::test]
async fn overdue_lists_meetings_past_their_deadline_without_a_report() {
    let (app, f) = Reports::spawn().await;
    let r = app
        .get(
            &format!("/reports/overdue?election_id={}", f.election),
            &app.admin,
        )
        .await;
    let body = r.ok(200);
    assert_eq!(body["count"], 1);
    assert_eq!(body["items"][0]["region_id"], f.c2.to_string());
    assert_eq!(body["items"][0]["region_name"], "Xã Cẩm Thạch");
    let d1 = app.token(Role::Observer, Some(f.d1));
    let none = app
        .get(&format!("/reports/overdue?election_id={}", f.election), &d1)
        .await;
    assert_eq!(none.ok(200)["count"], 0);
}

#[actix_web::test]
async fn fairness_flags_candidates_below_their_bodys_minimum() {
    let (app, f) = Reports::spawn().await;
    let r = app
        .get(
            &format!("/reports/fairness?electoral_unit_id={}", f.na),
            &app.admin,
        )
        .await;
    let body = r.ok(200);
    let candidates = body["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 2);
    for c in candidates {
        assert_eq!(c["meetings_planned"], 4);
        assert_eq!(c["meetings_held"], 2);
        assert_eq!(c["minimum"], 10);
        assert_eq!(c["below_minimum"], true);
    }
    assert_eq!(body["units"][0]["spread"], 0);
    let all = app
        .get(
            &format!("/reports/fairness?election_id={}", f.election),
            &app.admin,
        )
        .await;
    let all = all.ok(200);
    assert_eq!(all["candidates"].as_array().map(Vec::len), Some(3));
    let council = all["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["body"] == "province_council")
        .expect("council");
    assert_eq!(council["minimum"], 5);
    assert_eq!(council["most_meetings"], 2);
    app.get("/reports/fairness", &app.admin)
        .await
        .problem(422, "validation_failed");
}
