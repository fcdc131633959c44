//! The console as its users meet it, in a real browser.
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::driver::{appears, click, js, sign_in, text, type_into, Driver, Network, Relay};
use crate::helpers::fixtures::Reports;
use crate::helpers::{eventually, spawn_app, uuid_of, Role, TestApp};

const FIGURES: [&str; 8] = [
    "meetings",
    "in_person",
    "online",
    "cancelled",
    "attendees",
    "reports_filed",
    "reports_late",
    "reports_overdue",
];

/// The figures the overview shows, by name.
async fn shown_figures(c: &Client) -> Value {
    let mut shown = serde_json::Map::new();
    for f in FIGURES {
        let t = text(c, &format!("[data-figure={f}]")).await;
        let n: i64 = t.trim().parse().unwrap_or_else(|_| panic!("{f} = {t:?}"));
        shown.insert(f.to_owned(), json!(n));
    }
    Value::Object(shown)
}

fn figures_of(report: &Value) -> Value {
    let t = &report["totals"];
    Value::Object(
        FIGURES
            .iter()
            .map(|f| ((*f).to_owned(), t[*f].clone()))
            .collect(),
    )
}

/// A planned meeting under way now at a new venue of `capacity` in the setup's commune.
async fn meeting_now(app: &TestApp, capacity: i32) -> Value {
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let door = app
        .venue(
            s.tree.commune,
            "Nhà văn hóa thôn Bắc",
            capacity,
            None,
            "indoor",
        )
        .await;
    app.meeting_from_now(&s, door, -10, 120, capacity).await
}

async fn present_of(app: &TestApp, meeting: &Value) -> i64 {
    let id = meeting["id"].as_str().expect("id");
    let m = app.get(&format!("/meetings/{id}"), &app.admin).await;
    m.ok(200)["sites"][0]["present"].as_i64().expect("present")
}

/// Taps waiting in the check-in page's queue.
async fn waiting(c: &Client) -> i64 {
    js(
        c,
        "var n = 0; for (var i = 0; i < localStorage.length; i++) { \
           var k = localStorage.key(i); \
           if (k.indexOf('vm-checkin-') === 0) { n += JSON.parse(localStorage.getItem(k)).length; } } \
         return n;",
    )
    .await
    .as_i64()
    .expect("a count")
}

fn checkin_path(meeting: &Value) -> String {
    format!(
        "/meetings/{}/checkin/{}",
        meeting["id"].as_str().expect("id"),
        meeting["sites"][0]["id"].as_str().expect("site id")
    )
}

#[tokio::test]
async fn one_signs_in_with_a_token_and_out_again() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    c.goto(&app.address).await.expect("open");
    appears(
        &c,
        Locator::Id("sign-in"),
        "an unsigned visitor is sent to sign in",
    )
    .await;

    type_into(&c, Locator::Id("token"), "vm_not-a-token", "token field").await;
    click(&c, Locator::Css("#sign-in button"), "button").await;
    appears(&c, Locator::Id("token-error"), "a wrong token is refused").await;

    sign_in(&c, &app.address, &app.admin).await;
    let session = c
        .get_named_cookie("vm_session")
        .await
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    assert_ne!(session.value(), app.admin, "the cookie is not the token");
    let visible = js(&c, "return document.cookie;").await;
    assert!(
        !visible.as_str().unwrap_or_default().contains("vm_session"),
        "scripts cannot read the session: {visible}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM console_sessions"), 1);

    // A form posted without this session's token (another site's) is refused.
    let forged = app
        .client
        .post(format!("{}/sign-out", app.address))
        .header("Cookie", format!("vm_session={}", session.value()))
        .form(&[("csrf", "0".repeat(64))])
        .send()
        .await
        .expect("sent");
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM console_sessions"), 1);

    click(&c, Locator::Id("sign-out"), "sign-out button").await;
    appears(&c, Locator::Id("sign-in"), "back to sign-in").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM console_sessions"), 0);
    c.goto(&format!("{}/meetings", app.address))
        .await
        .expect("open");
    appears(
        &c,
        Locator::Id("sign-in"),
        "the ended session opens nothing",
    )
    .await;
    let old = app
        .client
        .get(format!("{}/meetings", app.address))
        .header("Cookie", format!("vm_session={}", session.value()))
        .send()
        .await
        .expect("sent");
    assert_eq!(old.url().path(), "/sign-in", "the old cookie is dead");
    c.close().await.expect("close");
}

#[tokio::test]
async fn the_overview_shows_the_numbers_of_the_attendance_report_down_to_the_commune() {
    let (app, r) = Reports::spawn().await;
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    let levels = [
        (None, Some(r.p)),
        (Some(r.p), Some(r.d1)),
        (Some(r.d1), Some(r.c1)),
        (Some(r.c1), None),
    ];
    for (region, next) in levels {
        let path = match region {
            None => format!("/?election_id={}", r.election),
            Some(reg) => format!("/?election_id={}&region_id={reg}", r.election),
        };
        c.goto(&format!("{}{path}", app.address))
            .await
            .expect("open");
        let api = match region {
            None => format!("/reports/attendance?election_id={}", r.election),
            Some(reg) => format!(
                "/reports/attendance?election_id={}&region_id={reg}",
                r.election
            ),
        };
        let report = app.get(&api, &app.admin).await;
        assert_eq!(
            shown_figures(&c).await,
            figures_of(report.ok(200)),
            "overview of {region:?}"
        );
        if let Some(next) = next {
            // Drill down by the chart: its bar for the sub-region links to it.
            let bar = c
                .find(Locator::Css(&format!(
                    "svg.chart a[href*='region_id={next}']"
                )))
                .await
                .expect("a bar per sub-region");
            assert!(bar.attr("href").await.expect("href").is_some());
        }
    }
    // Held meetings are the ones with a report; the rest (not cancelled) are still planned.
    c.goto(&format!("{}/?election_id={}", app.address, r.election))
        .await
        .expect("open");
    for status in ["planned", "held"] {
        let listed = app
            .get(
                &format!("/meetings?election_id={}&status={status}", r.election),
                &app.admin,
            )
            .await;
        let listed = listed.ok(200)["items"].as_array().map_or(0, Vec::len);
        let shown = text(&c, &format!("[data-figure={status}]")).await;
        assert_eq!(shown, listed.to_string(), "{status}");
    }
    let province = app
        .get(
            &format!("/reports/attendance?election_id={}", r.election),
            &app.admin,
        )
        .await;
    assert!(
        province.ok(200)["totals"]["attendees"].as_i64() > Some(0),
        "the fixture has attendances to compare"
    );
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_organizer_of_one_commune_sees_nothing_of_another() {
    let (app, r) = Reports::spawn().await;
    let organizer = app.token(Role::Organizer, Some(r.c1));
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &organizer).await;
    c.goto(&format!("{}/?election_id={}", app.address, r.election))
        .await
        .expect("open");
    let own = app
        .get(
            &format!("/reports/attendance?election_id={}", r.election),
            &organizer,
        )
        .await;
    assert_eq!(shown_figures(&c).await, figures_of(own.ok(200)));

    let theirs = app
        .get(
            &format!("/meetings?region_id={}&limit=50", r.c2),
            &app.admin,
        )
        .await;
    let theirs: Vec<Uuid> = theirs.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| uuid_of(&m["id"]))
        .collect();
    assert!(!theirs.is_empty(), "commune B has meetings");
    let source = c.source().await.expect("source");
    assert!(
        !source.contains("Cẩm Thạch"),
        "no commune B name on the overview"
    );
    for page in [
        format!("/meetings?view=week&election_id={}", r.election),
        format!("/reports?election_id={}", r.election),
    ] {
        c.goto(&format!("{}{page}", app.address))
            .await
            .expect("open");
        let source = c.source().await.expect("source");
        for id in &theirs {
            assert!(!source.contains(&id.to_string()), "{page} shows {id}");
        }
        assert!(!source.contains("Cẩm Thạch"), "{page} names commune B");
    }
    for id in &theirs {
        c.goto(&format!("{}/meetings/{id}", app.address))
            .await
            .expect("open");
        let code = c
            .find(Locator::Id("problem"))
            .await
            .expect("a refusal")
            .attr("data-code")
            .await
            .expect("code");
        assert_eq!(code.as_deref(), Some("forbidden"), "meeting {id}");
    }
    c.goto(&format!(
        "{}/?election_id={}&region_id={}",
        app.address, r.election, r.c2
    ))
    .await
    .expect("open");
    let code = c
        .find(Locator::Id("problem"))
        .await
        .expect("a refusal")
        .attr("data-code")
        .await
        .expect("code");
    assert_eq!(code.as_deref(), Some("forbidden"));
    c.close().await.expect("close");
}

#[tokio::test]
async fn two_phones_racing_at_one_door_stop_exactly_at_capacity() {
    let app = spawn_app().await;
    let capacity = 5;
    let meeting = meeting_now(&app, capacity).await;
    let organizer = app.token(Role::Organizer, Some(uuid_of(&meeting["region_id"])));
    let driver = Driver::start().await;
    let phones = [driver.browser(360).await, driver.browser(360).await];
    for p in &phones {
        sign_in(p, &app.address, &organizer).await;
        p.goto(&format!("{}{}", app.address, checkin_path(&meeting)))
            .await
            .expect("open the door page");
    }
    let tap = |p: &Client| {
        let p = p.clone();
        async move {
            let plus = p.find(Locator::Id("plus")).await.expect("+1");
            for _ in 0..capacity + 3 {
                plus.click().await.expect("tap");
            }
        }
    };
    futures::future::join(tap(&phones[0]), tap(&phones[1])).await;
    for p in &phones {
        eventually("every tap is answered", || async {
            match waiting(p).await {
                0 => Ok(()),
                n => Err(n),
            }
        })
        .await;
    }
    assert_eq!(present_of(&app, &meeting).await, i64::from(capacity));
    for p in &phones {
        eventually("the page says full", || async {
            let full = p.find(Locator::Id("full")).await.expect("full");
            if full.is_displayed().await.expect("shown") {
                Ok(())
            } else {
                Err(text(p, "#present").await)
            }
        })
        .await;
    }
    let refusal = text(&phones[0], "#refusal").await + &text(&phones[1], "#refusal").await;
    assert!(refusal.contains("capacity_reached"), "{refusal:?}");
    for p in phones {
        p.close().await.expect("close");
    }
}

#[tokio::test]
async fn a_tap_made_while_the_server_is_unreachable_counts_once_when_it_returns() {
    let app = spawn_app().await;
    let meeting = meeting_now(&app, 50).await;
    let relay = Relay::start(
        app.address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port"),
    )
    .await;
    let driver = Driver::start().await;
    let c = driver.browser(360).await;
    sign_in(&c, &relay.address, &app.admin).await;
    c.goto(&format!("{}{}", relay.address, checkin_path(&meeting)))
        .await
        .expect("open the door page");

    relay.set(Network::Down);
    click(&c, Locator::Id("plus"), "+1").await;
    eventually("the page says it is offline", || async {
        let class = c
            .find(Locator::Id("net"))
            .await
            .expect("status")
            .attr("class")
            .await
            .expect("class")
            .unwrap_or_default();
        if class.contains("offline") {
            Ok(())
        } else {
            Err(class)
        }
    })
    .await;
    assert_eq!(waiting(&c).await, 1, "the tap waits in the queue");
    assert!(text(&c, "#queued").await.starts_with('1'));
    assert_eq!(present_of(&app, &meeting).await, 0);

    // The request now reaches the server but its answer is lost: the page sends it again
    // with the same Idempotency-Key, and the server answers without counting again.
    relay.set(Network::LosesAnswers);
    eventually("the server counted the tap", || async {
        match present_of(&app, &meeting).await {
            1 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(waiting(&c).await, 1, "no answer came back yet");
    relay.set(Network::Up);
    eventually("the queue empties", || async {
        match waiting(&c).await {
            0 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    assert_eq!(present_of(&app, &meeting).await, 1, "counted once");
    assert_eq!(text(&c, "#present").await, "1");
    c.close().await.expect("close");
}

#[tokio::test]
async fn the_console_speaks_vietnamese_until_one_switches_to_english() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    let lang = js(&c, "return document.documentElement.lang;").await;
    assert_eq!(lang, json!("vi"));
    assert!(text(&c, "header").await.contains("Tổng quan"));
    click(&c, Locator::Id("lang-switch"), "switch").await;
    appears(&c, Locator::Css("html[lang=en]"), "English").await;
    assert!(text(&c, "header").await.contains("Overview"));
    c.goto(&format!("{}/meetings", app.address))
        .await
        .expect("open");
    assert_eq!(
        js(&c, "return document.documentElement.lang;").await,
        json!("en"),
        "the choice is kept"
    );
    assert!(text(&c, "h1").await.contains("Agenda"));
    c.close().await.expect("close");
}

#[tokio::test]
async fn every_page_has_a_strict_policy_and_loads_nothing_from_outside() {
    let app = spawn_app().await;
    let meeting = meeting_now(&app, 20).await;
    let page = app
        .client
        .get(format!("{}/sign-in", app.address))
        .send()
        .await
        .expect("sent");
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"), "{csp:?}");
    let driver = Driver::start().await;
    let c = driver.browser(360).await;
    sign_in(&c, &app.address, &app.admin).await;
    let id = meeting["id"].as_str().expect("id");
    for path in [
        "/".to_owned(),
        "/meetings?view=week".to_owned(),
        format!("/meetings/{id}"),
        checkin_path(&meeting),
        format!("/meetings/{id}/report"),
        "/meetings/new".to_owned(),
        "/reports".to_owned(),
        "/admin/health-rules".to_owned(),
        "/admin/venues".to_owned(),
        "/admin/candidates".to_owned(),
        "/admin/tokens".to_owned(),
    ] {
        c.goto(&format!("{}{path}", app.address))
            .await
            .expect("open");
        let loaded = js(
            &c,
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; });",
        )
        .await;
        for url in loaded.as_array().expect("entries") {
            let url = url.as_str().unwrap_or_default();
            assert!(url.starts_with(&app.address), "{path} loaded {url}");
        }
        let weight = js(
            &c,
            "var n = performance.getEntriesByType('navigation')[0].encodedBodySize; \
             performance.getEntriesByType('resource').forEach(function (e) { n += e.encodedBodySize; }); \
             return n;",
        )
        .await;
        assert!(
            weight.as_i64().is_some_and(|n| n < 300_000),
            "{path} weighs {weight}"
        );
        let wide = js(&c, "return document.documentElement.scrollWidth;").await;
        assert!(
            wide.as_i64().is_some_and(|w| w <= 360),
            "{path} is {wide} px wide on a 360 px screen"
        );
        let scripts = js(
            &c,
            "return Array.prototype.filter.call(document.scripts, function (s) { return !s.src; }).length;",
        )
        .await;
        assert_eq!(scripts, json!(0), "{path} has inline scripts");
        let csp = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("sent");
        assert!(
            csp.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    c.close().await.expect("close");
}

/// Sets a form field the way a person's typing would, for inputs whose typing depends on
/// the browser's locale (dates).
async fn set_value(c: &Client, id: &str, value: &str) {
    c.execute(
        "var e = document.getElementById(arguments[0]); e.value = arguments[1]; \
         e.dispatchEvent(new Event('input', {bubbles: true}));",
        vec![json!(id), json!(value)],
    )
    .await
    .expect("set");
}

#[tokio::test]
async fn planning_a_clashing_meeting_shows_the_refusal_next_to_its_field() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let end = start + chrono::Duration::hours(2);
    let first = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(s.hall, &start.to_rfc3339(), &end.to_rfc3339(), 20),
        )
        .await;
    let first = uuid_of(&first.ok(201)["id"]);
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    c.goto(&format!("{}/meetings/new", app.address))
        .await
        .expect("open");
    c.find(Locator::Id("electoral_unit_id"))
        .await
        .expect("unit")
        .select_by_value(&s.unit.to_string())
        .await
        .expect("choose the unit");
    c.find(Locator::Id("venue_id"))
        .await
        .expect("venue")
        .select_by_value(&s.hall.to_string())
        .await
        .expect("choose the venue");
    set_value(&c, "starts_at", &local(start)).await;
    set_value(&c, "ends_at", &local(end)).await;
    type_into(&c, Locator::Id("expected_attendees"), "30", "expected").await;
    eventually("the form shows the effective capacity", || async {
        let t = text(&c, "#live-capacity").await;
        if t.contains("100") {
            Ok(())
        } else {
            Err(t)
        }
    })
    .await;
    click(&c, Locator::Id("save"), "save").await;
    let clash = c
        .wait()
        .for_element(Locator::Css("p.error a.clash"))
        .await
        .expect("the refusal names the clashing meeting");
    assert_eq!(
        clash.attr("href").await.expect("href"),
        Some(format!("/meetings/{first}"))
    );
    let message = c
        .find(Locator::Css("p.error"))
        .await
        .expect("message")
        .text()
        .await
        .expect("text");
    assert!(
        message.contains("candidate_conflict") || message.contains("venue_conflict"),
        "{message}"
    );

    // Outside the campaign window: the refusal sits by the start time.
    set_value(&c, "starts_at", "2040-01-01T08:00").await;
    set_value(&c, "ends_at", "2040-01-01T10:00").await;
    click(&c, Locator::Id("save"), "save").await;
    let error = c
        .wait()
        .for_element(Locator::Id("error-starts_at"))
        .await
        .expect("a refusal by the start time");
    assert!(error
        .text()
        .await
        .expect("text")
        .contains("outside_campaign_window"));
    let meetings = app
        .get(&format!("/meetings?election_id={election}"), &app.admin)
        .await;
    assert_eq!(meetings.ok(200)["items"].as_array().map(Vec::len), Some(1));
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_report_is_filed_and_corrected_with_its_sums_checked_as_one_types() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let meeting = app.meeting_from_now(&s, s.hall, -180, -60, 40).await;
    let id = meeting["id"].as_str().expect("id");
    let site = meeting["sites"][0]["id"].as_str().expect("site");
    let driver = Driver::start().await;
    let c = driver.browser(360).await;
    sign_in(&c, &app.address, &app.admin).await;
    c.goto(&format!("{}/meetings/{id}/report", app.address))
        .await
        .expect("open");
    let total = c.find(Locator::Id("attendees")).await.expect("total");
    total.send_keys("35").await.expect("type");
    let part = c
        .find(Locator::Id(&format!("site_{site}")))
        .await
        .expect("site");
    part.send_keys("30").await.expect("type");
    assert_eq!(
        c.find(Locator::Id("sums"))
            .await
            .expect("sums")
            .attr("class")
            .await
            .expect("class"),
        Some("error".to_owned()),
        "30 of 35 does not add up"
    );
    click(&c, Locator::Id("save"), "save").await;
    appears(
        &c,
        Locator::Css("p.error, p.notice"),
        "the server refuses too",
    )
    .await;
    assert_eq!(
        app.get(&format!("/meetings/{id}/attendance-report"), &app.admin)
            .await
            .status,
        404
    );
    let part = c
        .find(Locator::Id(&format!("site_{site}")))
        .await
        .expect("site");
    part.clear().await.expect("clear");
    part.send_keys("35").await.expect("type");
    assert_eq!(
        c.find(Locator::Id("sums"))
            .await
            .expect("sums")
            .attr("class")
            .await
            .expect("class"),
        Some("ok".to_owned())
    );
    click(&c, Locator::Id("save"), "save").await;
    appears(&c, Locator::Id("report"), "the meeting shows its report").await;
    assert!(text(&c, "#report").await.contains("35"));

    // A correction needs its reason.
    c.goto(&format!("{}/meetings/{id}/report", app.address))
        .await
        .expect("open");
    for field in ["attendees".to_owned(), format!("site_{site}")] {
        let f = c.find(Locator::Id(&field)).await.expect("field");
        f.clear().await.expect("clear");
        f.send_keys("33").await.expect("type");
    }
    click(&c, Locator::Id("save"), "save").await;
    appears(
        &c,
        Locator::Id("error-correction_reason"),
        "the refusal sits by the reason",
    )
    .await;
    type_into(
        &c,
        Locator::Id("correction_reason"),
        "Đếm lại danh sách",
        "reason",
    )
    .await;
    click(&c, Locator::Id("save"), "save").await;
    appears(&c, Locator::Id("report"), "the corrected report").await;
    let report = app
        .get(&format!("/meetings/{id}/attendance-report"), &app.admin)
        .await;
    let report = report.ok(200);
    assert_eq!(report["current"]["attendees"], json!(33));
    assert_eq!(report["current"]["revision"], json!(2));
    c.close().await.expect("close");
}

#[tokio::test]
async fn screenshots_of_the_overview_and_the_door_at_360_px() {
    let (app, r) = Reports::spawn().await;
    let meeting = app
        .get(
            &format!("/meetings?election_id={}&status=planned", r.election),
            &app.admin,
        )
        .await;
    let planned = meeting.ok(200)["items"][0].clone();
    let driver = Driver::start().await;
    let c = driver.browser(360).await;
    sign_in(&c, &app.address, &app.admin).await;
    // Screenshots go to docs/ when asked (CONSOLE_SCREENSHOTS=1), else to a scratch folder.
    let dir = if std::env::var_os("CONSOLE_SCREENSHOTS").is_some() {
        std::path::PathBuf::from("docs")
    } else {
        std::env::temp_dir().join(format!("vm-shots-{}", Uuid::new_v4()))
    };
    std::fs::create_dir_all(&dir).expect("folder");
    for (path, name) in [
        (
            format!("/?election_id={}", r.election),
            "console-overview.png",
        ),
        (checkin_path(&planned), "console-checkin.png"),
    ] {
        c.goto(&format!("{}{path}", app.address))
            .await
            .expect("open");
        let png = c.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        std::fs::write(dir.join(name), png).expect("write");
    }
    c.close().await.expect("close");
}

/// The sign-in form's cross-site token and its pre-session cookie, as a browser gets them.
async fn sign_in_form(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    let page = client
        .get(format!("{}/sign-in", app.address))
        .send()
        .await
        .expect("sent");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("vm_presession="))
        .and_then(|c| c.split(';').next())
        .expect("a pre-session cookie")
        .to_owned();
    let body = page.text().await.expect("body");
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_request_came_over_tls() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (proto, secure) in [(None, false), (Some("https"), true)] {
        let (cookie, csrf) = sign_in_form(&app, &client).await;
        let mut post = client
            .post(format!("{}/sign-in", app.address))
            .header("Cookie", cookie)
            .form(&[("token", app.admin.as_str()), ("csrf", csrf.as_str())]);
        if let Some(p) = proto {
            post = post.header("X-Forwarded-Proto", p);
        }
        let answer = post.send().await.expect("sent");
        assert_eq!(answer.status().as_u16(), 303);
        let session = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("vm_session="))
            .expect("a session cookie")
            .to_owned();
        assert!(session.contains("HttpOnly"), "{session}");
        assert!(session.contains("SameSite=Strict"), "{session}");
        assert_eq!(session.contains("Secure"), secure, "{proto:?}: {session}");
    }
    // A sign-in form posted from another site is refused, whatever the token.
    let (cookie, csrf) = sign_in_form(&app, &client).await;
    let forged = client
        .post(format!("{}/sign-in", app.address))
        .header("Cookie", cookie)
        .header("Origin", "https://attacker.example")
        .form(&[("token", app.admin.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("sent");
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM console_sessions"), 2);
}

/// Presses these keys, one after the other, wherever the focus is.
async fn press(c: &Client, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".to_owned());
    for k in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
    }
    c.perform_actions(actions).await.expect("keys");
}

async fn focused(c: &Client) -> String {
    js(
        c,
        "return document.activeElement.id || document.activeElement.tagName;",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Tabs forward until the field `id` has the focus.
async fn tab_to(c: &Client, id: &str) {
    let tab = fantoccini::key::Key::Tab.to_string();
    for _ in 0..40 {
        if focused(c).await == id {
            return;
        }
        press(c, &tab).await;
    }
    panic!(
        "{id} is not reachable with Tab (focus is on {})",
        focused(c).await
    );
}

#[tokio::test]
async fn the_plan_form_works_with_the_keyboard_alone() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    c.goto(&format!("{}/meetings/new", app.address))
        .await
        .expect("open");
    let down = fantoccini::key::Key::Down.to_string();
    tab_to(&c, "electoral_unit_id").await;
    press(&c, &down).await;
    tab_to(&c, "title").await;
    press(&c, "Hop dan thon Dong").await;
    tab_to(&c, "venue_id").await;
    press(&c, &down).await;
    tab_to(&c, "expected_attendees").await;
    press(&c, "500").await;
    press(&c, &fantoccini::key::Key::Enter.to_string()).await;
    let error = c
        .wait()
        .for_element(Locator::Id("error-starts_at"))
        .await
        .expect("the missing start time is named by its field");
    assert!(!error.text().await.expect("text").is_empty());
    let kept = js(
        &c,
        "return [document.getElementById('electoral_unit_id').value, \
                 document.getElementById('venue_id').value, \
                 document.getElementById('title').value, \
                 document.getElementById('expected_attendees').value];",
    )
    .await;
    assert_eq!(
        kept,
        json!([s.unit, s.hall, "Hop dan thon Dong", "500"]),
        "what was typed stays in the form"
    );
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_admin_makes_and_revokes_a_token_and_a_bad_venue_is_refused_by_its_field() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    c.goto(&format!("{}/admin/tokens", app.address))
        .await
        .expect("open");
    c.find(Locator::Id("region_id"))
        .await
        .expect("region")
        .select_by_value(&tree.commune.to_string())
        .await
        .expect("choose");
    type_into(&c, Locator::Id("name"), "Tổ điểm danh xã Kỳ Đồng", "name").await;
    click(&c, Locator::Id("create"), "save").await;
    let secret = text(&c, "#new-secret code").await;
    let me = app.get("/me", &secret).await;
    assert_eq!(me.ok(200)["role"], json!("organizer"));
    assert_eq!(me.ok(200)["region_id"], json!(tree.commune));
    c.goto(&format!("{}/admin/tokens", app.address))
        .await
        .expect("open");
    assert!(
        !c.source().await.expect("source").contains(&secret),
        "the secret is shown once"
    );
    let row = c
        .find(Locator::XPath(
            "//tr[td[contains(., 'Tổ điểm danh xã Kỳ Đồng')]]//button",
        ))
        .await
        .expect("a revoke button on the token's row");
    row.click().await.expect("revoke");
    eventually("the revoked token is refused", || async {
        match app.get("/me", &secret).await.status.as_u16() {
            401 => Ok(()),
            other => Err(other),
        }
    })
    .await;

    c.goto(&format!("{}/admin/venues", app.address))
        .await
        .expect("open");
    c.find(Locator::Id("region_id"))
        .await
        .expect("region")
        .select_by_value(&tree.commune.to_string())
        .await
        .expect("choose");
    for (field, value) in [
        ("name", "Sân vận động xã"),
        ("address", "Thôn Tây"),
        ("capacity", "0"),
    ] {
        type_into(&c, Locator::Id(field), value, "field").await;
    }
    click(&c, Locator::Id("create"), "save").await;
    let error = c
        .wait()
        .for_element(Locator::Id("error-capacity"))
        .await
        .expect("the refusal sits by the capacity");
    assert!(!error.text().await.expect("text").is_empty());
    let venues = app.get("/venues", &app.admin).await;
    assert_eq!(venues.ok(200)["items"].as_array().map(Vec::len), Some(0));
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_meeting_page_shows_its_sites_rules_and_counters_as_the_doors_count() {
    let app = spawn_app().await;
    let meeting = meeting_now(&app, 40).await;
    let id = meeting["id"].as_str().expect("id");
    let site = meeting["sites"][0]["id"].as_str().expect("site");
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    c.goto(&format!("{}/meetings/{id}", app.address))
        .await
        .expect("open");
    let sites = text(&c, "#sites").await;
    assert!(sites.contains("Nhà văn hóa thôn Bắc"), "{sites}");
    assert!(sites.contains("40"), "effective capacity: {sites}");
    assert_eq!(text(&c, &format!("[data-present='{site}']")).await, "0");
    app.check_in(&meeting, 3).await.ok(200);
    eventually("the page follows the doors", || async {
        match text(&c, &format!("[data-present='{site}']")).await.as_str() {
            "3" => Ok(()),
            other => Err(other.to_owned()),
        }
    })
    .await;
    assert_eq!(text(&c, &format!("[data-admitted='{site}']")).await, "3");
    c.close().await.expect("close");
}

#[tokio::test]
async fn the_agenda_finds_meetings_without_their_accents() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let found = app.meeting_from_now(&s, s.hall, 24 * 60, 25 * 60, 20).await;
    let north = app
        .venue(s.tree.commune, "Nhà văn hóa thôn Bắc", 80, None, "indoor")
        .await;
    let mut other = s.in_person(
        north,
        &crate::helpers::from_now(28 * 60),
        &crate::helpers::from_now(29 * 60),
        20,
    );
    other["title"] = json!("Hội nghị thôn Bắc");
    let other = app.post("/meetings", &app.admin, other).await;
    let other = uuid_of(&other.ok(201)["id"]);
    let day = |m: &Value| {
        m["local"]["starts_at"]
            .as_str()
            .or(m["starts_at"].as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .expect("a start")
    };
    let driver = Driver::start().await;
    let c = driver.browser(1280).await;
    sign_in(&c, &app.address, &app.admin).await;
    let date = day(&found);
    c.goto(&format!(
        "{}/meetings?election_id={election}&view=week&date={date}",
        app.address
    ))
    .await
    .expect("open");
    let search = c.find(Locator::Id("q")).await.expect("search");
    search.send_keys("ky dong").await.expect("type");
    click(&c, Locator::Css("#filters button[type=submit]"), "apply").await;
    c.wait()
        .for_element(Locator::Css(&format!(
            "a[href='/meetings/{}']",
            found["id"].as_str().expect("id")
        )))
        .await
        .expect("Kỳ Đồng found by ky dong");
    let source = c.source().await.expect("source");
    assert!(
        !source.contains(&other.to_string()),
        "the other meeting is not"
    );
    c.goto(&format!(
        "{}/meetings?election_id={election}&view=day&date={}",
        app.address,
        day(&app
            .get(&format!("/meetings/{other}"), &app.admin)
            .await
            .ok(200)
            .clone())
    ))
    .await
    .expect("open");
    c.find(Locator::Css(&format!("a[href='/meetings/{other}']")))
        .await
        .expect("without a search, the day shows it");
    c.close().await.expect("close");
}

#[tokio::test]
async fn cancelling_is_refused_by_its_reason_field_and_done_with_an_audit_entry() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let ended = app.meeting_from_now(&s, s.hall, -180, -60, 40).await;
    let ended_id = ended["id"].as_str().expect("id");
    let organizer = app.token(Role::Organizer, Some(s.tree.commune));
    let driver = Driver::start().await;
    let c = driver.browser(360).await;
    sign_in(&c, &app.address, &organizer).await;
    c.goto(&format!("{}/meetings/{ended_id}", app.address))
        .await
        .expect("open");
    let reason = c.find(Locator::Id("reason")).await.expect("reason");
    reason.send_keys("Mưa bão").await.expect("type");
    click(&c, Locator::Css("form[action$='/cancel'] button"), "cancel").await;
    let error = c
        .wait()
        .for_element(Locator::Id("error-reason"))
        .await
        .expect("the refusal sits by the reason");
    assert!(error.text().await.expect("text").contains("meeting_ended"));
    let still = app.get(&format!("/meetings/{ended_id}"), &app.admin).await;
    assert_eq!(still.ok(200)["status"], json!("planned"));

    let planned = app.meeting_from_now(&s, s.hall, 24 * 60, 25 * 60, 40).await;
    let planned_id = planned["id"].as_str().expect("id");
    c.goto(&format!("{}/meetings/{planned_id}", app.address))
        .await
        .expect("open");
    click(&c, Locator::Css("form[action$='/cancel'] button"), "cancel").await;
    appears(
        &c,
        Locator::Id("error-reason"),
        "an empty reason is refused by its field",
    )
    .await;
    type_into(
        &c,
        Locator::Id("reason"),
        "Trùng lịch tiếp công dân",
        "reason",
    )
    .await;
    click(&c, Locator::Css("form[action$='/cancel'] button"), "cancel").await;
    eventually("the meeting is cancelled", || async {
        let m = app
            .get(&format!("/meetings/{planned_id}"), &app.admin)
            .await;
        match m.ok(200)["status"].as_str() {
            Some("cancelled") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let audit = app
        .get(&format!("/audit?entity_id={planned_id}"), &app.admin)
        .await;
    let actions: Vec<String> = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    assert!(actions.iter().any(|a| a == "cancel"), "{actions:?}");
    let by: Vec<&Value> = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == json!("cancel"))
        .collect();
    assert_eq!(
        by[0]["actor_name"],
        json!("test token"),
        "the session's token acted"
    );
    c.close().await.expect("close");
}
