//! Delivery under faults (rule 12, SPEC §7): an SMTP outage loses nothing and sends nothing
//! twice; workers share the outbox; one bad email never blocks the others; a dead worker's
//! emails are taken over by a live one within seconds; a failed email can be sent again.
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::RunQueryDsl;
use mailin_embedded::{response, Handler, Response, Server, SslConfig};
use serde_json::{json, Value};
use uuid::Uuid;
use voter_meetings::config::Settings;
use voter_meetings::domain::kinds::Role;
use voter_meetings::email::worker::Worker;
use voter_meetings::startup::Application;

use super::{
    drained, morning, outbox, outbox_until, parse_mail, queue_schedule, scene, sent, sql, uuid_of,
};
use crate::helpers::TestApp;
use crate::smtp_sink::{free_port, SmtpSink};

/// An SMTP server that refuses some recipients permanently (550), and may take a message and
/// then never answer (a server that hangs, or a worker killed before it heard back).
#[derive(Clone)]
struct Scripted {
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    current: Vec<u8>,
    refuse: Arc<Vec<String>>,
    hang: bool,
}

impl Handler for Scripted {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.refuse.iter().any(|r| to.contains(r.as_str())) {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.current.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = std::mem::take(&mut self.current);
        self.received.lock().expect("lock").push(message);
        if self.hang {
            // Never answer: the sender waits until it times out or is killed.
            loop {
                std::thread::park();
            }
        }
        response::OK
    }
}

struct ScriptedServer {
    port: u16,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl ScriptedServer {
    fn start(refuse: &[&str], hang: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Scripted {
            received: received.clone(),
            current: Vec::new(),
            refuse: Arc::new(refuse.iter().map(|r| (*r).to_owned()).collect()),
            hang,
        });
        server
            .with_name("scripted.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_num_threads(16)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(e) = server.serve() {
                eprintln!("scripted SMTP server stopped: {e}");
            }
        });
        Self { port, received }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn message_ids(&self) -> Vec<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|raw| parse_mail(raw).message_id)
            .collect()
    }
}

/// A delivery worker of its own (as another instance would run), with `configure` applied to
/// the app's settings; stopped by dropping the sender, or killed by aborting the task.
fn worker(
    app: &TestApp,
    configure: impl FnOnce(&mut Settings),
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let mut settings = app.settings.clone();
    configure(&mut settings);
    let pools = voter_meetings::startup::pools(&settings);
    let worker = Worker::new(pools.main, &settings).expect("worker");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move { worker.run(stopped).await });
    (stop, task)
}

async fn fan_out(app: &TestApp, election: Uuid) -> usize {
    let answer = app
        .post(
            &format!("/elections/{election}/schedule-emails"),
            &app.admin,
            json!(null),
        )
        .await;
    answer.ok(202)["queued"].as_u64().expect("queued") as usize
}

/// `(status, attempts, last_error)` of every email, by recipient.
async fn states(app: &TestApp) -> HashMap<String, (String, i64, Option<String>)> {
    outbox(app, "")
        .await
        .into_iter()
        .map(|r| {
            (
                r["recipient"].as_str().expect("recipient").to_owned(),
                (
                    r["status"].as_str().expect("status").to_owned(),
                    r["attempts"].as_i64().expect("attempts"),
                    r["last_error"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

#[actix_web::test]
async fn one_bad_email_never_blocks_the_others() {
    let server = ScriptedServer::start(&["refused@example.vn"], false);
    // The app queues; a worker started once everything is queued takes it all in one batch.
    let s = scene(|settings| settings.outbox.enabled = false).await;
    for (day, (name, email)) in [
        ("Phạm Minh Tuấn", "tuan@example.vn"),
        ("Võ Thị Sáu", "sau@example.vn"),
        ("Người Bị Từ Chối", "refused@example.vn"),
        ("Đặng Văn Ngữ", "ngu@example.vn"),
    ]
    .into_iter()
    .enumerate()
    {
        let c = s.candidate(name, email, "vi").await;
        s.meeting(
            &format!("Tiếp xúc cử tri cùng {name}"),
            morning(3 + day as i64),
            &[c],
        );
    }
    assert_eq!(fan_out(&s.app, s.election).await, 4);
    // Written before the text rules: a name with a line break (that once panicked the
    // worker with "a Display implementation returned an error unexpectedly"), due first.
    let poison = Uuid::now_v7();
    sql(
        &s.app,
        &format!(
            "INSERT INTO outbox (id, province_id, kind, recipient, recipient_name, subject,
                                 body_text, body_html, next_attempt_at)
             SELECT '{poison}', province_id, 'schedule', 'evil@example.vn',
                    E'Evil\\r\\nBcc: x@y.vn', subject, body_text, body_html,
                    now() - interval '1 minute'
               FROM outbox LIMIT 1"
        ),
    );

    let (stop, task) = worker(&s.app, |settings| settings.smtp_url = Some(server.url()));
    drained(&s.app).await;
    let states = states(&s.app).await;
    for good in ["tuan@example.vn", "sau@example.vn", "ngu@example.vn"] {
        assert_eq!(states[good].0, "sent", "{good}: {:?}", states[good]);
    }
    let (status, attempts, error) = &states["refused@example.vn"];
    assert_eq!((status.as_str(), *attempts), ("failed", 1));
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("refused permanently") && e.contains("550")),
        "{error:?}"
    );
    let (status, attempts, error) = &states["evil@example.vn"];
    assert_eq!((status.as_str(), *attempts), ("failed", 1));
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("recipient name")),
        "{error:?}"
    );
    assert_eq!(
        server.message_ids().len(),
        3,
        "the refused and the poison never left"
    );
    assert!(!task.is_finished(), "the worker is still delivering");

    // An admin sends the refused email again: back to pending, attempts kept, audited; the
    // server still refuses it, so it fails again on its second attempt.
    let refused = outbox(&s.app, "recipient=refused@example.vn").await[0]["id"].clone();
    let refused = uuid_of(&refused);
    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    let retry = format!("/outbox/{refused}/retry");
    s.app
        .post(&retry, &organizer, json!(null))
        .await
        .problem(403, "forbidden");
    let again = s.app.post(&retry, &s.app.admin, json!(null)).await;
    assert_eq!(again.ok(200)["status"], "pending");
    assert_eq!(again.body["attempts"], 1);
    let state = outbox_until(&s.app, refused, |v| v["attempts"] == 2).await;
    assert_eq!(state["status"], "failed");
    let outcomes: Vec<&Value> = state["delivery_attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["outcome"])
        .collect();
    assert_eq!(outcomes, vec![&json!("failed"), &json!("failed")]);
    let audit = s
        .app
        .get(&format!("/audit?entity_id={refused}"), &s.app.admin)
        .await;
    assert_eq!(audit.ok(200)["items"][0]["action"], "retry_email");
    assert_eq!(
        audit.body["items"][0]["before"],
        json!({"status": "failed", "attempts": 1})
    );
    let delivered = outbox(&s.app, "recipient=tuan@example.vn").await[0]["id"].clone();
    s.app
        .post(
            &format!("/outbox/{}/retry", uuid_of(&delivered)),
            &s.app.admin,
            json!(null),
        )
        .await
        .problem(409, "email_not_failed");
    s.app
        .post(
            &format!("/outbox/{}/retry", Uuid::now_v7()),
            &s.app.admin,
            json!(null),
        )
        .await
        .problem(404, "not_found");

    stop.send(true).expect("worker listening");
    task.await.expect("the worker stops cleanly");
}

#[actix_web::test]
async fn a_dead_workers_emails_are_taken_over_by_a_live_one_with_the_same_message_id() {
    // Takes each message and never confirms it: the first worker dies with sends unrecorded.
    let hanging = ScriptedServer::start(&[], true);
    let sink = SmtpSink::start();
    let s = scene(|settings| settings.outbox.enabled = false).await;
    for n in 0..20 {
        s.candidate(
            &format!("Ứng cử viên số {n}"),
            &format!("ucv{n}@example.vn"),
            "vi",
        )
        .await;
    }
    assert_eq!(fan_out(&s.app, s.election).await, 20);

    let (_stop_a, first) = worker(&s.app, |settings| {
        settings.smtp_url = Some(hanging.url());
        settings.outbox.batch_size = 10;
    });
    // Eight sends in flight (the worker's concurrency), ten rows claimed.
    for _ in 0..600 {
        if hanging.message_ids().len() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let in_flight: HashSet<String> = hanging.message_ids().into_iter().collect();
    assert_eq!(in_flight.len(), 8);
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let claimed: Vec<Count> = diesel::sql_query(
        "SELECT count(*) AS n FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL",
    )
    .load(&mut s.app.conn())
    .expect("count");
    assert_eq!(claimed[0].n, 10);

    // A second instance is delivering when the first one is killed (no clean stop, no
    // outcome recorded, its heartbeat ends).
    let (stop_b, second) = worker(&s.app, |settings| settings.smtp_url = Some(sink.url()));
    first.abort();
    drained(&s.app).await;

    let rows = outbox(&s.app, "").await;
    assert_eq!(rows.len(), 20);
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row}");
        assert_eq!(
            row["attempts"], 1,
            "the dead worker recorded nothing: {row}"
        );
    }
    let ids: HashSet<String> = rows
        .iter()
        .map(|r| format!("{}@voter-meetings", r["id"].as_str().expect("id")))
        .collect();
    let delivered = sink.messages();
    let delivered_ids: Vec<String> = delivered
        .iter()
        .map(|raw| parse_mail(raw).message_id)
        .collect();
    let distinct: HashSet<String> = delivered_ids.iter().cloned().collect();
    assert_eq!(
        delivered_ids.len(),
        20,
        "each email once by the live worker"
    );
    assert_eq!(distinct, ids, "nothing lost");
    assert!(
        in_flight.is_subset(&ids),
        "the unrecorded sends were repeated with the same Message-ID"
    );
    stop_b.send(true).expect("worker listening");
    second.await.expect("the live worker stops cleanly");
}

#[actix_web::test]
async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice() {
    let port = free_port();
    let s = scene(|settings| settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let mut queued = Vec::new();
    for (name, email) in [
        ("Phạm Minh Tuấn", "tuan@example.vn"),
        ("Võ Thị Sáu", "sau@example.vn"),
        ("Đặng Văn Ngữ", "ngu@example.vn"),
    ] {
        let candidate = s.candidate(name, email, "vi").await;
        s.meeting(
            &format!("Tiếp xúc cử tri cùng {name}"),
            morning(3 + queued.len() as i64),
            &[candidate],
        );
        queued.push(queue_schedule(&s.app, candidate).await);
    }

    // Nothing listens: each email stays pending, with the failed attempt on record.
    for id in &queued {
        let state = outbox_until(&s.app, *id, |v| v["attempts"].as_i64() >= Some(1)).await;
        assert_eq!(state["status"], "pending");
        assert!(
            state["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{state}"
        );
        assert_eq!(state["delivery_attempts"][0]["outcome"], "retry");
        assert!(state["sent_at"].is_null());
    }

    // The server comes back on the same port: every email arrives, once.
    let sink = SmtpSink::start_on(port);
    for id in &queued {
        let state = sent(&s.app, *id).await;
        let attempts = state["delivery_attempts"].as_array().expect("attempts");
        assert_eq!(attempts.last().map(|a| &a["outcome"]), Some(&json!("sent")));
        assert!(attempts[..attempts.len() - 1]
            .iter()
            .all(|a| a["outcome"] == "retry"));
        assert_eq!(state["attempts"].as_u64(), Some(attempts.len() as u64));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for raw in sink.messages() {
        *seen.entry(parse_mail(&raw).message_id).or_default() += 1;
    }
    let expected: HashMap<String, usize> = queued
        .iter()
        .map(|id| (format!("{id}@voter-meetings"), 1))
        .collect();
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn two_instances_on_one_database_never_send_the_same_email_twice() {
    let sink = SmtpSink::start();
    let url = sink.url();
    // Small batches make the two workers contend for the same rows.
    let s = scene(|settings| {
        settings.smtp_url = Some(url);
        settings.outbox.batch_size = 3;
    })
    .await;
    let second = Application::build(
        s.app.settings.clone(),
        voter_meetings::startup::pools(&s.app.settings),
        voter_meetings::app::Clock::system(),
    )
    .expect("second instance");
    actix_web::rt::spawn(second.run_until_stopped());

    for n in 0..24 {
        s.candidate(
            &format!("Ứng cử viên số {n}"),
            &format!("ucv{n}@example.vn"),
            "vi",
        )
        .await;
    }
    assert_eq!(fan_out(&s.app, s.election).await, 24);
    drained(&s.app).await;

    let rows = outbox(&s.app, "status=sent").await;
    assert_eq!(rows.len(), 24);
    // Every email was tried once, by one worker, and recorded: no other attempt is or was
    // in flight, so none can still arrive.
    #[derive(diesel::QueryableByName)]
    struct Tries {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        tries: i64,
    }
    let tries: Vec<Tries> =
        diesel::sql_query("SELECT count(*) AS tries FROM outbox_attempts GROUP BY outbox_id")
            .load(&mut s.app.conn())
            .expect("attempts");
    assert_eq!(tries.len(), 24);
    assert!(tries.iter().all(|t| t.tries == 1));
    let ids: Vec<String> = sink
        .messages()
        .iter()
        .map(|raw| parse_mail(raw).message_id)
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (24, 24));
}
