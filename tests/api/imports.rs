//! Bulk import from CSV and XLSX (issue 13), and the reports as spreadsheets: every kind, dry
//! runs, all rows or none, Idempotency-Key, and XLSX exports whose totals equal the JSON ones.
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, Answer, TestApp};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/{name}")).expect("fixture")
}

async fn import(
    app: &TestApp,
    kind: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    app.post_raw(
        &format!("/imports/{kind}{query}"),
        &app.admin,
        content_type,
        body,
    )
    .await
}

fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::RunQueryDsl::load(
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")),
        &mut app.conn(),
    )
    .expect("count");
    rows[0].n
}

/// A sheet made the way a user's Excel would save it.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if r > 0 => sheet.write(r as u32, c as u16, n),
                _ => sheet.write(r as u32, c as u16, *cell),
            }
            .expect("write");
        }
    }
    book.save_to_buffer().expect("xlsx")
}

/// The province of `regions.csv`, its venues, and an election with two units.
async fn thai_nguyen(app: &TestApp) -> (Uuid, Uuid) {
    import(app, "regions", "", "text/csv", fixture("regions.csv"))
        .await
        .ok(200);
    import(app, "venues", "", "text/csv", fixture("venues.csv"))
        .await
        .ok(200);
    let province = Uuid::parse_str(
        app.get("/regions?level=province", &app.admin).await.ok(200)["items"][0]["id"]
            .as_str()
            .expect("province"),
    )
    .expect("uuid");
    let election = app.election().await;
    app.unit(election, province, "province_council", "Đơn vị bầu cử số 1")
        .await;
    app.unit(
        election,
        province,
        "national_assembly",
        "Đơn vị bầu cử số 2",
    )
    .await;
    (province, election)
}

#[actix_web::test]
async fn regions_and_venues_are_imported_from_published_lists_by_name() {
    let app = spawn_app().await;
    let dry = import(
        &app,
        "regions",
        "?dry_run=true",
        "text/csv",
        fixture("regions.csv"),
    )
    .await;
    assert_eq!(dry.ok(200)["created"], 7, "{}", dry.text);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(count(&app, "regions"), 0, "a dry run writes nothing");
    let done = import(&app, "regions", "", "text/csv", fixture("regions.csv")).await;
    assert_eq!(done.ok(200)["created"], 7);
    let communes = app.get("/regions?level=commune", &app.admin).await;
    assert_eq!(communes.ok(200)["items"].as_array().map(Vec::len), Some(4));
    let venues = import(&app, "venues", "", "text/csv", fixture("venues.csv")).await;
    assert_eq!(venues.ok(200)["created"], 4, "{}", venues.text);
    let listed = app.get("/venues?setting=outdoor", &app.admin).await;
    let outdoor = &listed.ok(200)["items"][0];
    assert_eq!(outdoor["name"], "Sân văn hóa xã Hùng Sơn");
    assert_eq!(outdoor["capacity"], 400);
    assert_eq!(outdoor["area_m2"], 1200.0);
    let audit = app.get("/audit?entity_type=venue", &app.admin).await;
    assert_eq!(
        audit.ok(200)["items"].as_array().map(Vec::len),
        Some(4),
        "audited like single POSTs"
    );
}

#[actix_web::test]
async fn candidates_come_from_csv_or_xlsx_and_a_bad_file_names_every_bad_row() {
    let app = spawn_app().await;
    let (_, election) = thai_nguyen(&app).await;
    let q = format!("?election_id={election}");
    let bad = import(
        &app,
        "candidates",
        &q,
        "text/csv",
        fixture("candidates_with_errors.csv"),
    )
    .await;
    bad.problem(422, "import_failed");
    let mut rows: Vec<i64> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["row"].as_i64().expect("row"))
        .collect();
    rows.dedup();
    assert_eq!(rows, vec![3, 4, 5, 6, 7], "{}", bad.text);
    assert_eq!(count(&app, "candidates"), 0, "all rows or none");

    let from_csv = import(
        &app,
        "candidates",
        &q,
        "text/csv; charset=utf-8",
        fixture("candidates.csv"),
    )
    .await;
    assert_eq!(from_csv.ok(200)["created"], 4, "{}", from_csv.text);
    assert_eq!(from_csv.body["ignored_columns"], json!(["STT"]));
    let english = from_csv.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["label"] == "Lê Hoàng Cường")
        .expect("row 4");
    let candidate = app
        .get(
            &format!("/candidates/{}", english["id"].as_str().expect("id")),
            &app.admin,
        )
        .await;
    assert_eq!(candidate.ok(200)["locale"], "en");

    let sheet = xlsx(&[
        &["Họ và tên", "Email", "Đơn vị bầu cử"],
        &[
            "Hoàng Văn Hải",
            "hai.hoang@example.vn",
            "Đơn vị bầu cử số 2",
        ],
        &["Bùi Thị Hạnh", "hanh.bui@example.vn", "ĐƠN VỊ BẦU CỬ SỐ 2"],
    ]);
    let from_xlsx = import(&app, "candidates", &q, XLSX, sheet).await;
    assert_eq!(from_xlsx.ok(200)["created"], 2, "{}", from_xlsx.text);
    assert_eq!(count(&app, "candidates"), 6);
}

#[actix_web::test]
async fn meetings_go_through_the_planning_rules_and_a_retry_changes_nothing() {
    let app = spawn_app().await;
    let (_, election) = thai_nguyen(&app).await;
    let q = format!("?election_id={election}");
    import(
        &app,
        "candidates",
        &q,
        "text/csv",
        fixture("candidates.csv"),
    )
    .await
    .ok(200);
    let key = [("Idempotency-Key", "import-meetings-1")];
    let send = || {
        app.client
            .post(format!("{}/api/v1/imports/meetings{q}", app.address))
            .bearer_auth(&app.admin)
            .header("content-type", "text/csv")
            .header(key[0].0, key[0].1)
            .body(fixture("meetings.csv"))
            .send()
    };
    let first = send().await.expect("sent");
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.expect("json");
    assert_eq!(first["created"], 3, "{first}");
    let again = send().await.expect("sent");
    assert_eq!(again.headers()["Idempotent-Replayed"], "true");
    assert_eq!(count(&app, "meetings"), 3, "a replay imports nothing twice");
    let listed = app.get("/meetings?format=online", &app.admin).await;
    assert_eq!(
        listed.ok(200)["items"][0]["online"]["max_participants"],
        300
    );
    let local = app
        .get(
            &format!("/meetings/{}", first["rows"][1]["id"].as_str().expect("id")),
            &app.admin,
        )
        .await;
    assert_eq!(
        local.ok(200)["starts_at"],
        "2021-05-05T07:00:00Z",
        "14:00 in Hà Nội"
    );

    // The same file again: every meeting now clashes with its twin (rule 3, rule 2).
    let clash = import(&app, "meetings", &q, "text/csv", fixture("meetings.csv")).await;
    clash.problem(422, "import_failed");
    let messages: Vec<&str> = clash.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        messages.iter().all(|m| m.contains("conflict")),
        "{messages:?}"
    );
    assert_eq!(count(&app, "meetings"), 3);
}

#[actix_web::test]
async fn an_import_needs_a_known_kind_a_file_and_a_writer() {
    let app = spawn_app().await;
    import(&app, "wizards", "", "text/csv", b"a,b\n".to_vec())
        .await
        .problem(404, "not_found");
    import(&app, "regions", "", "application/json", b"{}".to_vec())
        .await
        .problem(415, "unsupported_media_type");
    let empty = import(&app, "regions", "", "text/csv", Vec::new()).await;
    assert_eq!(empty.invalid_fields(), vec!["file"]);
    let missing = import(&app, "venues", "", "text/csv", b"name\nx\n".to_vec()).await;
    missing.problem(422, "import_failed");
    let observer = app.token(crate::helpers::Role::Observer, None);
    app.post_raw(
        "/imports/regions",
        &observer,
        "text/csv",
        fixture("regions.csv"),
    )
    .await
    .problem(403, "forbidden");
}

#[actix_web::test]
async fn an_import_checks_role_and_scope_before_the_rows_and_refuses_whole() {
    let app = spawn_app().await;
    import(&app, "regions", "", "text/csv", fixture("regions.csv"))
        .await
        .ok(200);
    let districts = app.get("/regions?level=district", &app.admin).await;
    let district = |name: &str| {
        districts.ok(200)["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| crate::helpers::uuid_of(&r["id"]))
            .expect("district")
    };
    let (dai_tu, city) = (district("Huyện Đại Từ"), district("Thành phố Thái Nguyên"));
    let organizer = app.token(crate::helpers::Role::Organizer, Some(dai_tu));
    let election = app.election().await;
    // Regions and candidates are an admin's (rule 11): 403 whatever the file holds.
    for (kind, query, body) in [
        ("regions", String::new(), b"not a table".to_vec()),
        ("candidates", String::new(), Vec::new()),
        (
            "candidates",
            format!("?election_id={election}"),
            fixture("candidates.csv"),
        ),
    ] {
        app.post_raw(
            &format!("/imports/{kind}{query}"),
            &organizer,
            "text/csv",
            body,
        )
        .await
        .problem(403, "forbidden");
    }
    // A venue in their district is theirs; one in the city is not: the file is refused whole.
    let header = "name,address,capacity,setting,region_id\n";
    let ours = format!("Nhà văn hóa xóm Đồng Cả,Xóm Đồng Cả,150,indoor,{dai_tu}\n");
    let theirs = format!("Hội trường phường Túc Duyên,Số 2 đường Túc Duyên,90,indoor,{city}\n");
    let refused = app
        .post_raw(
            "/imports/venues",
            &organizer,
            "text/csv",
            format!("{header}{ours}{theirs}").into_bytes(),
        )
        .await;
    let detail = refused.problem(403, "forbidden")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(detail.starts_with("row 3: "), "{detail}");
    assert_eq!(count(&app, "venues"), 0);
    let imported = app
        .post_raw(
            "/imports/venues",
            &organizer,
            "text/csv",
            format!("{header}{ours}").into_bytes(),
        )
        .await;
    assert_eq!(imported.ok(200)["created"], 1);
    assert_eq!(count(&app, "venues"), 1);
}

#[actix_web::test]
async fn the_xlsx_report_has_a_sheet_per_level_and_the_json_totals() {
    let app = spawn_app().await;
    let (province, election) = thai_nguyen(&app).await;
    let q = format!("?election_id={election}");
    import(
        &app,
        "candidates",
        &q,
        "text/csv",
        fixture("candidates.csv"),
    )
    .await
    .ok(200);
    import(&app, "meetings", &q, "text/csv", fixture("meetings.csv"))
        .await
        .ok(200);
    let json = app
        .get(
            &format!("/reports/attendance?election_id={election}&group_by=region"),
            &app.admin,
        )
        .await;
    let totals = json.ok(200)["totals"].clone();
    let rows = json.body["rows"].as_array().expect("rows");
    assert!(
        rows.iter().all(|r| r["level"].is_string()),
        "region rows carry their level"
    );
    let bytes = app
        .client
        .get(format!(
            "{}/api/v1/reports/attendance?election_id={election}&region_id={province}&group_by=region&format=xlsx&lang=en",
            app.address
        ))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("sent")
        .bytes()
        .await
        .expect("body");
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("opens");
    assert_eq!(book.sheet_names(), vec!["Province", "District", "Commune"]);
    let sheet = book.worksheet_range("Commune").expect("sheet");
    let header: Vec<String> = sheet
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[..3], ["Key", "Name", "Level"]);
    let last = sheet.rows().next_back().expect("totals row");
    assert_eq!(last[0], Data::String("Total".to_owned()));
    let numbers: Vec<f64> = last[4..12]
        .iter()
        .map(|c| match c {
            Data::Float(f) => *f,
            other => panic!("not a number: {other:?}"),
        })
        .collect();
    let expected: Vec<f64> = [
        "meetings",
        "in_person",
        "online",
        "cancelled",
        "attendees",
        "reports_filed",
        "reports_late",
        "reports_overdue",
    ]
    .iter()
    .map(|f| totals[f].as_f64().expect(f))
    .collect();
    assert_eq!(numbers, expected);
    assert_eq!(numbers[0], 3.0);

    let csv = app
        .get(
            &format!(
                "/reports/attendance?election_id={election}&group_by=electoral_unit&format=csv"
            ),
            &app.admin,
        )
        .await;
    let text = csv.text.trim_start_matches('\u{feff}');
    let first_line = text.lines().next().expect("header");
    assert!(
        first_line.starts_with("Mã,Tên,Cơ quan,Địa bàn"),
        "Vietnamese by default: {first_line}"
    );
    assert!(
        text.contains("HĐND cấp tỉnh") && text.contains("Quốc hội"),
        "{text}"
    );
}
