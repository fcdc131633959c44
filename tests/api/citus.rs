//! SPEC §8 on a Citus cluster: `citus distribute`, and the concurrency rules holding while
//! requests enter by every node. The suite runs on plain PostgreSQL by default (one node,
//! where `distribute` refuses) and on a cluster with `TEST_CITUS_WORKERS` (`.ci/citus`).
use futures::future::join_all;
use serde_json::{json, Value};

use crate::cli::binary;
use crate::helpers::database::{citus_workers, on_citus};
use crate::helpers::{spawn_app, TestApp};

/// `voter-meetings citus distribute` on the test database: its exit status and output.
fn distribute(app: &TestApp) -> (bool, String) {
    let out = binary()
        .args(["citus", "distribute"])
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[actix_web::test]
async fn distribute_refuses_plain_postgresql_and_on_a_cluster_runs_again_without_change() {
    let app = spawn_app().await;
    let (ok, said) = distribute(&app);
    if !on_citus() {
        assert!(!ok, "{said}");
        assert!(
            said.contains("plain PostgreSQL, not a Citus coordinator"),
            "{said}"
        );
        return;
    }
    // The test template was distributed when it was built: a second run finds it all done.
    assert!(ok, "{said}");
    assert!(said.contains("already distributed"), "{said}");
    let groups = app.count(
        "SELECT count(DISTINCT colocationid) AS n FROM pg_dist_partition WHERE partmethod = 'h'",
    );
    let sharded = app.count("SELECT count(*) AS n FROM pg_dist_partition WHERE partmethod = 'h'");
    let reference = app.count("SELECT count(*) AS n FROM pg_dist_partition WHERE partmethod = 'n'");
    assert_eq!((groups, sharded, reference), (1, 14, 7));
    let by_province = app.count(
        "SELECT count(*) AS n FROM pg_dist_partition
          WHERE partmethod = 'h' AND column_to_column_name(logicalrelid, partkey) = 'province_id'",
    );
    assert_eq!(by_province, 14);
    let delegated = app.count(
        "SELECT count(*) AS n FROM pg_dist_object
          WHERE distribution_argument_index IS NOT NULL",
    );
    assert_eq!(delegated, 2);
}

/// One instance of the service per node of the cluster (the coordinator's is `app` itself),
/// each with its own pool: on a single server, one more instance on it.
fn instances(app: &TestApp) -> Vec<String> {
    let name = app
        .database_url
        .rsplit('/')
        .next()
        .and_then(|n| n.split('?').next())
        .expect("a database name")
        .to_owned();
    let mut urls: Vec<String> = citus_workers()
        .into_iter()
        .map(|w| format!("{w}/{name}?sslmode=disable"))
        .collect();
    if urls.is_empty() {
        urls.push(app.database_url.clone());
    }
    let mut out = vec![app.address.clone()];
    for url in urls {
        out.push(app.start_instance(|s| s.database_url = url.into()));
    }
    out
}

async fn post(app: &TestApp, instance: &str, path: &str, body: Value) -> (u16, Value) {
    let answer = app
        .client
        .post(format!("{instance}/api/v1{path}"))
        .bearer_auth(&app.admin)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn check_ins_entering_by_every_node_fill_a_room_exactly() {
    let app = spawn_app().await;
    let nodes = instances(&app);
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let room = app
        .venue(s.tree.commune, "Hội trường 50 chỗ", 50, None, "indoor")
        .await;
    let m = app.meeting_from_now(&s, room, -10, 120, 50).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let site = m["sites"][0]["id"].clone();

    // Rule 6: 120 arrivals at once, spread over the nodes, into 50 seats.
    let path = format!("/meetings/{id}/checkins");
    let arrivals = join_all((0..120).map(|i| {
        post(
            &app,
            &nodes[i % nodes.len()],
            &path,
            json!({"site_id": site, "count": 1}),
        )
    }))
    .await;
    let admitted = arrivals.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(admitted, 50, "{arrivals:?}");
    for (status, body) in arrivals.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, &body["code"]), (409, &json!("capacity_reached")));
    }
    let read = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(read.ok(200)["sites"][0]["present"], 50);
}

#[actix_web::test]
async fn plans_entering_by_every_node_book_a_candidate_once() {
    let app = spawn_app().await;
    let nodes = instances(&app);
    let election = app.election().await;
    let s = app.setup(election).await;
    // Rule 2: one candidate planned into twelve meetings at the same hour, by every node.
    let plans = app.plans_of_one_candidate_at_one_hour(&s, 12).await;
    let planned = join_all(
        plans
            .into_iter()
            .enumerate()
            .map(|(i, body)| post(&app, &nodes[i % nodes.len()], "/meetings", body)),
    )
    .await;
    let created = planned.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{planned:?}");
    for (status, body) in planned.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(
            (*status, &body["code"]),
            (409, &json!("candidate_conflict"))
        );
    }
    assert_eq!(app.double_bookings(), (0, 0));
}
