//! No one token starves the others (SPEC §4): a request budget per token, a time limit on
//! every statement, long reads on connections of their own; idempotency answers kept 24 hours
//! and no longer; the budget's settings checked as they load.
use diesel::{PgConnection, RunQueryDsl};
use futures::future::join_all;
use reqwest::Method;
use uuid::Uuid;

use crate::helpers::app::load_settings;
use crate::helpers::{eventually, spawn_app, spawn_app_with, Role, TestApp};

async fn me(app: &TestApp, token: &str) -> crate::helpers::Answer {
    app.get("/me", token).await
}

#[actix_web::test]
async fn a_token_past_its_burst_gets_429_with_retry_after_and_the_others_go_on() {
    let app = spawn_app_with(|s| {
        s.rate_limit.burst = 5;
        s.rate_limit.requests_per_second = 0.01;
    })
    .await;
    let flooding = app.token(Role::Observer, None);
    let answers = join_all((0..20).map(|_| me(&app, &flooding))).await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 5);
    for refused in answers.iter().filter(|a| a.status != 200) {
        refused.problem(429, "rate_limited");
        let wait: u64 = refused.headers["retry-after"]
            .to_str()
            .expect("text")
            .parse()
            .expect("seconds");
        // One request comes back at 0.01 a second: within 100 s.
        assert!((1..=100).contains(&wait), "Retry-After {wait}");
    }
    // /metrics spends the same budget.
    app.request(Method::GET, "/metrics", Some(&flooding), None, &[])
        .await
        .problem(429, "rate_limited");
    // Another token has its own budget; no token at all is still 401 first.
    me(&app, &app.admin).await.ok(200);
    app.request(Method::GET, "/me", None, None, &[])
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_statement_past_the_time_limit_is_cut_with_a_503_timeout() {
    let app = spawn_app_with(|s| s.database_statement_timeout_ms = 300).await;
    app.get("/regions", &app.admin).await.ok(200);
    let mut holder = app.conn();
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .expect("begin");
    diesel::sql_query("LOCK TABLE regions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .expect("lock");
    // The request's statement waits on the lock until its time limit cuts it.
    let answer = app.get("/regions", &app.admin).await;
    diesel::sql_query("ROLLBACK")
        .execute(&mut holder)
        .expect("rollback");
    answer.problem(503, "timeout");
    assert!(answer.headers.contains_key("retry-after"));
    app.get("/regions", &app.admin).await.ok(200);
}

/// Backends of the app waiting on a lock.
fn waiting_on_locks(app: &TestApp) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
        app.db_name
    ))
}

#[actix_web::test]
async fn reports_and_big_pages_stuck_on_their_pool_leave_check_ins_their_connections() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, -10, 120, 90).await;
    app.check_in(&m, 1).await.ok(200);
    let report = format!("/reports/attendance?election_id={election}");
    app.get(&report, &app.admin).await.ok(200);

    // Reports read the elections table; check-ins never do. While it is locked, more reports
    // than the reports pool holds wait, and check-ins still answer at once.
    let mut holder: PgConnection = app.conn();
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .expect("begin");
    diesel::sql_query("LOCK TABLE elections IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .expect("lock");
    let reports = join_all((0..8).map(|_| app.get(&report, &app.admin)));
    let door = async {
        let pool = i64::from(app.settings.database_reports_pool_size);
        eventually("the reports pool waits on the lock", || async {
            let n = waiting_on_locks(&app);
            if n >= pool {
                Ok(())
            } else {
                Err(n)
            }
        })
        .await;
        // A big page is a long read too: it queues behind the reports, small pages do not.
        let big_page_answered = std::cell::Cell::new(false);
        let big_page = async {
            let answer = app.get("/regions?limit=500", &app.admin).await;
            big_page_answered.set(true);
            answer
        };
        let others = async {
            let mut statuses = Vec::new();
            for _ in 0..5 {
                statuses.push(app.check_in(&m, 1).await.status.as_u16());
            }
            statuses.push(
                app.get("/regions?limit=50", &app.admin)
                    .await
                    .status
                    .as_u16(),
            );
            let still_waiting = waiting_on_locks(&app);
            let big_page_waited = !big_page_answered.get();
            diesel::sql_query("ROLLBACK")
                .execute(&mut holder)
                .expect("rollback");
            (statuses, still_waiting, big_page_waited)
        };
        let (big_page, (statuses, still_waiting, big_page_waited)) =
            futures::join!(big_page, others);
        assert!(
            big_page_waited,
            "a 500-row page took a connection of the main pool"
        );
        if big_page.status != 200 {
            big_page.problem(503, "unavailable");
        }
        (statuses, still_waiting)
    };
    let (reports, (statuses, still_waiting)) = futures::join!(reports, door);
    assert_eq!(
        statuses,
        vec![200; 6],
        "check-ins and a small page while reports wait"
    );
    assert!(
        still_waiting >= 1,
        "the reports were still waiting when the check-ins answered"
    );
    assert_eq!(
        app.get(
            &format!("/meetings/{}", m["id"].as_str().expect("id")),
            &app.admin
        )
        .await
        .ok(200)["sites"][0]["present"],
        6
    );
    // Reports that waited for a pooled connection longer than the pool's wait are 503s;
    // none failed otherwise.
    for answer in &reports {
        if answer.status != 200 {
            answer.problem(503, "unavailable");
        }
    }
    assert!(reports.iter().any(|a| a.status == 200));
}

/// A stored idempotency answer of the admin token, made `hours` ago.
fn stored_answer(app: &TestApp, key: &str, hours: i64) {
    diesel::sql_query(format!(
        "INSERT INTO idempotency_keys (token_id, key, request_hash, status, response, created_at)
         SELECT id, '{key}', '\\x00', 201, 'null', now() - interval '{hours} hours'
           FROM api_tokens WHERE role = 'admin' LIMIT 1"
    ))
    .execute(&mut app.conn())
    .expect("an idempotency answer stored");
}

#[actix_web::test]
async fn idempotency_answers_older_than_a_day_are_swept() {
    let app = spawn_app().await;
    stored_answer(&app, "old", 25);
    stored_answer(&app, "recent", 23);
    // An instance sweeps when it starts, then every quarter of an hour.
    app.start_instance(|_| {});
    eventually("the day-old answer is swept", || async {
        match app.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'old'") {
            0 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'recent'"),
        1
    );
}

#[actix_web::test]
async fn budgets_and_proxies_are_checked_as_settings_load() {
    let dir = std::env::temp_dir().join(format!("tests-budgets-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("config dir");
    let load = |name: &str, text: &str| {
        std::fs::write(dir.join(format!("{name}.toml")), text).expect("a settings file");
        load_settings(dir.to_str().expect("utf-8"), Some(name))
    };
    let no_burst = load("a", "[rate_limit]\nburst = 0\n");
    let no_rate = load("b", "[rate_limit]\nrequests_per_second = 0\n");
    let negative = load("c", "[rate_limit]\nrequests_per_second = -5\n");
    let bad_proxy = load("d", "[http]\ntrusted_proxies = [\"proxy.local\"]\n");
    let good = load(
        "e",
        "[rate_limit]\nrequests_per_second = 2.5\nburst = 10\n[http]\ntrusted_proxies = [\"10.0.0.2\", \"::1\"]\n",
    );
    std::fs::remove_dir_all(&dir).expect("remove the config dir");
    let message = |r: anyhow::Result<crate::helpers::Settings>| match r {
        Ok(_) => panic!("accepted"),
        Err(e) => format!("{e:#}"),
    };
    assert!(message(no_burst).contains("rate_limit.burst"));
    assert!(message(no_rate).contains("rate_limit.requests_per_second"));
    assert!(message(negative).contains("RATE_LIMIT__REQUESTS_PER_SECOND"));
    assert!(message(bad_proxy).contains("trusted_proxies"));
    let good = good.expect("loads");
    assert_eq!(good.rate_limit.burst, 10);
    assert_eq!(good.http.trusted_proxies.len(), 2);
    // Proxies are trusted only when named.
    let defaults = crate::helpers::app::default_settings();
    assert!(defaults.http.trusted_proxies.is_empty());
}
