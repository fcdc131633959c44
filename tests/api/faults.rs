//! SPEC §7 Faults and issue 9.5: a pooled connection that died is replaced without failing
//! the request that found it; once a restarted database accepts connections, no request fails.
use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use futures::future::join_all;
use serde_json::json;

use crate::cli::{binary, free_port, PrivateCluster, Running};
use crate::helpers::{spawn_app, TestApp};

/// Cuts every connection the app holds to its database, as an idle-connection killer or a
/// failover does.
fn kill_backends(app: &TestApp) -> usize {
    #[derive(diesel::QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let killed: Killed = diesel::sql_query(format!(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        app.db_name
    ))
    .get_result(&mut app.conn())
    .expect("terminate");
    usize::try_from(killed.n).expect("a count")
}

#[actix_web::test]
async fn requests_that_find_their_pooled_connection_killed_all_succeed() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let tree = app.tree().await;
    let report = format!("/reports/attendance?election_id={election}");
    for round in 0..3 {
        app.warm_pool().await;
        join_all((0..4).map(|_| app.get(&report, &app.admin))).await;
        let killed = kill_backends(&app);
        assert!(killed > 0, "round {round}: no connection to kill");
        // Reads, writes and long reads, one after another and all at once.
        let mut answers = Vec::new();
        for i in 0..6 {
            answers.push(app.get("/regions", &app.admin).await);
            answers.push(app.get(&report, &app.admin).await);
            answers.push(
                app.post(
                    "/regions",
                    &app.admin,
                    json!({"name": format!("Xã {round}-{i}"), "level": "commune", "parent_id": tree.district}),
                )
                .await,
            );
        }
        kill_backends(&app);
        let together = join_all((0..12).map(|i| {
            let path = if i % 2 == 0 {
                "/regions".to_owned()
            } else {
                report.clone()
            };
            let app = &app;
            async move { app.get(&path, &app.admin).await }
        }))
        .await;
        answers.extend(together);
        let failed: Vec<String> = answers
            .iter()
            .filter(|a| !a.status.is_success())
            .map(|a| format!("{} {}", a.status, a.text))
            .collect();
        assert!(
            failed.is_empty(),
            "round {round}, {killed} killed: {failed:#?}"
        );
    }
}

/// `voter-meetings serve` on a private cluster the test restarts: 503 only while it is down,
/// and once it accepts connections again no request fails.
#[actix_web::test]
async fn once_a_restarted_database_is_up_no_request_fails() {
    let cluster = PrivateCluster::create();
    cluster.pg_ctl("start");
    let listen = free_port();
    let url = cluster.url("vm_faults");
    let migrated = binary()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .output()
        .expect("migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let token = binary()
        .args(["token", "create", "--role", "admin", "--name", "faults"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .output()
        .expect("token");
    let token = String::from_utf8(token.stdout)
        .expect("utf-8")
        .lines()
        .last()
        .expect("a token")
        .trim()
        .to_owned();
    let _service = Running(
        binary()
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{listen}"))
            .env("MAIL_DIR", cluster.dir.join("mail"))
            .env("DATABASE_POOL_SIZE", "4")
            .env("DATABASE_REPORTS_POOL_SIZE", "2")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let base = format!("http://127.0.0.1:{listen}");
    let get = |path: String| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            match client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
            {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (status, r.text().await.unwrap_or_default())
                }
                Err(e) => (0, e.to_string()),
            }
        }
    };
    let started = Instant::now();
    while get("/readyz".to_owned()).await.0 != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the service never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let paths = [
        "/api/v1/regions",
        "/api/v1/me",
        "/api/v1/elections",
        "/api/v1/venues",
    ];
    for restart in 0..2 {
        // Every pooled connection is open and idle when the server goes.
        join_all((0..12).map(|i| get(paths[i % paths.len()].to_owned()))).await;
        cluster.pg_ctl("restart");
        let answers = join_all((0..24).map(|i| get(paths[i % paths.len()].to_owned()))).await;
        let failed: Vec<&(u16, String)> = answers.iter().filter(|(s, _)| *s != 200).collect();
        assert!(failed.is_empty(), "restart {restart}: {failed:#?}");
    }
}
